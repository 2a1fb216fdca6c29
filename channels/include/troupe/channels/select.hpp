#pragma once
/// troupe::select: wait for the first of several channel operations.
///
/// ```cpp
/// troupe::select(rx1.on([](int v) { ... }),         // receive
///                tx2.on(value, [] { ... }),         // send
///                troupe::after(100ms, [] { ... }),  // timeout arm
///                troupe::otherwise([] { ... }));    // default arm
/// ```
///
/// Limits first:
/// - Exactly one arm runs. If several are ready, the pick is uniformly
///   random (no arm starves); the randomness is per thread, and
///   `troupe::seed_select(s)` makes the calling thread's picks repeatable.
/// - At most one `after` and one `otherwise` arm; at most 64 arms.
/// - Same three forms as channel operations: on a plain thread select()
///   blocks and runs the arm's function before returning; in a task,
///   `co_await troupe::select(...)` suspends and runs it on resumption; on a
///   pool worker outside a task, a select that would wait throws
///   errc::would_block_worker.
/// - A receive arm whose channel is closed and drained completes with
///   nullopt if its function takes std::optional<T>; otherwise it is
///   skipped. If every arm is skipped and there is neither `after` nor
///   `otherwise`, select throws errc::channel_closed. A send arm on a closed
///   channel throws errc::channel_closed (as a send does).
/// - In a task, a cancellation while waiting throws errc::cancelled.
///
/// The result (and the value of `co_await`) is the index of the arm that
/// ran, in argument order.
///
/// Lifetime: the channels' handles must outlive the select (it keeps plain
/// pointers to the channels); the arms' functions and a send arm's value
/// live in the select object. Memory ordering: as for the channel
/// operations (a value's sender happens-before the arm that receives it);
/// the arm's function runs on the thread that completes the select.
/// A select object is used by one thread.

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "troupe/channels/channel.hpp"
#include "troupe/channels/detail/select_engine.hpp"

namespace troupe {

/// A receive arm: `rx.on(f)`.
template <class T, class F>
class recv_case {
 public:
  recv_case(detail::chan::channel<T>* ch, F f) : ch_(ch), f_(std::move(f)) {}
  static_assert(std::is_invocable_v<F&, T&&> || std::is_invocable_v<F&, std::optional<T>&&>,
                "troupe::select: a receive arm's function must take T or std::optional<T>");
  static constexpr bool accepts_closed = std::is_invocable_v<F&, std::optional<T>&&>;

  detail::chan::channel<T>* ch_;
  F f_;
};

/// A send arm: `tx.on(value, f)`.
template <class T, class F>
class send_case {
 public:
  send_case(detail::chan::channel<T>* ch, T v, F f)
      : ch_(ch), value_(std::move(v)), f_(std::move(f)) {}
  static_assert(std::is_invocable_v<F&>,
                "troupe::select: a send arm's function takes no arguments");

  detail::chan::channel<T>* ch_;
  T value_;
  F f_;
};

/// A timeout arm: runs `f()` if nothing else completed within `d`.
template <class F>
class after_case {
 public:
  after_case(std::chrono::steady_clock::duration d, F f) : d_(d), f_(std::move(f)) {}
  std::chrono::steady_clock::duration d_;
  F f_;
};

/// A default arm: runs `f()` at once if no other arm is ready.
template <class F>
class otherwise_case {
 public:
  explicit otherwise_case(F f) : f_(std::move(f)) {}
  F f_;
};

template <class Rep, class Period, class F>
after_case<std::decay_t<F>> after(std::chrono::duration<Rep, Period> d, F&& f) {
  return {std::chrono::ceil<std::chrono::steady_clock::duration>(d), std::forward<F>(f)};
}

template <class F>
otherwise_case<std::decay_t<F>> otherwise(F&& f) {
  return otherwise_case<std::decay_t<F>>(std::forward<F>(f));
}

/// Makes the calling thread's select picks repeatable (for tests).
inline void seed_select(std::uint64_t seed) noexcept { detail::chan::seed_random(seed); }

namespace detail::chan {

template <class C>
struct case_traits {
  static constexpr bool is_channel = false;
  struct arm_type {
    explicit arm_type(C& /*unused*/) noexcept {}
  };
};
template <class T, class F>
struct case_traits<recv_case<T, F>> {
  static constexpr bool is_channel = true;
  using arm_type = recv_arm<T>;
};
template <class T, class F>
struct case_traits<send_case<T, F>> {
  static constexpr bool is_channel = true;
  using arm_type = send_arm<T>;
};

template <class C>
inline constexpr bool is_send_case = false;
template <class T, class F>
inline constexpr bool is_send_case<send_case<T, F>> = true;
template <class C>
inline constexpr bool is_after = false;
template <class F>
inline constexpr bool is_after<after_case<F>> = true;
template <class C>
inline constexpr bool is_otherwise = false;
template <class F>
inline constexpr bool is_otherwise<otherwise_case<F>> = true;

/// The object select() returns (see select.hpp's header comment).
template <class... Cases>
class select_op {
  static constexpr std::size_t kCases = sizeof...(Cases);
  static constexpr std::uint32_t kArms =
      static_cast<std::uint32_t>((0 + ... + (case_traits<Cases>::is_channel ? 1 : 0)));
  static constexpr std::size_t kAfters = (0 + ... + (is_after<Cases> ? 1 : 0));
  static constexpr std::size_t kDefaults = (0 + ... + (is_otherwise<Cases> ? 1 : 0));
  static_assert(kAfters <= 1, "troupe::select: at most one after() arm");
  static_assert(kDefaults <= 1, "troupe::select: at most one otherwise() arm");
  static_assert(kArms <= kMaxArms, "troupe::select: at most 64 channel arms");

 public:
  explicit select_op(Cases&&... cs)
      : select_op(std::index_sequence_for<Cases...>{}, std::move(cs)...) {}

  template <std::size_t... I>
  select_op(std::index_sequence<I...> seq, Cases&&... cs)
      : cases_(std::move(cs)...), arms_(std::get<I>(cases_)...) {
    build(seq);
    if (!must_not_block()) {
      select_outcome out;
      select_blocking(spec_, out);
      complete(out);
      return;
    }
    select_outcome out;
    select_try(spec_, out);
    if (out.kind != select_outcome::what::would_block) {
      complete(out);
      return;
    }
    pending_.begin("select");  // throws errc::would_block_worker outside a task
  }
  select_op(const select_op&) = delete;
  select_op& operator=(const select_op&) = delete;
  select_op(select_op&&) = delete;
  select_op& operator=(select_op&&) = delete;
  /// A select that had to wait and was never co_awaited fails its task
  /// (see pending_state).
  ~select_op() { pending_.end("select"); }

  bool await_ready() const noexcept { return !pending_.pending(); }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    pending_.awaited();
    engine_.emplace(spec_);
    return engine_->start(context_of(h), h);
  }
  std::size_t await_resume() {
    if (engine_) {
      select_outcome out = engine_->result();
      engine_.reset();
      complete(out);
    }
    return index_;
  }

  /// On a thread: the index of the arm that ran.
  [[nodiscard]] std::size_t index() const {
    if (pending_.pending()) {
      pending_.settled();
      throw_would_block("select");
    }
    return index_;
  }
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator std::size_t() const { return index(); }

 private:
  using arms_tuple = std::tuple<typename case_traits<Cases>::arm_type...>;

  template <std::size_t... I>
  void build(std::index_sequence<I...> /*unused*/) {
    std::uint32_t k = 0;
    auto add = [&](auto idx) {
      constexpr std::size_t i = decltype(idx)::value;
      using C = std::tuple_element_t<i, std::tuple<Cases...>>;
      if constexpr (case_traits<C>::is_channel) {
        arm& a = std::get<i>(arms_);
        arm_ptrs_[k] = &a;
        locks_[k] = a.ch;
        case_of_arm_[k] = i;
        ++k;
      } else if constexpr (is_after<C>) {
        spec_.deadline = clock::now() + std::get<i>(cases_).d_;
        after_index_ = i;
      } else if constexpr (is_otherwise<C>) {
        spec_.has_default = true;
        default_index_ = i;
      }
    };
    (add(std::integral_constant<std::size_t, I>{}), ...);
    spec_.arms = arm_ptrs_;
    spec_.n = k;
    spec_.locks = locks_;
    spec_.nlocks = prepare_locks(locks_, k);
  }

  void complete(const select_outcome& out) {
    using w = select_outcome::what;
    pending_.settled();
    switch (out.kind) {
      case w::fired:
        index_ = case_of_arm_[out.index];
        run_case(index_, std::index_sequence_for<Cases...>{});
        return;
      case w::timeout:
        index_ = after_index_;
        run_case(index_, std::index_sequence_for<Cases...>{});
        return;
      case w::otherwise:
        index_ = default_index_;
        run_case(index_, std::index_sequence_for<Cases...>{});
        return;
      case w::closed:
        throw error(errc::channel_closed, arm_ptrs_[out.index]->ch->receivers_gone()
                                              ? "select: send arm: every receiver is gone"
                                              : "select: send arm: the channel is closed");
      case w::all_closed:
        throw error(errc::channel_closed,
                    "select: every channel is closed (a receive arm whose function takes "
                    "std::optional<T> sees the close; after() cannot fire usefully)");
      case w::cancelled:
        throw_cancelled("select");
      case w::would_block:
        break;
    }
  }

  template <std::size_t... I>
  void run_case(std::size_t which, std::index_sequence<I...> /*unused*/) {
    (void)((which == I ? (run_one<I>(), true) : false) || ...);
  }

  template <std::size_t I>
  void run_one() {
    using C = std::tuple_element_t<I, std::tuple<Cases...>>;
    C& c = std::get<I>(cases_);
    if constexpr (case_traits<C>::is_channel && !is_send_case<C>) {
      auto& a = std::get<I>(arms_);
      if constexpr (C::accepts_closed) {
        std::invoke(c.f_, std::move(a.value));
      } else {
        std::invoke(c.f_, std::move(*a.value));
      }
    } else {
      std::invoke(c.f_);
    }
  }

  std::tuple<Cases...> cases_;
  arms_tuple arms_;
  arm* arm_ptrs_[kArms == 0 ? 1 : kArms] = {};
  channel_base* locks_[kArms == 0 ? 1 : kArms] = {};
  std::size_t case_of_arm_[kArms == 0 ? 1 : kArms] = {};
  select_spec spec_;
  std::optional<coro_select> engine_;
  std::size_t index_ = 0;
  std::size_t after_index_ = 0;
  std::size_t default_index_ = 0;
  mutable pending_state pending_;
};

}  // namespace detail::chan

/// Waits for the first of several channel operations (see the header
/// comment). Returns (or, in a task, co_await yields) the index of the arm
/// that ran.
template <class... Cases>
detail::chan::select_op<std::decay_t<Cases>...> select(Cases&&... cases) {
  return detail::chan::select_op<std::decay_t<Cases>...>(
      std::decay_t<Cases>(std::forward<Cases>(cases))...);
}

}  // namespace troupe
