#pragma once
/// What an actor type handles, and the customization point for actors that
/// hand messages on instead of handling them.

#include <type_traits>
#include <utility>

namespace troupe {

template <class T>
class promise;

/// True if actor type `A` has a handler `on(M)` callable with an rvalue `M`.
template <class A, class M>
concept handles = requires(A& a, M&& m) {
  a.on(std::forward<M>(m));
};

namespace detail {
/// What ask() yields for a handler returning `R`: R itself. The coroutine
/// layer (troupe/actors/task.hpp) specializes it so that a coroutine handler
/// returning task<T> yields T.
template <class R>
struct ask_result {
  using type = R;
};
}  // namespace detail

/// The (decayed) return type of A's handler for M: what ask() yields
/// (T for a coroutine handler returning troupe::task<T>).
template <class A, class M>
using handler_result_t = typename detail::ask_result<
    std::decay_t<decltype(std::declval<A&>().on(std::declval<M>()))>>::type;

/// Customization point for proxy actors. An actor type `A` that hands message
/// type `M` on (to another process, another host, another actor) instead of
/// handling it specializes this to true and defines
///
///     void forward_send(M&& m);                  // a send of M
///     template <class R>
///     void forward_ask(M&& m, promise<R>&& p);   // an ask of M, R = handler_result_t<A, M>
///
/// It still declares `on(M)` (never defined, never called): ref<A>'s type
/// checks and the ask's result type come from it. Both run inside the actor,
/// one message at a time like a handler; forward_ask completes `p` exactly
/// once, now or later from any thread. The process backend's supervised
/// proxy is one user.
template <class A, class M>
inline constexpr bool forwards = false;

}  // namespace troupe
