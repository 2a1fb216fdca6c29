#pragma once
// A CPU pause for spin loops (x86 `pause`, ARM `yield`), shared by the
// scheduler, futures and channels.

#include <thread>

namespace troupe::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#else
  std::this_thread::yield();
#endif
}

}  // namespace troupe::detail
