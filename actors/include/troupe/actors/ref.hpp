#pragma once
/// troupe::ref<A>: a typed handle to an actor.
///
/// Cheap to copy (one atomic increment), comparable, hashable. A ref keeps
/// the actor's mailbox reachable, not the actor alive: once the actor
/// terminates, sends count as dead letters and asks fail at once with
/// errc::actor_dead. A ref to a supervised actor stays valid across its
/// restarts (see troupe/actors/supervisor.hpp). Sends to a bounded mailbox
/// follow its overflow policy (troupe/actors/mailbox.hpp). All member
/// functions are @threadsafe.

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/envelope.hpp"
#include "troupe/actors/detail/remote.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/location.hpp"
#include "troupe/actors/mailbox.hpp"

namespace troupe {

namespace detail {

/// How a send made on this thread may wait for room in a full `block` mailbox.
inline send_wait send_wait_here() noexcept {
  return on_pool_worker() ? send_wait::never : send_wait::block;
}

template <class A, class M, class X>
message* make_send_node(void* x) {
  return new send_node<A, M>(std::forward<X>(*static_cast<std::remove_reference_t<X>*>(x)));
}

/// ref<A>::send() on a bounded mailbox.
template <class A, class M, class X>
send_outcome bounded_send(cell* c, X&& x, bool may_wait) {
  send_wait w = may_wait ? send_wait_here() : send_wait::never;
  // In a coroutine on the pool, a full `block` mailbox is not refused for
  // good: the task can co_await the outcome to wait for room.
  const bool deferrable =
      w == send_wait::never && may_wait && tl_current_task != nullptr && c->blocks_when_full();
  if (deferrable) w = send_wait::defer;
  void* arg = const_cast<void*>(static_cast<const volatile void*>(std::addressof(x)));
  const send_result r = c->bounded_send(node_maker{arg, &make_send_node<A, M, X>}, w);
  if (r == send_result::full && deferrable) return send_outcome(c, arg, &make_send_node<A, M, X>);
  return r;
}

template <class A, class M, class R, class X>
struct ask_args {
  promise<R>* p;
  std::remove_reference_t<X>* x;
  static message* make(void* a) {
    auto* self = static_cast<ask_args*>(a);
    return new ask_node<A, M, R>(std::move(*self->p), std::forward<X>(*self->x));
  }
};

/// "ask <type>: mailbox full (capacity N, overflow <policy>)".
std::string full_ask_text(const cell& c);

/// ref<A>::ask() on a bounded mailbox: a plain thread waits for room, a
/// coroutine queues the ask behind the full mailbox (its future is the
/// wait), a plain handler on a pool thread gets errc::mailbox_full.
template <class A, class M, class R, class X>
void bounded_ask(cell* c, promise<R>& p, X&& x) {
  ask_args<A, M, R, X> args{&p, std::addressof(x)};
  send_wait w = send_wait_here();
  if (w == send_wait::never && tl_current_task != nullptr) w = send_wait::park;
  if (c->bounded_send(node_maker{&args, &ask_args<A, M, R, X>::make}, w) == send_result::full) {
    p.set_error(errc::mailbox_full, full_ask_text(*c));
  }
}

}  // namespace detail

template <class A>
class ref {
 public:
  using actor_type = A;

  /// An empty ref; using it throws errc::invalid_argument.
  ref() noexcept = default;
  ref(const ref& o) noexcept : c_(o.c_) {
    if (c_) c_->add_ref();
  }
  ref(ref&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  ref& operator=(const ref& o) noexcept {
    ref(o).swap(*this);
    return *this;
  }
  ref& operator=(ref&& o) noexcept {
    ref(std::move(o)).swap(*this);
    return *this;
  }
  ~ref() {
    if (c_) c_->release();
  }
  void swap(ref& o) noexcept { std::swap(c_, o.c_); }

  /// Enqueues `m` for A's handler `on(M)`. Compiles only if A handles M.
  /// Returns send_result::closed (and counts a dead letter) if A has
  /// terminated. On a bounded mailbox the overflow policy applies: `full`
  /// leaves `m` untouched; with overflow::block a plain thread waits for
  /// room, and a coroutine can `co_await ref.send(m)` to wait (see
  /// send_outcome).
  template <class M>
  send_outcome send(M&& m) const {
    if constexpr (handles<A, std::remove_cvref_t<M>>) {
      return send_impl<true>(std::forward<M>(m), "ref::send");
    } else {
      static_assert(detail::always_false<M>,
                    "troupe::ref<A>::send(M): the actor type A has no handler on(M) for the "
                    "message type M (the names are in the template arguments of this error)");
      return send_result::closed;
    }
  }

  /// As send(), but never waits: a full `block` mailbox refuses with
  /// send_result::full (m untouched). Timers send this way.
  template <class M>
  send_result try_send(M&& m) const {
    if constexpr (handles<A, std::remove_cvref_t<M>>) {
      return send_impl<false>(std::forward<M>(m), "ref::try_send");
    } else {
      static_assert(detail::always_false<M>,
                    "troupe::ref<A>::try_send(M): the actor type A has no handler on(M) for the "
                    "message type M (the names are in the template arguments of this error)");
      return send_result::closed;
    }
  }

  /// Enqueues `m` and returns a future of A's handler result for it.
  /// The future fails with errc::handler_threw if the handler throws, and
  /// with errc::actor_dead if A terminated before handling it, and with
  /// errc::mailbox_full if a bounded mailbox refused or dropped it (with
  /// overflow::block a plain thread waits for room first; a coroutine's ask
  /// waits behind the full mailbox, its future being the wait).
  template <class M>
  auto ask(M&& m) const {
    using msg_t = std::remove_cvref_t<M>;
    if constexpr (handles<A, msg_t>) {
      using R = handler_result_t<A, msg_t>;
      check("ref::ask");
      promise<R> p;
      future<R> f = p.get_future();
      if (!c_->plain_send()) [[unlikely]] {
        if (c_->remote()) {
          detail::remote_ask<A, msg_t, R>(c_, std::move(p), m);
        } else {
          detail::bounded_ask<A, msg_t, R>(c_, p, std::forward<M>(m));
        }
        return f;
      }
      c_->enqueue(new detail::ask_node<A, msg_t, R>(std::move(p), std::forward<M>(m)));
      return f;
    } else {
      static_assert(detail::always_false<M>,
                    "troupe::ref<A>::ask(M): the actor type A has no handler on(M) for the "
                    "message type M (the names are in the template arguments of this error)");
    }
  }

  /// Graceful stop: A handles everything sent before this call, then stops.
  void stop() const {
    check("ref::stop");
    c_->request_stop();
  }

  /// Immediate stop: A stops after the handler in progress; queued messages
  /// become dead letters and queued asks fail.
  void kill() const {
    check("ref::kill");
    c_->request_kill();
  }

  /// True once the actor has terminated (a hint: it may terminate right after).
  [[nodiscard]] bool terminated() const {
    check("ref::terminated");
    return c_->terminated();
  }

  /// A number unique within the process for the actor's lifetime.
  [[nodiscard]] std::uint64_t id() const noexcept { return c_ ? c_->id() : 0; }

  /// Where the actor runs: this process, a child process (troupe::isolated)
  /// or another node, with its process id.
  [[nodiscard]] troupe::location location() const {
    check("ref::location");
    return detail::location_of(*c_);
  }

  explicit operator bool() const noexcept { return c_ != nullptr; }
  friend bool operator==(const ref& a, const ref& b) noexcept { return a.c_ == b.c_; }
  friend auto operator<=>(const ref& a, const ref& b) noexcept {
    return std::compare_three_way{}(a.c_, b.c_);
  }

  /// For the runtime: wraps `c`, taking over one reference (adopt) or adding one.
  /// `c` is A's box, or a remote_cell of type A.
  struct adopt_t {};
  ref(adopt_t /*unused*/, detail::cell* c) noexcept : c_(c) {}
  explicit ref(detail::cell* c) noexcept : c_(c) {
    if (c_) c_->add_ref();
  }
  [[nodiscard]] detail::cell* cell_ptr() const noexcept { return c_; }

 private:
  template <bool MayWait, class M>
  send_outcome send_impl(M&& m, const char* op) const {
    using msg_t = std::remove_cvref_t<M>;
    check(op);
    if (!c_->plain_send()) [[unlikely]] {
      if (c_->remote()) return detail::remote_send<A, msg_t>(c_, m, MayWait);
      return detail::bounded_send<A, msg_t>(c_, std::forward<M>(m), MayWait);
    }
    return c_->enqueue(new detail::send_node<A, msg_t>(std::forward<M>(m)));
  }
  void check(const char* op) const;

  detail::cell* c_ = nullptr;
};

namespace detail {
[[noreturn]] void throw_empty_ref(const char* op);
}

template <class A>
void ref<A>::check(const char* op) const {
  if (c_ == nullptr) detail::throw_empty_ref(op);
}

}  // namespace troupe

template <class A>
struct std::hash<troupe::ref<A>> {
  std::size_t operator()(const troupe::ref<A>& r) const noexcept {
    return std::hash<const void*>{}(r.cell_ptr());
  }
};
