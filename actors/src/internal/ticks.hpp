#pragma once
// A cheap clock for per-actor time in handlers: the time-stamp counter on
// x86 (constant and invariant on the CPUs troupe runs on, about 20 cycles a
// read), steady_clock elsewhere. Read twice per handler batch, not per
// message; converted to nanoseconds only when someone looks.

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace troupe::detail {

[[nodiscard]] inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

/// Nanoseconds per tick, measured once against steady_clock (the first call
/// takes about 10 ms). @threadsafe
[[nodiscard]] double ns_per_tick() noexcept;

}  // namespace troupe::detail
