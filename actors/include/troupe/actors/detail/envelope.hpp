#pragma once
// Typed mailbox entries: a send, an ask, a closure run inside the actor.

#include <concepts>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/handler.hpp"

namespace troupe::detail {

template <class A>
A& object_of(cell& c) noexcept {
  return static_cast<box<A>&>(c).object();
}

std::string ask_failed_text(const char* actor_type);  // "ask <type>: handler threw <ex>"
/// "ask <type>: message dropped: <why>" (a bounded mailbox discarded it).
std::string ask_dropped_text(const char* actor_type, const char* why);

/// The demangled name of M, computed once (for traces and dead-letter logs).
template <class M>
const char* message_type_name() noexcept {
  try {
    static const std::string name = detail::type_name<M>();
    return name.c_str();
  } catch (...) {
    return "(message)";
  }
}

template <class A, class M>
class send_node final : public message {
 public:
  template <class... X>
  explicit send_node(X&&... x) : msg_(std::forward<X>(x)...) {}
  void run(cell& c) override {
    if constexpr (troupe::forwards<A, M>) {
      object_of<A>(c).forward_send(std::move(msg_));
    } else {
      // A send drops the handler's result, even a [[nodiscard]] one.
      static_cast<void>(object_of<A>(c).on(std::move(msg_)));
    }
  }
  [[nodiscard]] const char* type_name() const noexcept override { return message_type_name<M>(); }

 private:
  M msg_;
};

/// What every ask node shares, whatever runs its handler: the message, the
/// promise of its reply, and failing that promise when the message is not
/// handled.
template <class M, class R>
class ask_node_base : public message {
 public:
  template <class X>
  ask_node_base(promise<R> p, X&& x) : msg_(std::forward<X>(x)), promise_(std::move(p)) {}

  void reject(const exit_reason& why, const char* actor_type) noexcept final {
    try {
      promise_.set_error(errc::actor_dead, std::string("ask ") + actor_type + ": actor stopped (" +
                                               why.to_string() + ")");
    } catch (...) {  // allocation failure: the promise's destructor breaks it instead
    }
  }

  /// A bounded mailbox dropped the message.
  void discard(const char* actor_type, const char* why) noexcept final {
    try {
      promise_.set_error(errc::mailbox_full, ask_dropped_text(actor_type, why));
    } catch (...) {  // allocation failure: the promise's destructor breaks it instead
    }
  }

  [[nodiscard]] const char* type_name() const noexcept final { return message_type_name<M>(); }

 protected:
  M msg_;
  promise<R> promise_;
};

template <class A, class M, class R>
class ask_node final : public ask_node_base<M, R> {
 public:
  using ask_node_base<M, R>::ask_node_base;

  void run(cell& c) override {
    if constexpr (troupe::forwards<A, M>) {
      object_of<A>(c).forward_ask(std::move(this->msg_), std::move(this->promise_));
    } else {
      try {
        if constexpr (std::is_void_v<R>) {
          object_of<A>(c).on(std::move(this->msg_));
          this->promise_.set_value();
        } else {
          this->promise_.set_value(object_of<A>(c).on(std::move(this->msg_)));
        }
      } catch (...) {
        this->promise_.set_error(errc::handler_threw, ask_failed_text(c.type_name()));
        throw;  // the actor fails too
      }
    }
  }
};

/// Runs `f(A&)` inside the actor, as a message: a user message by default;
/// kind::notice for the runtime's own continuations (when_ready), which a
/// bounded mailbox neither counts nor evicts.
template <class A, class F>
class closure_node final : public message {
 public:
  explicit closure_node(F f, kind k = kind::user) : message(k), f_(std::move(f)) {}
  void run(cell& c) override { f_(object_of<A>(c)); }

 private:
  F f_;
};

template <class>
inline constexpr bool always_false = false;

}  // namespace troupe::detail
