#pragma once
/// when_all / when_any: run tasks concurrently as children of the awaiting
/// task, and yield all results, or the first.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <new>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "troupe/actors/coro/detail/root.hpp"
#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/coro/failure.hpp"
#include "troupe/actors/coro/task.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/error.hpp"

namespace troupe {

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
      const std::uint64_t t0 = ::troupe::detail::trace::on() ? ::troupe::detail::trace::now() : 0;
      h.resume();
      if (t0 != 0) ::troupe::detail::trace::slice("task resume", nullptr, 0, t0, 0);
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
    throw error(errc::actor_dead,
                "when_all/when_any: the actor stopped while the task was suspended");
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

// The children of a when_all/when_any over arguments: a tuple of tasks and
// of their result slots.
template <class... Ts>
struct tuple_children {
  explicit tuple_children(task<Ts>... ts) : tasks(std::move(ts)...) {}

  [[nodiscard]] static constexpr std::size_t size() noexcept { return sizeof...(Ts); }
  /// Calls `start(task, slot, index)` for each child in order, stopping at
  /// the first that fails to start; returns how many started.
  template <class Start>
  std::size_t launch(Start&& start) {
    return launch(start, std::index_sequence_for<Ts...>{});
  }

  std::tuple<task<Ts>...> tasks;
  std::tuple<std::optional<non_void_t<Ts>>...> results;

 private:
  template <class Start, std::size_t... I>
  std::size_t launch(Start& start, std::index_sequence<I...> /*unused*/) {
    std::size_t n = 0;
    // Stops at the first failure to start (short-circuit of &&).
    (void)((start(std::move(std::get<I>(tasks)), &std::get<I>(results), I) && ++n) && ...);
    return n;
  }
};

// The children of a when_all/when_any over a vector.
template <class T>
struct range_children {
  explicit range_children(std::vector<task<T>> ts) : tasks(std::move(ts)), results(tasks.size()) {}

  [[nodiscard]] std::size_t size() const noexcept { return tasks.size(); }
  template <class Start>
  std::size_t launch(Start&& start) {
    std::size_t n = 0;
    for (; n < tasks.size(); ++n) {
      if (!start(std::move(tasks[n]), &results[n], n)) break;
    }
    return n;
  }

  std::vector<task<T>> tasks;
  std::vector<std::optional<non_void_t<T>>> results;
};

// The awaiter of when_all/when_any over `Children`; the four public forms
// differ only in await_ready and in how await_resume shapes the results.
template <class Children>
class join_awaiter : public join_awaiter_base {
 public:
  template <class... A>
  explicit join_awaiter(bool any_mode, A&&... a) : children_(std::forward<A>(a)...) {
    st_.any_mode = any_mode;
  }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    return suspend(h, children_.size(), [this](task_context* ctx) {
      return children_.launch([this, ctx](auto&& t, auto* slot, std::size_t index) {
        // t is a child task held by the join: each is moved into its launch once.
        // NOLINTNEXTLINE(bugprone-move-forwarding-reference)
        return this->launch_child(ctx, std::move(t), slot, index);
      });
    });
  }

 protected:
  /// After finish(): the index of the child that won (when_any).
  [[nodiscard]] std::size_t winner() const noexcept {
    return st_.winner.load(std::memory_order_acquire);
  }

  Children children_;
};

template <class... Ts>
class when_all_awaiter : public join_awaiter<tuple_children<Ts...>> {
 public:
  explicit when_all_awaiter(task<Ts>... ts)
      : join_awaiter<tuple_children<Ts...>>(false, std::move(ts)...) {}

  bool await_ready() const noexcept { return sizeof...(Ts) == 0; }
  std::tuple<non_void_t<Ts>...> await_resume() {
    this->finish();
    return take(std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  std::tuple<non_void_t<Ts>...> take(std::index_sequence<I...> /*unused*/) {
    return std::tuple<non_void_t<Ts>...>(std::move(*std::get<I>(this->children_.results))...);
  }
};

template <class T>
class when_all_range_awaiter : public join_awaiter<range_children<T>> {
 public:
  explicit when_all_range_awaiter(std::vector<task<T>> ts)
      : join_awaiter<range_children<T>>(false, std::move(ts)) {}

  bool await_ready() const noexcept { return this->children_.tasks.empty(); }
  auto await_resume() {
    this->finish();
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      std::vector<T> out;
      out.reserve(this->children_.results.size());
      for (auto& r : this->children_.results) out.push_back(std::move(*r));
      return out;
    }
  }
};

template <class... Ts>
class when_any_awaiter : public join_awaiter<tuple_children<Ts...>> {
 public:
  using result_type = std::pair<std::size_t, std::variant<non_void_t<Ts>...>>;

  explicit when_any_awaiter(task<Ts>... ts)
      : join_awaiter<tuple_children<Ts...>>(true, std::move(ts)...) {}

  bool await_ready() const noexcept { return false; }
  result_type await_resume() {
    this->finish();
    return take(std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  result_type take(std::index_sequence<I...> /*unused*/) {
    const std::size_t w = this->winner();
    auto& results = this->children_.results;
    std::optional<result_type> out;
    (void)((w == I ? (out.emplace(I, std::variant<non_void_t<Ts>...>(
                                         std::in_place_index<I>, std::move(*std::get<I>(results)))),
                      true)
                   : false) ||
           ...);
    return std::move(*out);
  }
};

template <class T>
class when_any_range_awaiter : public join_awaiter<range_children<T>> {
 public:
  explicit when_any_range_awaiter(std::vector<task<T>> ts)
      : join_awaiter<range_children<T>>(true, std::move(ts)) {
    if (this->children_.tasks.empty()) throw error(errc::invalid_argument, "when_any: no tasks");
  }

  bool await_ready() const noexcept { return false; }
  auto await_resume() {
    this->finish();
    const std::size_t w = this->winner();
    if constexpr (std::is_void_v<T>) {
      return w;
    } else {
      return std::pair<std::size_t, T>(w, std::move(*this->children_.results[w]));
    }
  }
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
