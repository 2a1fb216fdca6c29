#pragma once
// deadline_timer: wakes a waiter with wake_reason::timeout at a steady-clock
// time, from the system's timer thread (sleep_for, a select's timeout). No
// thread sleeps meanwhile.

#include <chrono>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/timer.hpp"

namespace troupe::detail {

class deadline_timer {
 public:
  deadline_timer() = default;
  deadline_timer(const deadline_timer&) = delete;
  deadline_timer& operator=(const deadline_timer&) = delete;
  ~deadline_timer() { cancel(); }

  /// At `until` (at once if it has passed), claims `w` for arm 0 with
  /// wake_reason::timeout and wakes it. Throws errc::system_shutdown once
  /// the system's timers are closed. Defined in task.cpp.
  void arm(system_core& core, std::chrono::steady_clock::time_point until, waiter& w);

  /// Once this returns the timer no longer touches the waiter (a firing in
  /// progress completes first). Idempotent.
  void cancel() noexcept {
    if (armed_) timer_.cancel();
    armed_ = false;
  }

 private:
  timer timer_;
  bool armed_ = false;
};

}  // namespace troupe::detail
