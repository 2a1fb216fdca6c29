#pragma once
/// troupe::future<T> and troupe::promise<T>: the result of an ask.
///
/// A future is completed exactly once, by its promise, with a value or an
/// error. A promise destroyed without completing fails its future with
/// errc::broken_promise, so a waiter never hangs on a lost producer.
/// Waiting blocks the calling thread (it watches the state for up to 20 us,
/// then sleeps); on a pool worker thread that would stall the pool, so
/// get()/wait() there throw errc::would_block_worker unless the future is
/// already ready (use then(), or co_await).
///
/// Memory ordering: completion happens-before any get()/then() continuation
/// that observes it. future and promise objects themselves are not shared:
/// one thread uses each object (the shared state is thread-safe).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "troupe/actors/detail/cpu_relax.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/thread_annotations.hpp"
#include "troupe/actors/detail/unique_function.hpp"
#include "troupe/actors/error.hpp"

namespace troupe {

template <class T>
class future;
template <class T>
class promise;

namespace detail {

class state_base {
 public:
  state_base() = default;
  state_base(const state_base&) = delete;
  state_base& operator=(const state_base&) = delete;

  [[nodiscard]] bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

  void wait() const {
    if (ready() || spin_until_ready(kWaitSpin)) return;
    unique_lock lk(mu_);
    cv_.wait(lk.native(), [&] { return ready_.load(std::memory_order_relaxed); });
  }

  template <class Clock, class Dur>
  bool wait_until(std::chrono::time_point<Clock, Dur> deadline) const {
    if (ready()) return true;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
    if (left.count() > 0 && spin_until_ready(std::min<std::chrono::nanoseconds>(left, kWaitSpin))) {
      return true;
    }
    unique_lock lk(mu_);
    return cv_.wait_until(lk.native(), deadline,
                          [&] { return ready_.load(std::memory_order_relaxed); });
  }

  /// Watches ready() for up to `d` before the caller sleeps: a reply from
  /// an actor on another core, or from a child process, often comes within
  /// microseconds, and sleeping on the condition variable adds a futex
  /// wake-up and a context switch to that latency. At most one waiting
  /// thread per core spins; the others sleep at once.
  [[nodiscard]] bool spin_until_ready(std::chrono::nanoseconds d) const noexcept {
    static const int max_spinners =
        std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    static std::atomic<int> spinners{0};
    bool done = false;
    if (spinners.fetch_add(1, std::memory_order_relaxed) < max_spinners) {
      const auto until = std::chrono::steady_clock::now() + d;
      do {
        for (int i = 0; i < 32 && !done; ++i) {
          cpu_relax();
          done = ready();
        }
      } while (!done && std::chrono::steady_clock::now() < until);
    }
    spinners.fetch_sub(1, std::memory_order_relaxed);
    return done;
  }
  static constexpr std::chrono::nanoseconds kWaitSpin = std::chrono::microseconds(20);

  /// Runs `f` once the state is complete: now if it is, else on the thread
  /// that completes it.
  void on_complete(unique_function<void()> f) {
    {
      lock_guard lk(mu_);
      if (!ready_.load(std::memory_order_relaxed)) {
        cont_ = std::move(f);
        return;
      }
    }
    f();
  }

  void set_exception(std::exception_ptr e) {
    complete([&] { error_ = std::move(e); });
  }

  // A troupe error is stored as code and text and thrown as a fresh
  // troupe::error on the consuming thread: copies of std::runtime_error
  // share a reference-counted message buffer whose count libstdc++ keeps
  // outside ThreadSanitizer's view.
  void set_error(errc code, std::string what) {
    // errc{} is "no error" here: a code that is not an enumerator still
    // makes the future fail, never look like a value that was never set.
    if (!is_errc(static_cast<int>(code))) {
      what =
          "error code " + std::to_string(static_cast<int>(code)) + " (not a troupe::errc): " + what;
      code = errc::invalid_argument;
    }
    complete([&] {
      code_ = code;
      what_ = std::move(what);
    });
  }

 protected:
  ~state_base() = default;

  /// Stores the result via `store` and wakes waiters; false if already complete.
  template <class Store>
  bool complete(Store&& store) {
    unique_function<void()> cont;
    {
      lock_guard lk(mu_);
      if (ready_.load(std::memory_order_relaxed)) return false;
      store();
      ready_.store(true, std::memory_order_release);
      cont = std::move(cont_);
    }
    cv_.notify_all();
    if (cont) cont();
    return true;
  }

  // Moves the error out before throwing it, so the exception object's last
  // reference is dropped on the consuming thread (the refcount of
  // std::exception_ptr lives in uninstrumented libstdc++, which
  // ThreadSanitizer cannot see across threads).
  void rethrow_if_error() {
    if (error_) {
      std::exception_ptr e = std::move(error_);
      error_ = nullptr;
      std::rethrow_exception(std::move(e));
    }
    if (code_ != errc{}) throw error(code_, what_);
  }

 private:
  mutable mutex mu_;
  mutable std::condition_variable cv_;
  std::atomic<bool> ready_{false};
  std::exception_ptr error_;  // written once under mu_, read after ready_
  errc code_{};               // likewise; errc{} means no troupe error
  std::string what_;          // likewise
  unique_function<void()> cont_ TROUPE_GUARDED_BY(mu_);
};

template <class T>
class state final : public state_base {
 public:
  template <class... A>
  void set_value(A&&... a) {
    complete([&] { value_.emplace(std::forward<A>(a)...); });
  }
  T take() {
    rethrow_if_error();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;  // written once under mu_, read after ready_
};

template <>
class state<void> final : public state_base {
 public:
  void set_value() {
    complete([] {});
  }
  void take() { rethrow_if_error(); }
};

[[noreturn]] void throw_no_state(const char* op);
[[noreturn]] void throw_would_block(const char* op);
[[noreturn]] void throw_timeout(const char* op, std::chrono::nanoseconds d);

template <class T>
struct is_future : std::false_type {};
template <class T>
struct is_future<future<T>> : std::true_type {};

}  // namespace detail

/// The eventual result of an asynchronous operation (an ask, a then()).
/// Move-only; get() may be called once.
template <class T>
class future {
 public:
  using value_type = T;

  future() = default;
  future(future&&) noexcept = default;
  future& operator=(future&&) noexcept = default;
  future(const future&) = delete;
  future& operator=(const future&) = delete;

  /// False for a default-constructed, moved-from or consumed future.
  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }

  /// True once a value or an error is there; never blocks.
  [[nodiscard]] bool ready() const noexcept { return state_ && state_->ready(); }

  /// Blocks until ready. Throws errc::would_block_worker on a pool worker
  /// thread if not ready yet.
  void wait() const {
    check("future::wait");
    if (!state_->ready()) {
      if (detail::on_pool_worker()) detail::throw_would_block("future::wait");
      state_->wait();
    }
  }

  /// Blocks up to `d`; true if ready.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) const {
    check("future::wait_for");
    if (state_->ready()) return true;
    if (detail::on_pool_worker()) detail::throw_would_block("future::wait_for");
    return state_->wait_until(std::chrono::steady_clock::now() + d);
  }

  /// Waits, then returns the value or throws the error (a troupe::error for
  /// troupe failures). Consumes the future.
  T get() {
    wait();
    auto s = std::move(state_);
    return s->take();
  }

  /// As get(), but throws troupe::error(errc::timeout) if no result arrives
  /// within `d`; the future stays valid after a timeout.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> d) {
    if (!wait_for(d)) {
      detail::throw_timeout("future::get", std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }
    auto s = std::move(state_);
    return s->take();
  }

  /// Calls `f(future<T>)` with this future once it is ready, on the thread
  /// that completes it (or now, if ready). Returns a future of f's result; an
  /// exception thrown by f fails that future. Consumes this future.
  /// Inside an actor, prefer actor::when_ready(), which runs f as a message.
  template <class F>
  requires std::is_invocable_v<F, future<T>>
  auto then(F f) -> future<std::invoke_result_t<F, future<T>>> {
    using R = std::invoke_result_t<F, future<T>>;
    check("future::then");
    auto [p, result] = make_promise_pair<R>();
    auto s = state_;
    s->on_complete([st = std::move(state_), fn = std::move(f), pr = std::move(p)]() mutable {
      future<T> ready_future(std::move(st));
      try {
        if constexpr (std::is_void_v<R>) {
          fn(std::move(ready_future));
          pr.set_value();
        } else {
          pr.set_value(fn(std::move(ready_future)));
        }
      } catch (...) {
        pr.set_exception(std::current_exception());
      }
    });
    return std::move(result);
  }

  /// For awaiters and adapters: registers `f` to run on completion without
  /// consuming the future.
  void on_complete(detail::unique_function<void()> f) {
    check("future::on_complete");
    state_->on_complete(std::move(f));
  }

 private:
  template <class U>
  friend class promise;
  template <class U>
  friend class future;
  template <class R>
  static std::pair<promise<R>, future<R>> make_promise_pair() {
    promise<R> p;
    future<R> f = p.get_future();
    return {std::move(p), std::move(f)};
  }

  explicit future(std::shared_ptr<detail::state<T>> s) : state_(std::move(s)) {}
  void check(const char* op) const {
    if (!state_) detail::throw_no_state(op);
  }

  std::shared_ptr<detail::state<T>> state_;
};

/// The producing side of a future. Move-only. Destroying a promise that was
/// never completed fails its future with errc::broken_promise.
template <class T>
class promise {
 public:
  promise() : state_(std::make_shared<detail::state<T>>()) {}
  promise(promise&&) noexcept = default;
  promise& operator=(promise&& o) noexcept {
    if (this != &o) {
      abandon();
      state_ = std::move(o.state_);
      retrieved_ = o.retrieved_;
    }
    return *this;
  }
  promise(const promise&) = delete;
  promise& operator=(const promise&) = delete;
  ~promise() { abandon(); }

  /// The future of this promise; may be called once.
  future<T> get_future() {
    if (!state_ || retrieved_) detail::throw_no_state("promise::get_future");
    retrieved_ = true;
    return future<T>(state_);
  }

  /// Completes with a value. A second completion is ignored.
  template <class... A>
  void set_value(A&&... a) {
    if (state_) state_->set_value(std::forward<A>(a)...);
  }

  /// Completes with an error. A second completion is ignored.
  void set_exception(std::exception_ptr e) {
    if (state_) state_->set_exception(std::move(e));
  }

  /// Completes with troupe::error(code, what).
  void set_error(errc code, std::string what) {
    if (state_) state_->set_error(code, std::move(what));
  }

 private:
  void abandon() noexcept {
    if (state_ && !state_->ready()) {
      try {
        state_->set_error(errc::broken_promise, "promise: destroyed without a result");
      } catch (...) {  // allocation failure: nothing better to do
      }
    }
    state_.reset();
  }

  std::shared_ptr<detail::state<T>> state_;
  bool retrieved_ = false;
};

/// A future that is already complete with `v`.
template <class T>
future<std::decay_t<T>> make_ready_future(T&& v) {
  promise<std::decay_t<T>> p;
  auto f = p.get_future();
  p.set_value(std::forward<T>(v));
  return f;
}

/// A future<void> that is already complete.
inline future<void> make_ready_future() {
  promise<void> p;
  auto f = p.get_future();
  p.set_value();
  return f;
}

}  // namespace troupe
