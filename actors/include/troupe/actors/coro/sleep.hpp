#pragma once
/// Awaitables of a troupe::task that need no other task: `sleep_for(d)`,
/// `sleep_until(t)` (on the system's timer; no thread sleeps) and
/// `get_stop_token()` (the task's cancellation token).

#include <chrono>
#include <coroutine>
#include <stop_token>
#include <utility>

#include "troupe/actors/coro/detail/deadline.hpp"
#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/error.hpp"

namespace troupe {

namespace detail {

class sleep_awaiter {
 public:
  explicit sleep_awaiter(std::chrono::steady_clock::time_point until) noexcept : until_(until) {}
  sleep_awaiter(const sleep_awaiter&) = delete;
  sleep_awaiter& operator=(const sleep_awaiter&) = delete;
  sleep_awaiter(sleep_awaiter&&) = delete;
  sleep_awaiter& operator=(sleep_awaiter&&) = delete;
  ~sleep_awaiter() { disarm(); }

  bool await_ready() const noexcept { return false; }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    task_context* ctx = context_of(h);
    if (ctx->token.stop_requested()) {
      cancelled_ = true;
      return false;
    }
    w_.bind(ctx, h);
    w_.set_waiting();
    deadline_.arm(*ctx->core, until_, w_);
    ctx_ = ctx;
    ctx->arm_cancel(&w_);
    return w_.park();
  }

  void await_resume() {
    disarm();
    if (cancelled_ || waiter::reason_of(w_.state()) == wake_reason::cancelled) {
      throw error(errc::cancelled, "sleep_for: the task was cancelled");
    }
  }

 private:
  class resumer final : public coro_waiter {};
  void disarm() noexcept {
    deadline_.cancel();  // waits for a firing in progress
    if (ctx_ != nullptr) ctx_->cancel.disarm(&w_);
    ctx_ = nullptr;
  }

  std::chrono::steady_clock::time_point until_;
  resumer w_;
  deadline_timer deadline_;
  bool cancelled_ = false;
  task_context* ctx_ = nullptr;  // armed for cancellation while suspended
};

class stop_token_awaiter {
 public:
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    token_ = context_of(h)->token;
    return false;
  }
  std::stop_token await_resume() noexcept { return std::move(token_); }

 private:
  std::stop_token token_;
};

}  // namespace detail

/// `co_await sleep_for(d)`: resumes the task after `d` on the system's timer
/// thread; no worker is held meanwhile. Throws errc::cancelled if the task
/// is cancelled first, errc::system_shutdown during shutdown.
template <class Rep, class Period>
detail::sleep_awaiter sleep_for(std::chrono::duration<Rep, Period> d) {
  return detail::sleep_awaiter(std::chrono::steady_clock::now() +
                               std::chrono::ceil<std::chrono::steady_clock::duration>(d));
}

/// `co_await sleep_until(t)`: as sleep_for, until the steady-clock time `t`.
template <class Duration>
detail::sleep_awaiter sleep_until(std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
  return detail::sleep_awaiter(
      std::chrono::time_point_cast<std::chrono::steady_clock::duration>(t));
}

/// `co_await get_stop_token()`: the running task's cancellation token
/// (never suspends).
inline detail::stop_token_awaiter get_stop_token() noexcept { return {}; }

}  // namespace troupe
