#pragma once
/// `system::go(f)` and troupe::task_handle<T>: starting a task as a root on
/// the system's pool, and waiting for, cancelling or dropping it.

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "troupe/actors/coro/await_future.hpp"
#include "troupe/actors/coro/detail/root.hpp"
#include "troupe/actors/coro/failure.hpp"
#include "troupe/actors/coro/task.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/system.hpp"

namespace troupe {

namespace detail {

template <class F>
decltype(auto) invoke_task(F& f, const std::stop_token& token) {
  if constexpr (std::is_invocable_v<F&, std::stop_token>) {
    return std::invoke(f, token);
  } else {
    return std::invoke(f);
  }
}

template <class F>
using task_of_t = decltype(invoke_task(std::declval<F&>(), std::declval<const std::stop_token&>()));

template <class T>
struct task_thunk {
  task<T> t;
  task<T> operator()() { return std::move(t); }
};

template <class T, class F>
root_task run_root(F f, promise<T> p, std::stop_token token) {
  failure fail;
  std::optional<non_void_t<T>> value;
  {
    F fn = std::move(f);  // dies (with the lambda's captures) before the result is published
    try {
      if constexpr (std::is_void_v<T>) {
        co_await invoke_task(fn, token);
        value.emplace();
      } else {
        T v = co_await invoke_task(fn, token);
        value.emplace(std::move(v));
      }
    } catch (...) {
      fail.capture();
    }
  }
  if (fail.has_value()) {
    fail.deliver(p);
  } else if constexpr (std::is_void_v<T>) {
    p.set_value();
  } else {
    p.set_value(std::move(*value));
  }
}

template <class F>
auto go_impl(troupe::system& sys, F&& f) {
  using fn_t = std::decay_t<F>;
  if constexpr (is_task_v<fn_t>) {
    using T = typename fn_t::value_type;
    return go_impl(sys, task_thunk<T>{std::forward<F>(f)});
  } else {
    static_assert(std::is_invocable_v<fn_t&> || std::is_invocable_v<fn_t&, std::stop_token>,
                  "troupe::system::go(f): f must be a troupe::task<T> or a callable returning "
                  "one (optionally taking a std::stop_token)");
    using task_t = std::remove_cvref_t<task_of_t<fn_t>>;
    static_assert(is_task_v<task_t>, "troupe::system::go(f): f() must return a troupe::task<T>");
    using T = typename task_t::value_type;
    promise<T> p;
    future<T> result = p.get_future();
    std::stop_source source;
    root_task root = run_root<T, fn_t>(fn_t(std::forward<F>(f)), std::move(p), source.get_token());
    root_context& ctx = root.promise().context;
    ctx.core = &sys.core();
    ctx.set_token(source.get_token());
    ctx.link.source = source;
    register_root(sys.core(), ctx.link);  // throws during shutdown; ~root_task frees the frame
    root.launch();
    return task_handle<T>(std::move(result), std::move(source));
  }
}

}  // namespace detail

/// The handle of a task started with `system::go()`: wait for its result,
/// cancel it, or drop it (the task keeps running: dropping detaches).
/// Move-only; one thread uses a handle at a time.
template <class T>
class task_handle {
 public:
  task_handle() = default;
  task_handle(future<T> f, std::stop_source s) noexcept
      : future_(std::move(f)), source_(std::move(s)) {}

  /// False once the result was taken (or for a default handle).
  [[nodiscard]] bool valid() const noexcept { return future_.valid(); }
  /// True once the task has finished.
  [[nodiscard]] bool ready() const noexcept { return future_.ready(); }

  /// Blocks until the task finishes and returns its result or rethrows its
  /// exception. Throws errc::would_block_worker on a pool worker if not
  /// finished (co_await the handle there instead).
  T get() { return future_.get(); }
  /// As get(), but throws errc::timeout after `d` (the handle stays valid).
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> d) {
    return future_.get(d);
  }
  void wait() const { future_.wait(); }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) const {
    return future_.wait_for(d);
  }

  /// Asks the task to stop: its pending await throws errc::cancelled.
  /// True if this call made the request. @threadsafe
  bool request_stop() noexcept { return source_.request_stop(); }
  /// The task's stop source (copies share it). @threadsafe
  [[nodiscard]] std::stop_source get_stop_source() const noexcept { return source_; }

  /// Gives up the result; the task keeps running. Dropping the handle does
  /// the same.
  void detach() noexcept {
    future_ = future<T>();
    source_ = std::stop_source(std::nostopstate);
  }

  /// The future of the task's result (consumes the handle's result).
  future<T> take_future() noexcept { return std::move(future_); }

  /// `co_await handle` in another task waits for this task's result.
  friend detail::future_awaiter<T> operator co_await(task_handle&& h) {
    return detail::future_awaiter<T>(std::move(h.future_));
  }
  friend detail::future_awaiter<T> operator co_await(task_handle& h) {
    return detail::future_awaiter<T>(std::move(h.future_));
  }

 private:
  future<T> future_;
  std::stop_source source_{std::nostopstate};
};

}  // namespace troupe
