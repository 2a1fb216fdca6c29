#pragma once
// Small synchronization tools of the channels: a CPU pause, an exponential
// backoff (crossbeam-utils' Backoff), and a test-and-test-and-set spinlock
// for the short critical sections of a channel's slow path.

#include <atomic>
#include <thread>

#include "troupe/actors/detail/cpu_relax.hpp"
#include "troupe/actors/detail/thread_annotations.hpp"

namespace troupe::detail::chan {

using troupe::detail::cpu_relax;

/// Spin 1, 2, 4, ... 64 pauses; snooze() then yields the thread.
class backoff {
 public:
  void spin() noexcept {
    const unsigned n = 1U << (step_ < kSpinLimit ? step_ : kSpinLimit);
    for (unsigned i = 0; i < n; ++i) cpu_relax();
    if (step_ <= kSpinLimit) ++step_;
  }
  void snooze() noexcept {
    if (step_ <= kSpinLimit) {
      for (unsigned i = 0; i < (1U << step_); ++i) cpu_relax();
    } else {
      std::this_thread::yield();
    }
    if (step_ <= kYieldLimit) ++step_;
  }
  /// True once spin() has reached its longest round.
  [[nodiscard]] bool spun() const noexcept { return step_ > kSpinLimit; }
  /// True once snoozing has gone on long enough that blocking is better.
  [[nodiscard]] bool completed() const noexcept { return step_ > kYieldLimit; }

 private:
  static constexpr unsigned kSpinLimit = 6;
  static constexpr unsigned kYieldLimit = 10;
  unsigned step_ = 0;
};

/// A test-and-test-and-set lock for critical sections of a few dozen
/// instructions that never block (no allocation-free guarantee: the
/// unbounded channel's queue may allocate under it).
/// Memory ordering: lock() acquires, unlock() releases.
class TROUPE_CAPABILITY("spinlock") spinlock {
 public:
  void lock() noexcept TROUPE_ACQUIRE() {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      backoff b;
      while (locked_.load(std::memory_order_relaxed)) b.snooze();
    }
  }
  bool try_lock() noexcept TROUPE_TRY_ACQUIRE(true) {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept TROUPE_RELEASE() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace troupe::detail::chan
