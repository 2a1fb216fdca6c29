#pragma once
/// troupe::task<T>: a C++20 coroutine that runs on a troupe system's pool.
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
#include <chrono>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/envelope.hpp"
#include "troupe/actors/detail/waiter.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/actors/timer.hpp"

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

/// The text a troupe::error was built with (what() without ": <message>").
std::string what_arg(const error& e);

/// An exception captured on one thread and rethrown on another. troupe
/// errors travel as code and text (see future.hpp for why); others as an
/// exception_ptr that is moved, so its last reference dies where it is
/// rethrown.
class failure {
 public:
  /// Inside a catch block: records the current exception.
  void capture() noexcept {
    try {
      throw;
    } catch (const error& e) {
      try {
        code_ = e.value();
        what_ = what_arg(e);
      } catch (...) {
        code_ = e.value();
      }
    } catch (...) {
      ptr_ = std::current_exception();
    }
  }
  [[nodiscard]] bool has_value() const noexcept { return code_ != errc{} || ptr_ != nullptr; }
  [[noreturn]] void rethrow() {
    if (ptr_) {
      std::exception_ptr e = std::move(ptr_);
      ptr_ = nullptr;
      std::rethrow_exception(std::move(e));
    }
    throw error(code_, what_);
  }
  template <class T>
  void deliver(promise<T>& p) {
    if (ptr_) {
      std::exception_ptr e = std::move(ptr_);
      ptr_ = nullptr;
      p.set_exception(std::move(e));
    } else {
      p.set_error(code_, std::move(what_));
    }
  }

 private:
  errc code_{};
  std::string what_;
  std::exception_ptr ptr_;
};

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
    if (!h_) throw error(errc::invalid_argument, "co_await task: empty task (moved-from or default)");
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

// ---- co_await future<T> ---------------------------------------------------------

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

// ---- sleep_for / sleep_until / get_stop_token ------------------------------------

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
    const auto delay = std::max(until_ - std::chrono::steady_clock::now(),
                                std::chrono::steady_clock::duration::zero());
    timer_ = add_timer(*ctx->core, std::chrono::ceil<std::chrono::nanoseconds>(delay),
                       std::chrono::nanoseconds{0}, [w = &w_]() {
                         if (w->try_claim(0, wake_reason::timeout)) w->wake();
                         return false;
                       });
    armed_ = true;
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
    // cancel() waits for a firing in progress, so the callback no longer
    // touches w_ once it returns.
    if (armed_) timer_.cancel();
    armed_ = false;
    if (ctx_ != nullptr) ctx_->cancel.disarm(&w_);
    ctx_ = nullptr;
  }

  std::chrono::steady_clock::time_point until_;
  resumer w_;
  timer timer_;
  bool armed_ = false;
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

// ---- roots: system::go() ---------------------------------------------------------

namespace detail {

class task_registry;

/// A root task's entry in its system's registry (which cancels the roots at
/// shutdown). Defined in task.cpp.
struct root_link {
  root_link* prev = nullptr;
  root_link* next = nullptr;
  std::stop_source source{std::nostopstate};
  std::shared_ptr<task_registry> registry;
  bool counted = false;  // linked into the registry (false: shutdown had begun)
};
/// Registers `link`; throws errc::system_shutdown once shutdown has begun.
/// The first registration on a system starts its task reaper.
void register_root(system_core& core, root_link& link);
/// As register_root, but returns false instead of throwing.
bool try_register_root(system_core& core, root_link& link) noexcept;
/// Removes `link` (no-op if it was never registered).
void unregister_root(root_link& link) noexcept;
/// False once the system of a registered root has shut down.
bool registry_alive(const root_link& link) noexcept;

/// The failure of an actor's coroutine handler, handed from the coroutine's
/// last step to the message that drove it, which rethrows it so the actor
/// fails as it would for a plain handler.
inline thread_local std::exception_ptr tl_actor_handler_failure;

/// The context of a root: a task started by go(), an actor's coroutine
/// handler, or a child of when_all/when_any.
class root_context final : public task_context {
 public:
  /// Sets the task's token and registers its one stop callback.
  void set_token(std::stop_token t) noexcept {
    token = std::move(t);
    stop_cb_.emplace(token, fire_slot{&cancel});
  }

  root_link link;
  std::coroutine_handle<> self;
  task_context* parent = nullptr;              // children: the when_all/when_any parent
  void (*on_abandon)(root_context&) noexcept = nullptr;
  void* abandon_arg = nullptr;

  void abandon() noexcept override {
    if (on_abandon != nullptr) {
      on_abandon(*this);  // may destroy this context
    } else if (self) {
      self.destroy();
    }
  }
  [[nodiscard]] bool system_alive() const noexcept override {
    if (parent != nullptr) return parent->system_alive();
    return registry_alive(link);
  }

 private:
  std::optional<std::stop_callback<fire_slot>> stop_cb_;
};

/// The coroutine type of roots: started explicitly, destroys itself at the end.
class root_task {
 public:
  class promise_type : public promise_context {
   public:
    promise_type() noexcept { ctx = &context; }
    promise_type(const promise_type&) = delete;
    promise_type& operator=(const promise_type&) = delete;
    ~promise_type() {
      unregister_root(context.link);
      if (context.actor != nullptr) context.actor->release();
    }

    root_task get_return_object() noexcept {
      context.self = std::coroutine_handle<promise_type>::from_promise(*this);
      return root_task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() { check_unawaited(); }
    void unhandled_exception() noexcept { std::terminate(); }  // root bodies catch everything

    root_context context;

    class start_job final : public job {
     public:
      explicit start_job(promise_type& p) noexcept : p_(&p) {}
      void run_job() noexcept override {
        task_scope scope(&p_->context);
        std::coroutine_handle<promise_type>::from_promise(*p_).resume();
      }

     private:
      promise_type* p_;
    };
    start_job start{*this};
  };

  using handle_type = std::coroutine_handle<promise_type>;

  explicit root_task(handle_type h) noexcept : h_(h) {}
  root_task(root_task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  root_task(const root_task&) = delete;
  root_task& operator=(const root_task&) = delete;
  root_task& operator=(root_task&&) = delete;
  /// Destroys a root that was never started.
  ~root_task() {
    if (h_) h_.destroy();
  }

  [[nodiscard]] promise_type& promise() const noexcept { return h_.promise(); }
  /// Hands the frame over to the scheduler (it destroys itself when done).
  void launch() noexcept {
    auto h = std::exchange(h_, {});
    h.promise().context.resume(h.promise().start);
  }
  /// Runs the root now, on this thread, until its first suspension.
  void run_inline() noexcept {
    auto h = std::exchange(h_, {});
    task_scope scope(&h.promise().context);
    h.resume();
  }

 private:
  handle_type h_;
};

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
    static_assert(is_task_v<task_t>,
                  "troupe::system::go(f): f() must return a troupe::task<T>");
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

// ---- when_all / when_any -----------------------------------------------------------

namespace detail {

// What the children of one when_all/when_any share. Lives in the parent's
// awaiter, which stays alive until the last child has reported.
class join_state {
 public:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  join_state() = default;
  join_state(const join_state&) = delete;
  join_state& operator=(const join_state&) = delete;

  std::atomic<std::size_t> remaining{0};
  std::atomic<bool> failed{false};
  std::atomic<std::size_t> winner{none};
  bool any_mode = false;
  std::stop_source children_stop;
  failure first_failure;  // written by the child that set `failed`
  task_context* parent_ctx = nullptr;

  class resume_parent final : public job {
   public:
    std::coroutine_handle<> h;
    task_context* ctx = nullptr;
    void run_job() noexcept override {
      task_scope scope(ctx);
      h.resume();
    }
  };
  resume_parent parent_job;

  /// A child finished with the current exception (call inside catch).
  void fail(std::size_t index) noexcept {
    if (any_mode) {
      std::size_t expected = none;
      if (winner.compare_exchange_strong(expected, index, std::memory_order_acq_rel)) {
        first_failure.capture();
        failed.store(true, std::memory_order_relaxed);
      }
    } else if (!failed.exchange(true, std::memory_order_acq_rel)) {
      first_failure.capture();
    }
    children_stop.request_stop();
  }
  /// A child finished with a value; true if it is the one to store it.
  bool succeed(std::size_t index) noexcept {
    if (!any_mode) return true;
    std::size_t expected = none;
    if (winner.compare_exchange_strong(expected, index, std::memory_order_acq_rel)) {
      children_stop.request_stop();
      return true;
    }
    return false;
  }
  /// The last action of a child: the last one resumes the parent.
  void child_done() noexcept {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) parent_ctx->resume(parent_job);
  }
};

template <class T>
root_task run_child(task<T> t, join_state* st, std::optional<non_void_t<T>>* slot,
                    std::size_t index) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
      if (st->succeed(index)) slot->emplace();
    } else {
      T v = co_await std::move(t);
      if (st->succeed(index)) slot->emplace(std::move(v));
    }
  } catch (...) {
    st->fail(index);
  }
  st->child_done();
}

// A child runner inside an actor whose actor terminated: it will never be
// resumed, so it is destroyed and reported as failed.
inline void abandon_child(root_context& ctx) noexcept {
  auto* st = static_cast<join_state*>(ctx.abandon_arg);
  ctx.self.destroy();  // destroys ctx too
  try {
    throw error(errc::actor_dead, "when_all/when_any: the actor stopped while the task was suspended");
  } catch (...) {
    st->fail(join_state::none - 1);
  }
  st->child_done();
}

// Armed in the parent's cancel slot while the children run.
class forward_stop final : public cancellable {
 public:
  explicit forward_stop(std::stop_source* target) noexcept : target_(target) {}
  void cancel() noexcept override { target_->request_stop(); }

 private:
  std::stop_source* target_;
};

// Starts the children (one root each) and suspends the parent until all
// have reported.
class join_awaiter_base {
 public:
  join_awaiter_base() = default;
  join_awaiter_base(const join_awaiter_base&) = delete;
  join_awaiter_base& operator=(const join_awaiter_base&) = delete;
  // Leaves the parent's cancel slot if the frame is destroyed while
  // suspended (finish() did not run).
  ~join_awaiter_base() {
    if (parent_ctx_ != nullptr) parent_ctx_->cancel.disarm(&forward_);
  }

 protected:
  template <class P, class Launch>
  bool suspend(std::coroutine_handle<P> h, std::size_t n, Launch&& launch_all) {
    task_context* ctx = context_of(h);
    st_.parent_ctx = ctx;
    st_.parent_job.h = h;
    st_.parent_job.ctx = ctx;
    st_.remaining.store(n + 1, std::memory_order_relaxed);
    if (ctx->cancel.arm(&forward_)) {
      parent_ctx_ = ctx;
    } else {
      st_.children_stop.request_stop();  // the parent is cancelled already
    }
    std::size_t launched = launch_all(ctx);
    if (launched < n) {
      // Out of memory while starting children: the rest count as failed.
      try {
        throw std::bad_alloc();
      } catch (...) {
        st_.fail(launched);
      }
      st_.remaining.fetch_sub(n - launched, std::memory_order_acq_rel);
    }
    // The +1 above is ours: if every child already reported, continue now.
    return st_.remaining.fetch_sub(1, std::memory_order_acq_rel) != 1;
  }

  template <class T>
  bool launch_child(task_context* ctx, task<T>&& t, std::optional<non_void_t<T>>* slot,
                    std::size_t index) noexcept {
    try {
      root_task r = run_child<T>(std::move(t), &st_, slot, index);
      root_context& c = r.promise().context;
      c.core = ctx->core;
      c.actor = ctx->actor;
      c.incarnation = ctx->incarnation;
      if (c.actor != nullptr) c.actor->add_ref();
      c.set_token(st_.children_stop.get_token());
      c.parent = ctx;
      c.on_abandon = &abandon_child;
      c.abandon_arg = &st_;
      r.launch();
      return true;
    } catch (...) {
      return false;
    }
  }

  void finish() {
    if (parent_ctx_ != nullptr) parent_ctx_->cancel.disarm(&forward_);
    parent_ctx_ = nullptr;
    if (st_.failed.load(std::memory_order_acquire)) st_.first_failure.rethrow();
  }

  join_state st_;
  forward_stop forward_{&st_.children_stop};
  task_context* parent_ctx_ = nullptr;  // armed for cancellation while the children run
};

template <class... Ts>
class when_all_awaiter : public join_awaiter_base {
 public:
  explicit when_all_awaiter(task<Ts>... ts) : tasks_(std::move(ts)...) {}

  bool await_ready() const noexcept { return sizeof...(Ts) == 0; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return suspend(h, sizeof...(Ts), [this](task_context* ctx) {
      return launch(ctx, std::index_sequence_for<Ts...>{});
    });
  }
  std::tuple<non_void_t<Ts>...> await_resume() {
    finish();
    return take(std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  std::size_t launch(task_context* ctx, std::index_sequence<I...> /*unused*/) {
    std::size_t n = 0;
    // Stops at the first failure to start (short-circuit of &&).
    (void)((launch_child(ctx, std::move(std::get<I>(tasks_)), &std::get<I>(results_), I) && ++n) &&
           ...);
    return n;
  }
  template <std::size_t... I>
  std::tuple<non_void_t<Ts>...> take(std::index_sequence<I...> /*unused*/) {
    return std::tuple<non_void_t<Ts>...>(std::move(*std::get<I>(results_))...);
  }

  std::tuple<task<Ts>...> tasks_;
  std::tuple<std::optional<non_void_t<Ts>>...> results_;
};

template <class T>
class when_all_range_awaiter : public join_awaiter_base {
 public:
  explicit when_all_range_awaiter(std::vector<task<T>> ts)
      : tasks_(std::move(ts)), results_(tasks_.size()) {}

  bool await_ready() const noexcept { return tasks_.empty(); }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return suspend(h, tasks_.size(), [this](task_context* ctx) {
      std::size_t n = 0;
      for (; n < tasks_.size(); ++n) {
        if (!launch_child(ctx, std::move(tasks_[n]), &results_[n], n)) break;
      }
      return n;
    });
  }
  auto await_resume() {
    finish();
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      std::vector<T> out;
      out.reserve(results_.size());
      for (auto& r : results_) out.push_back(std::move(*r));
      return out;
    }
  }

 private:
  std::vector<task<T>> tasks_;
  std::vector<std::optional<non_void_t<T>>> results_;
};

template <class... Ts>
class when_any_awaiter : public join_awaiter_base {
 public:
  using result_type = std::pair<std::size_t, std::variant<non_void_t<Ts>...>>;

  explicit when_any_awaiter(task<Ts>... ts) : tasks_(std::move(ts)...) { st_.any_mode = true; }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return suspend(h, sizeof...(Ts), [this](task_context* ctx) {
      return launch(ctx, std::index_sequence_for<Ts...>{});
    });
  }
  result_type await_resume() {
    finish();
    return take(std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  std::size_t launch(task_context* ctx, std::index_sequence<I...> /*unused*/) {
    std::size_t n = 0;
    (void)((launch_child(ctx, std::move(std::get<I>(tasks_)), &std::get<I>(results_), I) && ++n) &&
           ...);
    return n;
  }
  template <std::size_t... I>
  result_type take(std::index_sequence<I...> /*unused*/) {
    const std::size_t w = st_.winner.load(std::memory_order_acquire);
    std::optional<result_type> out;
    (void)((w == I ? (out.emplace(I, std::variant<non_void_t<Ts>...>(
                                         std::in_place_index<I>, std::move(*std::get<I>(results_)))),
                      true)
                   : false) ||
           ...);
    return std::move(*out);
  }

  std::tuple<task<Ts>...> tasks_;
  std::tuple<std::optional<non_void_t<Ts>>...> results_;
};

template <class T>
class when_any_range_awaiter : public join_awaiter_base {
 public:
  explicit when_any_range_awaiter(std::vector<task<T>> ts)
      : tasks_(std::move(ts)), results_(tasks_.size()) {
    st_.any_mode = true;
    if (tasks_.empty()) throw error(errc::invalid_argument, "when_any: no tasks");
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return suspend(h, tasks_.size(), [this](task_context* ctx) {
      std::size_t n = 0;
      for (; n < tasks_.size(); ++n) {
        if (!launch_child(ctx, std::move(tasks_[n]), &results_[n], n)) break;
      }
      return n;
    });
  }
  auto await_resume() {
    finish();
    const std::size_t w = st_.winner.load(std::memory_order_acquire);
    if constexpr (std::is_void_v<T>) {
      return w;
    } else {
      return std::pair<std::size_t, T>(w, std::move(*results_[w]));
    }
  }

 private:
  std::vector<task<T>> tasks_;
  std::vector<std::optional<non_void_t<T>>> results_;
};

}  // namespace detail

/// Runs the tasks concurrently (each on the pool, or inside the actor for an
/// actor's coroutine handler) and yields all results as a tuple (`void`
/// becomes std::monostate). Like asyncio.gather: three `sleep_for(100ms)`
/// tasks finish together after ~100 ms. If one throws, the others are
/// cancelled, and the first exception is rethrown once all have finished.
/// Cancelling the awaiting task cancels the children.
template <class... Ts>
task<std::tuple<detail::non_void_t<Ts>...>> when_all(task<Ts>... ts) {
  co_return co_await detail::when_all_awaiter<Ts...>(std::move(ts)...);
}

/// when_all over a vector: `std::vector<T>` in the tasks' order (or void).
template <class T>
task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> when_all(
    std::vector<task<T>> ts) {
  co_return co_await detail::when_all_range_awaiter<T>(std::move(ts));
}

/// Runs the tasks concurrently; the first to finish wins: yields its index
/// and value (or rethrows its exception). The others are cancelled and
/// waited for before this returns.
template <class... Ts>
task<std::pair<std::size_t, std::variant<detail::non_void_t<Ts>...>>> when_any(task<Ts>... ts) {
  static_assert(sizeof...(Ts) > 0, "troupe::when_any: needs at least one task");
  co_return co_await detail::when_any_awaiter<Ts...>(std::move(ts)...);
}

/// when_any over a non-empty vector: yields {index, value} (or the index,
/// for void tasks).
template <class T>
task<std::conditional_t<std::is_void_v<T>, std::size_t, std::pair<std::size_t, T>>> when_any(
    std::vector<task<T>> ts) {
  co_return co_await detail::when_any_range_awaiter<T>(std::move(ts));
}

}  // namespace troupe

#include "troupe/actors/detail/coroutine_handlers.hpp"
