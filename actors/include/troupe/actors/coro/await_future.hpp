#pragma once
/// `co_await future<T>` in a troupe::task: suspends the task (not its
/// thread) until the future is ready. `co_await ref.ask(m)` is this.

#include <coroutine>
#include <memory>
#include <utility>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"

namespace troupe {

namespace detail {

// Shared by the awaiter and the future's continuation, which may run after a
// cancelled awaiter is gone.
class future_waiter final : public coro_waiter {};

template <class T>
class future_awaiter {
 public:
  explicit future_awaiter(future<T>&& f) : f_(std::move(f)) {
    if (!f_.valid()) throw_no_state("co_await future");
  }
  future_awaiter(const future_awaiter&) = delete;
  future_awaiter& operator=(const future_awaiter&) = delete;
  future_awaiter(future_awaiter&&) = delete;
  future_awaiter& operator=(future_awaiter&&) = delete;
  // A frame destroyed while suspended here (an abandoned actor handler)
  // must leave the task's cancel slot before w_ may go away.
  ~future_awaiter() {
    if (ctx_ != nullptr) ctx_->cancel.disarm(w_.get());
  }

  bool await_ready() const noexcept { return f_.ready(); }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    task_context* ctx = context_of(h);
    w_ = std::make_shared<future_waiter>();
    w_->bind(ctx, h);
    w_->set_waiting();
    f_.on_complete([w = w_]() {
      if (w->try_claim(0, wake_reason::ready)) w->wake();
    });
    ctx_ = ctx;
    ctx->arm_cancel(w_.get());
    return w_->park();
  }

  T await_resume() {
    if (ctx_ != nullptr) ctx_->cancel.disarm(w_.get());
    ctx_ = nullptr;
    if (w_ && waiter::reason_of(w_->state()) == wake_reason::cancelled) {
      throw error(errc::cancelled, "co_await future: the task was cancelled");
    }
    return f_.get();
  }

 private:
  future<T> f_;
  std::shared_ptr<future_waiter> w_;
  task_context* ctx_ = nullptr;  // armed for cancellation while suspended
};

}  // namespace detail

/// `co_await f` in a task: suspends until `f` is ready, then yields its
/// value or throws its error. Consumes `f`. Throws errc::cancelled if the
/// task is cancelled first (`f` then completes unobserved).
template <class T>
detail::future_awaiter<T> operator co_await(future<T>&& f) {
  return detail::future_awaiter<T>(std::move(f));
}
template <class T>
detail::future_awaiter<T> operator co_await(future<T>& f) {
  return detail::future_awaiter<T>(std::move(f));
}

}  // namespace troupe
