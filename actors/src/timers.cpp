#include "internal/timers.hpp"

#include "troupe/actors/error.hpp"

namespace troupe::detail {

timer_service::timer_service() : thread_([this] { run(); }) {}

timer_service::~timer_service() { stop(); }

timer timer_service::add(std::chrono::nanoseconds delay, std::chrono::nanoseconds period,
                         unique_function<bool()> fire) {
  auto state = std::make_shared<timer_state>();
  const auto when = clock::now() + delay;
  bool wake = false;
  {
    std::lock_guard lk(mu_);
    if (stopping_) throw error(errc::system_shutdown, "send_after/send_every: system is shut down");
    wake = heap_.empty() || when < heap_.top().when;
    heap_.push(entry{when, seq_++, period, state,
                     std::make_shared<unique_function<bool()>>(std::move(fire))});
  }
  if (wake) cv_.notify_one();
  return timer(std::move(state));
}

std::size_t timer_service::stop() {
  std::size_t dropped = 0;
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !thread_.joinable()) return 0;
    stopping_ = true;
    while (!heap_.empty()) {
      const entry& e = heap_.top();
      if (!e.state->cancelled.load(std::memory_order_relaxed)) ++dropped;
      e.state->finished.store(true, std::memory_order_release);
      heap_.pop();
    }
  }
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  return dropped;
}

void timer_service::run() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    if (heap_.empty()) {
      cv_.wait(lk);
      continue;
    }
    const auto when = heap_.top().when;
    if (clock::now() < when) {
      cv_.wait_until(lk, when);
      continue;
    }
    entry e = heap_.top();
    heap_.pop();
    if (e.state->cancelled.load(std::memory_order_acquire)) {
      e.state->finished.store(true, std::memory_order_release);
      continue;
    }
    lk.unlock();
    bool again = false;
    {
      // Under the timer's own lock, so cancel() waits for a firing in
      // progress and none starts after it. The callback is a non-blocking send.
      std::lock_guard fire_lk(e.state->fire_mu);
      if (!e.state->cancelled.load(std::memory_order_relaxed)) {
        try {
          again = (*e.fire)() && e.period.count() > 0;
        } catch (...) {  // a send allocates; on failure the timer stops
          again = false;
        }
      }
    }
    lk.lock();
    if (again && !stopping_ && !e.state->cancelled.load(std::memory_order_acquire)) {
      // Next deadline from the previous one, so a periodic timer does not drift.
      e.when += e.period;
      if (const auto now = clock::now(); e.when < now) e.when = now + e.period;  // no catch-up burst
      e.seq = seq_++;
      heap_.push(std::move(e));
    } else {
      e.state->finished.store(true, std::memory_order_release);
    }
  }
}

}  // namespace troupe::detail
