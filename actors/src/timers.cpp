#include "internal/timers.hpp"

#include <vector>

#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/error.hpp"

namespace troupe::detail {

timer_service::timer_service(bool manual) : manual_(manual) {
  // A virtual clock starts at an arbitrary but fixed point, so traces of a
  // test_system do not depend on when they ran.
  virtual_now_ = clock::time_point(std::chrono::hours(1));
  if (!manual_) thread_ = std::thread([this] { run(); });
}

timer_service::~timer_service() { stop(); }

timer_service::clock::time_point timer_service::now() const {
  if (!manual_) return clock::now();
  lock_guard lk(mu_);
  return virtual_now_;
}

timer timer_service::add(std::chrono::nanoseconds delay, std::chrono::nanoseconds period,
                         unique_function<bool()> fire, bool internal,
                         std::shared_ptr<timer_state> state) {
  if (!state) state = std::make_shared<timer_state>();
  auto fn = std::make_shared<unique_function<bool()>>(std::move(fire));
  bool wake = false;
  {
    lock_guard lk(mu_);
    if (stopping_ || (user_closed_ && !internal)) {
      throw error(errc::system_shutdown, "send_after/send_every: system is shut down");
    }
    const auto when = (manual_ ? virtual_now_ : clock::now()) + delay;
    wake = heap_.empty() || when < heap_.top().when;
    heap_.push(entry{when, seq_++, period, state, std::move(fn), internal});
  }
  if (wake && !manual_) cv_.notify_one();
  return timer(std::move(state));
}

std::size_t timer_service::cancel_user() {
  std::size_t dropped = 0;
  {
    lock_guard lk(mu_);
    user_closed_ = true;
    std::vector<entry> keep;
    while (!heap_.empty()) {
      entry e = heap_.top();
      heap_.pop();
      if (e.internal) {
        keep.push_back(std::move(e));
        continue;
      }
      if (!e.state->cancelled.load(std::memory_order_relaxed)) ++dropped;
      e.state->finished.store(true, std::memory_order_release);
    }
    for (auto& e : keep) heap_.push(std::move(e));
  }
  if (!manual_) cv_.notify_one();
  return dropped;
}

std::size_t timer_service::stop() {
  std::size_t dropped = 0;
  {
    lock_guard lk(mu_);
    if (stopping_ && !thread_.joinable()) return 0;
    stopping_ = true;
    user_closed_ = true;
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

bool timer_service::fire_entry(entry& e) {
  // Under the timer's own lock, so cancel() waits for a firing in
  // progress and none starts after it. The callback is a non-blocking send.
  std::lock_guard fire_lk(e.state->fire_mu);
  if (e.state->cancelled.load(std::memory_order_relaxed)) return false;
  if (trace::on() && !e.internal) [[unlikely]]
    trace::instant(e.period.count() > 0 ? "timer fire (periodic)" : "timer fire", nullptr, 0);
  try {
    return (*e.fire)() && e.period.count() > 0;
  } catch (...) {  // a send allocates; on failure the timer stops
    return false;
  }
}

void timer_service::rearm(entry e, bool again) {
  const bool open = !stopping_ && (e.internal || !user_closed_);
  if (again && open && !e.state->cancelled.load(std::memory_order_acquire)) {
    // Next deadline from the previous one, so a periodic timer does not drift.
    e.when += e.period;
    const auto now = manual_ ? virtual_now_ : clock::now();
    if (e.when < now) e.when = now + e.period;  // no catch-up burst
    e.seq = seq_++;
    heap_.push(std::move(e));
  } else {
    e.state->finished.store(true, std::memory_order_release);
  }
}

void timer_service::run() {
  trace::name_thread("timers");
  unique_lock lk(mu_);
  while (!stopping_) {
    if (heap_.empty()) {
      cv_.wait(lk.native());
      continue;
    }
    const auto when = heap_.top().when;
    if (clock::now() < when) {
      cv_.wait_until(lk.native(), when);
      continue;
    }
    entry e = heap_.top();
    heap_.pop();
    if (e.state->cancelled.load(std::memory_order_acquire)) {
      e.state->finished.store(true, std::memory_order_release);
      continue;
    }
    lk.unlock();
    const bool again = fire_entry(e);
    lk.lock();
    rearm(std::move(e), again);
  }
}

bool timer_service::fire_due(clock::time_point limit) {
  unique_lock lk(mu_);
  while (!heap_.empty() && heap_.top().when <= limit) {
    entry e = heap_.top();
    heap_.pop();
    if (e.when > virtual_now_) virtual_now_ = e.when;
    if (e.state->cancelled.load(std::memory_order_acquire)) {
      e.state->finished.store(true, std::memory_order_release);
      continue;
    }
    lk.unlock();
    const bool again = fire_entry(e);
    lk.lock();
    rearm(std::move(e), again);
    return true;
  }
  return false;
}

void timer_service::set_now(clock::time_point t) {
  lock_guard lk(mu_);
  if (t > virtual_now_) virtual_now_ = t;
}

std::optional<timer_service::clock::time_point> timer_service::next_deadline() const {
  lock_guard lk(mu_);
  if (heap_.empty()) return std::nullopt;
  return heap_.top().when;
}

}  // namespace troupe::detail
