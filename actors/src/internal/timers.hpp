#pragma once
// One timer thread per system: a min-heap of deadlines. Firing a timer runs
// a short callback (a send) on this thread; it never runs user handlers.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "troupe/actors/detail/unique_function.hpp"
#include "troupe/actors/timer.hpp"

namespace troupe::detail {

class timer_service {
 public:
  using clock = std::chrono::steady_clock;

  timer_service();
  ~timer_service();
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  /// `fire` returns true to keep a periodic timer going.
  /// Throws errc::system_shutdown after stop().
  timer add(std::chrono::nanoseconds delay, std::chrono::nanoseconds period,
            unique_function<bool()> fire);

  /// Stops the thread; returns how many pending timers were dropped.
  std::size_t stop();

 private:
  struct entry {
    clock::time_point when;
    std::uint64_t seq;
    std::chrono::nanoseconds period;
    std::shared_ptr<timer_state> state;
    std::shared_ptr<unique_function<bool()>> fire;
  };
  struct later {
    bool operator()(const entry& a, const entry& b) const noexcept {
      return a.when != b.when ? a.when > b.when : a.seq > b.seq;
    }
  };
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<entry, std::vector<entry>, later> heap_;  // guarded by mu_
  std::uint64_t seq_ = 0;                                      // guarded by mu_
  bool stopping_ = false;                                      // guarded by mu_
  std::thread thread_;
};

}  // namespace troupe::detail
