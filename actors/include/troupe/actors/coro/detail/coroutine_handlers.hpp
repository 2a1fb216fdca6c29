#pragma once
// Actor handlers that are coroutines: `task<R> on(M)`.
//
// The rule (docs/channels.md, "Coroutine handlers"): a coroutine handler
// runs inside its actor, one message at a time, but the actor does NOT stay
// busy while the handler is suspended. At each co_await that suspends, the
// actor goes on with its next message; when the awaited event happens, the
// rest of the handler is enqueued as a message of the actor and runs in
// mailbox order. So handler code never runs concurrently with the actor's
// other handlers (its members need no locks), but the actor's state may
// change across a co_await, as in any reentrant design (Orleans reentrant
// grains, Akka's pipeToSelf).
//
// `ref.ask(m)` on a coroutine handler yields `future<R>`, completed when the
// coroutine finishes. An exception escaping the coroutine fails the ask
// (errc::handler_threw) and the actor, as for a plain handler. If the actor
// terminates while a handler is suspended, the handler is destroyed at its
// suspension point when its awaited event arrives (its locals are destroyed;
// it is not resumed) and its ask fails with errc::actor_dead.
//
// Included by troupe/actors/coro/task.hpp; the specializations below
// replace detail::send_node / ask_node for handlers returning a task.

#include <coroutine>
#include <exception>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include "troupe/actors/coro/detail/root.hpp"
#include "troupe/actors/coro/task.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/envelope.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"

namespace troupe::detail {

/// The failure of an actor's coroutine handler, handed from the coroutine's
/// last step to the message that drove it, which rethrows it so the actor
/// fails as it would for a plain handler.
inline thread_local std::exception_ptr tl_actor_handler_failure;

/// True if A's handler for M is a coroutine (returns a troupe::task).
template <class A, class M>
concept coroutine_handler =
    is_task_v<std::remove_cvref_t<decltype(std::declval<A&>().on(std::declval<M>()))>>;

/// Inside a root body: its own context (never suspends).
class root_context_awaiter {
 public:
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    ctx_ = static_cast<root_context*>(h.promise().ctx);
    return false;
  }
  root_context* await_resume() const noexcept { return ctx_; }

 private:
  root_context* ctx_ = nullptr;
};

template <class R>
void abandon_handler(root_context& ctx) noexcept {
  auto* p = static_cast<promise<R>*>(ctx.abandon_arg);
  if (p != nullptr) {
    try {
      p->set_error(errc::actor_dead,
                   "ask: the actor stopped or restarted while its coroutine handler was suspended");
    } catch (...) {  // allocation failure: the promise's destructor breaks it instead
    }
  }
  ctx.self.destroy();  // destroys ctx too
}

// g++ 12 warns that the coroutine frame of this header template "uses the
// anonymous namespace" when A or M is declared in one; the frame has no
// linkage of its own, so the warning is spurious.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif
template <class A, class M, class R>
root_task run_handler(A* obj, M msg, promise<R> p, const char* type) {
  root_context* self = co_await root_context_awaiter{};
  self->abandon_arg = &p;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await obj->on(std::move(msg));
      p.set_value();
    } else {
      R v = co_await obj->on(std::move(msg));
      p.set_value(std::move(v));
    }
  } catch (...) {
    try {
      p.set_error(errc::handler_threw, ask_failed_text(type));
    } catch (...) {  // allocation failure: the promise's destructor breaks it instead
    }
    tl_actor_handler_failure = std::current_exception();
  }
  self->abandon_arg = nullptr;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Runs A's coroutine handler for `msg` inside the actor of `c`, up to its
/// first suspension. Rethrows (after failing `p`) if the coroutine threw
/// before suspending, so the actor fails.
template <class A, class M, class R>
void start_handler(cell& c, M&& msg, promise<R>&& p) {
  root_task r =
      run_handler<A, M, R>(&object_of<A>(c), std::forward<M>(msg), std::move(p), c.type_name());
  root_context& ctx = r.promise().context;
  ctx.core = &c.core();
  ctx.actor = &c;
  ctx.incarnation = c.incarnation();  // on the actor's thread
  c.add_ref();                        // released by the root when it ends
  std::stop_source source;
  ctx.set_token(source.get_token());
  ctx.link.source = source;
  // During shutdown the handler still runs, but already cancelled.
  if (!try_register_root(c.core(), ctx.link)) source.request_stop();
  ctx.on_abandon = &abandon_handler<R>;
  r.run_inline();
  if (tl_actor_handler_failure) {
    std::exception_ptr e = std::move(tl_actor_handler_failure);
    tl_actor_handler_failure = nullptr;
    std::rethrow_exception(std::move(e));
  }
}

// The specializations that start a coroutine handler. The ask node shares
// the primary's message, promise, reject and discard (ask_node_base).

template <class A, class M>
requires coroutine_handler<A, M>
class send_node<A, M> final : public message {
 public:
  using result_type =
      typename std::remove_cvref_t<decltype(std::declval<A&>().on(std::declval<M>()))>::value_type;

  template <class... X>
  explicit send_node(X&&... x) : msg_(std::forward<X>(x)...) {}
  void run(cell& c) override { start_handler<A, M, result_type>(c, std::move(msg_), {}); }
  [[nodiscard]] const char* type_name() const noexcept override { return message_type_name<M>(); }

 private:
  M msg_;
};

template <class A, class M, class R>
requires coroutine_handler<A, M>
class ask_node<A, M, R> final : public ask_node_base<M, R> {
 public:
  static_assert(std::is_same_v<R, typename std::remove_cvref_t<decltype(std::declval<A&>().on(
                                      std::declval<M>()))>::value_type>,
                "troupe: ask on a coroutine handler task<R> on(M) must yield future<R>");

  using ask_node_base<M, R>::ask_node_base;

  void run(cell& c) override {
    start_handler<A, M, R>(c, std::move(this->msg_), std::move(this->promise_));
  }
};

}  // namespace troupe::detail
