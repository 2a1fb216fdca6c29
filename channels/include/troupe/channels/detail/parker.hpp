#pragma once
// Blocking a plain thread: a futex parker per thread, and the waiter that a
// blocked channel operation registers.
//
// parker: the state machine of Rust's std futex parker. unpark() makes the
// next (or current) park() return; park() may also return spuriously, so
// callers wait in a loop on a condition of their own. Each thread uses one
// parker, taken from a process-wide pool and returned at thread exit (never
// freed), so a late unpark() aimed at a thread that already left its wait
// only causes a spurious wake-up, never a use-after-free.
//
// Memory ordering: unpark() is a release, a park() that consumes it an
// acquire; a thread_waiter's result is published by its `woken_` flag.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/channels/detail/sync.hpp"

namespace troupe::detail::chan {

using clock = std::chrono::steady_clock;

class parker {
 public:
  parker() = default;
  parker(const parker&) = delete;
  parker& operator=(const parker&) = delete;

  /// Blocks until unpark() (or spuriously).
  void park() noexcept;
  /// Blocks until unpark(), `deadline` or a spurious wake-up; true if unparked.
  bool park_until(clock::time_point deadline) noexcept;
  /// @threadsafe
  void unpark() noexcept {
    if (state_.exchange(kNotified, std::memory_order_release) == kParked) wake_one();
  }

 private:
  static constexpr std::int32_t kParked = -1;
  static constexpr std::int32_t kEmpty = 0;
  static constexpr std::int32_t kNotified = 1;
  void wake_one() noexcept;

  std::atomic<std::int32_t> state_{kEmpty};
};

/// The calling thread's parker.
parker& this_thread_parker() noexcept;

/// A blocked operation of a plain thread.
class thread_waiter final : public waiter {
 public:
  thread_waiter() noexcept : parker_(&this_thread_parker()) {}
  thread_waiter(const thread_waiter&) = delete;
  thread_waiter& operator=(const thread_waiter&) = delete;
  ~thread_waiter() = default;

  void wake() noexcept override {
    parker* p = parker_;  // read before the store: after it, *this may be gone
    woken_.store(true, std::memory_order_release);
    p->unpark();
  }

  /// Waits until a claimer wakes us, or until `deadline`, where we claim
  /// ourselves with wake_reason::timeout (if nobody was faster). Spins
  /// briefly first: a partner on another core often answers within a few
  /// microseconds. Returns the claimed state word.
  std::uint32_t wait(const std::optional<clock::time_point>& deadline) noexcept;

  /// Before registering again.
  void reset() noexcept { woken_.store(false, std::memory_order_relaxed); }

 private:
  parker* parker_;
  std::atomic<bool> woken_{false};
};

}  // namespace troupe::detail::chan
