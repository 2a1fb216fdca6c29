#pragma once
/// troupe::ref<A>: a typed handle to an actor.
///
/// Cheap to copy (one atomic increment), comparable, hashable. A ref keeps
/// the actor's mailbox reachable, not the actor alive: once the actor
/// terminates, sends count as dead letters and asks fail at once with
/// errc::actor_dead. All member functions are @threadsafe.

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/nodes.hpp"
#include "troupe/actors/future.hpp"

namespace troupe {

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
  /// Returns send_result::dead (and counts a dead letter) if A has terminated.
  template <class M>
  send_result send(M&& m) const {
    using msg_t = std::remove_cvref_t<M>;
    if constexpr (handles<A, msg_t>) {
      check("ref::send");
      return c_->enqueue(new detail::send_node<A, msg_t>(std::forward<M>(m)));
    } else {
      static_assert(detail::always_false<M>,
                    "troupe::ref<A>::send(M): the actor type A has no handler on(M) for the "
                    "message type M (the names are in the template arguments of this error)");
      return send_result::dead;
    }
  }

  /// Enqueues `m` and returns a future of A's handler result for it.
  /// The future fails with errc::handler_threw if the handler throws, and
  /// with errc::actor_dead if A terminated before handling it.
  template <class M>
  auto ask(M&& m) const {
    using msg_t = std::remove_cvref_t<M>;
    if constexpr (handles<A, msg_t>) {
      using R = handler_result_t<A, msg_t>;
      check("ref::ask");
      promise<R> p;
      future<R> f = p.get_future();
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

  explicit operator bool() const noexcept { return c_ != nullptr; }
  friend bool operator==(const ref& a, const ref& b) noexcept { return a.c_ == b.c_; }
  friend auto operator<=>(const ref& a, const ref& b) noexcept {
    return std::compare_three_way{}(a.c_, b.c_);
  }

  /// For the runtime: wraps `c`, taking over one reference (adopt) or adding one.
  struct adopt_t {};
  ref(adopt_t /*unused*/, detail::box<A>* c) noexcept : c_(c) {}
  explicit ref(detail::box<A>* c) noexcept : c_(c) {
    if (c_) c_->add_ref();
  }
  [[nodiscard]] detail::box<A>* cell_ptr() const noexcept { return c_; }

 private:
  void check(const char* op) const;

  detail::box<A>* c_ = nullptr;
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
