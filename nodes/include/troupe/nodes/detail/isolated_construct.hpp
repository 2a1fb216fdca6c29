#pragma once
/// Not API. The spawn of one isolated actor: what the child constructs (the
/// actor's name, or a constructor with encoded arguments, registered in
/// every process by the spawns that use it), and the child's start.

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

/// The host of A made with constructor arguments of types Ts, decoded.
template <class A, class... Ts>
std::unique_ptr<child_host> make_host_with(troupe::system& sys, wire::reader& r) {
  std::tuple<Ts...> args{};
  wire::read_value(r, args);
  if (!r.complete()) {
    throw std::runtime_error("bad constructor arguments: " +
                             r.result("constructor arguments").message());
  }
  ref<A> a = std::apply([&](Ts&... t) { return sys.spawn<A>(std::move(t)...); }, args);
  return std::make_unique<host<A>>(std::move(a));
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
      return make_host_with<A, Ts...>(sys, r);
    });

/// Waits (up to `timeout`) until the child behind isolated remote cell `c`
/// is gone and every reply of it has completed; false on timeout. Not on a
/// pool worker or a backend thread.
bool wait_isolated_gone(troupe::detail::cell& c, std::chrono::milliseconds timeout);

/// How a spawn names what the child constructs: the registry key (the
/// actor's name, or constructor_key for a constructor with arguments) and
/// the encoded arguments (none: `encode` null).
struct isolated_construct {
  std::string key;
  encode_fn encode = nullptr;
  const void* args = nullptr;
};

/// Starts a child process running an isolated actor of type `type` (its
/// TROUPE_ISOLATED_ACTOR name: `name`), made as `make` says, and returns its remote cell, holding
/// one reference for the caller. Throws troupe::error if the child cannot be started
/// (errc::system_shutdown once `sys` is shutting down, before any child is started).
troupe::detail::cell* spawn_isolated_cell(troupe::system& sys, const std::type_info& type,
                                          const std::string& type_name, std::string_view name,
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
