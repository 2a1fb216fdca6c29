#pragma once
/// troupe::timer: the handle of a delayed or periodic send.

#include <atomic>
#include <memory>
#include <mutex>

namespace troupe {

namespace detail {
struct timer_state {
  std::mutex fire_mu;  // held while firing, and by cancel()
  std::atomic<bool> cancelled{false};
  std::atomic<bool> finished{false};  // one-shot fired, or periodic stopped
};
}  // namespace detail

/// Cancels a pending send_after/send_every. Copyable; copies refer to the
/// same timer. Dropping the handle does not cancel the timer.
/// @threadsafe
class timer {
 public:
  timer() = default;
  explicit timer(std::shared_ptr<detail::timer_state> s) noexcept : s_(std::move(s)) {}

  /// Stops the timer: once cancel() returns, it sends nothing more (a
  /// firing in progress completes first), and a message it sent that is
  /// still queued is dropped when its turn comes: no handler sees it.
  /// Idempotent.
  void cancel() noexcept {
    if (!s_) return;
    std::lock_guard lk(s_->fire_mu);
    s_->cancelled.store(true, std::memory_order_release);
  }

  /// True while the timer may still fire.
  [[nodiscard]] bool active() const noexcept {
    return s_ && !s_->cancelled.load(std::memory_order_acquire) &&
           !s_->finished.load(std::memory_order_acquire);
  }

 private:
  std::shared_ptr<detail::timer_state> s_;
};

}  // namespace troupe
