#pragma once
/// Not API. The parent's side of an isolated actor type: the table of the
/// message types it accepts (from TROUPE_ISOLATED_ACTOR's list), with their
/// encoders and the decoders of their replies, through which the process
/// backend's port sends what a ref<A> hands it; and the spawn of one child.

#include <chrono>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>

#include "troupe/actors/detail/remote.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/handler.hpp"
#include "troupe/nodes/detail/isolated_registry.hpp"
#include "troupe/nodes/detail/payload.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/codec.hpp"
#include "troupe/wire/message.hpp"

namespace troupe {
class system;
}

namespace troupe::nodes::detail {

/// One message type an isolated actor accepts.
struct isolated_message {
  const std::type_info* type;
  encode_fn encode;
  /// Completes the promise<R> (R: A's reply type to it) at `promise` from a reply.
  void (*complete)(void* promise, const reply_view& r);
};

/// An isolated actor type as the parent sees it.
struct isolated_table {
  std::string_view name;  ///< TROUPE_ISOLATED_ACTOR's name
  std::span<const isolated_message> messages;
  /// The entry of message type `t`; null if A's list does not have it.
  [[nodiscard]] const isolated_message* find(const std::type_info& t) const noexcept {
    for (const auto& m : messages) {
      if (*m.type == t) return &m;
    }
    return nullptr;
  }
};

template <class R>
void complete_erased(void* p, const reply_view& r) {
  complete_reply(*static_cast<promise<R>*>(p), r, "isolated ask", "reply", [](bool /*ok*/) {});
}

template <class A, class M>
constexpr isolated_message isolated_message_of() {
  using R = handler_result_t<A, M>;
  if constexpr (!std::is_void_v<R>) {
    static_assert(wire::has_codec<R>,
                  "troupe::isolated: the reply type of a listed message needs a codec "
                  "(TROUPE_FIELDS or a troupe::wire::codec specialization)");
  }
  return isolated_message{&typeid(M), &encode_msg<M>, &complete_erased<R>};
}

template <class A, class... Ms>
const isolated_table& isolated_table_of(message_list<Ms...> /*unused*/) {
  static const isolated_message messages[] = {isolated_message_of<A, Ms>()...};
  static const isolated_table table{troupe_isolated_name(static_cast<const A*>(nullptr)), messages};
  return table;
}

/// The host of A made with constructor arguments of types Ts, decoded.
template <class A, class... Ts, class... Ms>
std::unique_ptr<child_host> make_host_with(troupe::system& sys, wire::reader& r,
                                           message_list<Ms...> /*unused*/) {
  std::tuple<Ts...> args{};
  wire::read_value(r, args);
  if (!r.complete()) {
    throw std::runtime_error("bad constructor arguments: " +
                             r.result("constructor arguments").message());
  }
  ref<A> a = std::apply([&](Ts&... t) { return sys.spawn<A>(std::move(t)...); }, args);
  return std::make_unique<host<A, Ms...>>(std::move(a));
}

/// The registry name of A's constructor from Ts: "<A's name>(<Ts>...)".
template <class A, class... Ts>
std::string constructor_key() {
  std::string k(troupe_isolated_name(static_cast<const A*>(nullptr)));
  k += '(';
  ((k += troupe::detail::type_name<Ts>(), k += ','), ...);
  k.back() = ')';
  return k;
}

/// Registered, in every process running this binary (the parent and its
/// children run the same static initializers), by the spawns that use it.
template <class A, class... Ts>
inline const bool constructor_registered = register_isolated_factory(
    constructor_key<A, Ts...>(),
    [](troupe::system& sys, wire::reader& r) -> std::unique_ptr<child_host> {
      return make_host_with<A, Ts...>(sys, r, typename messages_of<A>::type{});
    });

/// Waits (up to `timeout`) until the child behind isolated remote cell `c`
/// is gone and every reply of it has completed; false on timeout. Not on a
/// pool worker or a backend thread.
bool wait_isolated_gone(troupe::detail::cell& c, std::chrono::milliseconds timeout);

/// Throws troupe::error(errc::invalid_argument): message type `m` is not
/// in the list of TROUPE_ISOLATED_ACTOR(`actor_type`, `name`, ...).
[[noreturn]] void throw_not_listed(const std::type_info& m, const std::string& actor_type,
                                   std::string_view name, const char* op);

/// How a spawn names what the child constructs: the registry key (the
/// actor's name, or constructor_key for a constructor with arguments) and
/// the encoded arguments (none: `encode` null).
struct isolated_construct {
  std::string key;
  encode_fn encode = nullptr;
  const void* args = nullptr;
};

/// Starts a child process running an isolated actor of `table`'s type,
/// made as `make` says, and returns its remote cell, holding one
/// reference for the caller. Throws troupe::error if the child cannot be
/// started (errc::system_shutdown once `sys` is shutting down, before any
/// child is started).
troupe::detail::cell* spawn_isolated_cell(troupe::system& sys, const std::type_info& type,
                                          const std::string& type_name, const isolated_table& table,
                                          const isolated_options& opts,
                                          const isolated_construct& make);

/// A constructor argument of an isolated actor: it crosses to the child
/// encoded, like a message field.
template <class T>
constexpr bool isolated_constructor_arg() {
  static_assert(wire::has_codec<T>,
                "troupe::isolated: a constructor argument type T (named in this error's "
                "template arguments) cannot be encoded: give it TROUPE_FIELDS or a "
                "troupe::wire::codec specialization");
  return wire::has_codec<T>;
}

}  // namespace troupe::nodes::detail
