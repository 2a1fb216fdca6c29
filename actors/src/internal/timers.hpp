#pragma once
// One timer thread per system: a min-heap of deadlines. Firing a timer runs
// a short callback (a send) on this thread; it never runs user handlers.
//
// A test_system's timer service is manual: no thread, a virtual clock that
// moves only in advance(), which fires the due timers on the caller's
// thread in deadline order.
//
// User timers (send_after, send_every, sleep_for) are cancelled when
// shutdown begins; internal ones (a supervisor's stop timeouts) keep
// working until the end of shutdown, so a tree shutdown can still kill a
// child that ignores its stop request.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <thread>
#include <vector>

#include "troupe/actors/detail/thread_annotations.hpp"
#include "troupe/actors/detail/unique_function.hpp"
#include "troupe/actors/timer.hpp"

namespace troupe::detail {

class timer_service {
 public:
  using clock = std::chrono::steady_clock;

  /// `manual`: no thread; time moves only through fire_due().
  explicit timer_service(bool manual = false);
  ~timer_service();
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  /// `fire` returns true to keep a periodic timer going; `state` is the
  /// timer's state when the caller made it (null: a new one). Throws
  /// errc::system_shutdown after cancel_user() (user timers) or stop().
  timer add(std::chrono::nanoseconds delay, std::chrono::nanoseconds period,
            unique_function<bool()> fire, bool internal = false,
            std::shared_ptr<timer_state> state = nullptr);

  /// Drops the pending user timers and refuses new ones; returns how many
  /// were dropped. Internal timers keep firing.
  std::size_t cancel_user();
  /// Stops the thread and drops everything; returns how many pending
  /// timers were dropped.
  std::size_t stop();

  /// The service's clock: steady_clock, or the virtual clock (manual).
  [[nodiscard]] clock::time_point now() const;

  // Manual mode only (one thread).
  /// Fires the earliest timer due at or before `limit`, moving the virtual
  /// clock to its deadline; false if none is due.
  bool fire_due(clock::time_point limit);
  /// Moves the virtual clock forward to `t` (never backwards).
  void set_now(clock::time_point t);
  /// The earliest pending deadline, if any.
  [[nodiscard]] std::optional<clock::time_point> next_deadline() const;

 private:
  struct entry {
    clock::time_point when;
    std::uint64_t seq;
    std::chrono::nanoseconds period;
    std::shared_ptr<timer_state> state;
    std::shared_ptr<unique_function<bool()>> fire;
    bool internal;
  };
  struct later {
    bool operator()(const entry& a, const entry& b) const noexcept {
      return a.when != b.when ? a.when > b.when : a.seq > b.seq;
    }
  };
  void run();
  /// Fires `e` (popped); true if it is periodic and wants to go on.
  static bool fire_entry(entry& e);
  /// Re-arms `e` after fire_entry() if `again` and still allowed.
  void rearm(entry e, bool again) TROUPE_REQUIRES(mu_);

  const bool manual_;
  mutable mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<entry, std::vector<entry>, later> heap_ TROUPE_GUARDED_BY(mu_);
  std::uint64_t seq_ TROUPE_GUARDED_BY(mu_) = 0;
  bool user_closed_ TROUPE_GUARDED_BY(mu_) = false;
  bool stopping_ TROUPE_GUARDED_BY(mu_) = false;
  clock::time_point virtual_now_ TROUPE_GUARDED_BY(mu_){};  // manual
  std::thread thread_;
};

}  // namespace troupe::detail
