#pragma once
/// troupe::task<T>: a C++20 coroutine that runs on a troupe system's pool.
/// This header holds the task type and its promises; the rest of the
/// coroutine layer is in the other coro/ headers (troupe/actors/task.hpp
/// includes them all).
///
///
/// Limits first:
/// - A task is lazy: nothing runs until it is co_awaited by another task or
///   started with `system::go()`. It is move-only and may be awaited once.
/// - Tasks are cooperative: a task that never awaits keeps its worker. A
///   suspended task costs its frame (a heap allocation), never a thread.
/// - Cancellation is cooperative: `task_handle::request_stop()` (or the
///   stop_token of a `when_all`/`when_any` parent) makes the task's pending
///   await, and every later await that would suspend, throw
///   `troupe::error(errc::cancelled)`. Code between awaits is not interrupted.
/// - At system shutdown the running tasks are cancelled and waited for (up to
///   10 s, then left suspended and reported in the log); `go()` then throws
///   errc::system_shutdown. Tasks must not outlive their system.
///
/// What a task can co_await: another `task<U>` (exceptions propagate to the
/// awaiter), a `troupe::future<U>` (so `ref.ask(m)` too), a `task_handle<U>`,
/// `sleep_for(d)` / `sleep_until(t)` (the system's timer; no thread sleeps),
/// `when_all(...)` / `when_any(...)`, `get_stop_token()`, and the channel
/// operations of troupe::channels.
///
/// Lifetime: `system::go(f)` keeps the callable `f` (and so a lambda's
/// captures) alive until the task finishes. A lambda coroutine called
/// directly (`go(lambda())`) does not: its captures die with the lambda.
///
/// Memory ordering: a task resumed on another worker sees everything that
/// happened before the event that resumed it (the scheduler hand-off is a
/// release/acquire pair). The result of a task happens-before the return of
/// the `co_await` that receives it.

#include <atomic>
#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/handler.hpp"

// g++ 12 emits the resume of a symmetric transfer as a plain call below -O2
// and under AddressSanitizer, so a loop of synchronously completing awaits
// grows the stack without bound. clang always emits a tail call. Elsewhere,
// a child task is started by a nested resume and a hand-off flag decides who
// continues the parent; the stack depth then stays bounded by the nesting
// of tasks, not by the number of awaits.
#if !defined(TROUPE_SYMMETRIC_TRANSFER)
#if defined(__clang__)
#define TROUPE_SYMMETRIC_TRANSFER 1
#else
#define TROUPE_SYMMETRIC_TRANSFER 0
#endif
#endif

namespace troupe {

template <class T = void>
class task;
template <class T>
class task_handle;

namespace detail {

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {};
template <class T>
inline constexpr bool is_task_v = is_task<T>::value;

/// `void` as a value: when_all/when_any results.
template <class T>
using non_void_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// ---- task promises -----------------------------------------------------------

template <class T>
class task_result {
 public:
  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) {
    check_unawaited();
    value_.template emplace<1>(std::forward<U>(v));
  }
  void unhandled_exception() noexcept { value_.template emplace<2>(std::current_exception()); }
  T take() {
    if (value_.index() == 2) {
      std::exception_ptr e = std::move(std::get<2>(value_));
      value_.template emplace<0>();
      std::rethrow_exception(std::move(e));
    }
    return std::move(std::get<1>(value_));
  }

 private:
  std::variant<std::monostate, T, std::exception_ptr> value_;
};

template <>
class task_result<void> {
 public:
  void return_void() { check_unawaited(); }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  void take() {
    if (error_) {
      std::exception_ptr e = std::move(error_);
      error_ = nullptr;
      std::rethrow_exception(std::move(e));
    }
  }

 private:
  std::exception_ptr error_;
};

class task_promise_base : public promise_context {
 public:
  std::coroutine_handle<> continuation;
#if !TROUPE_SYMMETRIC_TRANSFER
  // Set by whichever of {the awaiter returning from await_suspend, the task
  // reaching its final suspend} comes first; the second one continues the
  // awaiting coroutine.
  std::atomic<bool> handoff{false};
#endif

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      task_promise_base& p = h.promise();
#if TROUPE_SYMMETRIC_TRANSFER
      return p.continuation;
#else
      if (p.handoff.exchange(true, std::memory_order_acq_rel)) return p.continuation;
      return std::noop_coroutine();  // the awaiter is still in await_suspend: it continues
#endif
    }
    void await_resume() noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }
};

template <class T>
class task_promise final : public task_promise_base, public task_result<T> {
 public:
  task<T> get_return_object() noexcept;
};

}  // namespace detail

// ---- task<T> -------------------------------------------------------------------

/// A lazy coroutine returning `T`. Start it with `system::go()` or
/// `co_await` it from another task; an exception thrown inside is rethrown
/// by that co_await. Move-only; destroying a task that was never started
/// destroys its frame.
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;
  using handle_type = std::coroutine_handle<promise_type>;

  static_assert(!std::is_reference_v<T>, "troupe::task<T>: T must not be a reference");

  task() noexcept = default;
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  /// False for a default-constructed or moved-from task.
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(h_); }

  class awaiter {
   public:
    explicit awaiter(handle_type h) noexcept : h_(h) {}
    bool await_ready() const noexcept { return false; }
#if TROUPE_SYMMETRIC_TRANSFER
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
      auto& p = h_.promise();
      p.continuation = parent;
      p.ctx = detail::context_of(parent);
      return h_;
    }
#else
    template <class P>
    bool await_suspend(std::coroutine_handle<P> parent) noexcept {
      auto& p = h_.promise();
      p.continuation = parent;
      p.ctx = detail::context_of(parent);
      h_.resume();
      // First to flip the flag: the task is still running and will resume
      // us. Second: it already finished; continue without suspending.
      return !p.handoff.exchange(true, std::memory_order_acq_rel);
    }
#endif
    T await_resume() { return h_.promise().take(); }

   private:
    handle_type h_;
  };

  /// Runs the task (in the awaiting task's context) and yields its result.
  awaiter operator co_await() && {
    if (!h_)
      throw error(errc::invalid_argument, "co_await task: empty task (moved-from or default)");
    return awaiter(h_);
  }

  /// For the runtime: the frame (ownership stays with the task).
  [[nodiscard]] handle_type handle() const noexcept { return h_; }
  explicit task(handle_type h) noexcept : h_(h) {}

 private:
  void reset() noexcept {
    if (h_) std::exchange(h_, {}).destroy();
  }

  handle_type h_;
};

template <class T>
task<T> detail::task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}

namespace detail {
/// `ref.ask(m)` on a coroutine handler `task<T> on(M)` yields future<T>.
template <class T>
struct ask_result<task<T>> {
  using type = T;
};
}  // namespace detail

}  // namespace troupe

// A coroutine handler `task<R> on(M)` needs the send/ask nodes that start
// it; every TU that can name task<R> sees them.
#include "troupe/actors/coro/detail/coroutine_handlers.hpp"
