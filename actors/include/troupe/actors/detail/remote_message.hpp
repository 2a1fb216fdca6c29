#pragma once
// A user message on its way to an actor that lives elsewhere (see
// remote.hpp), and the per-(actor type, message type) ops of the
// transports. Not API.

#include <typeinfo>

namespace troupe::detail {

/// What the transports know of one message type M sent to an actor type A:
/// how it is encoded, how a reply to it is decoded, how the receiving
/// process delivers it. Opaque here (defined by the layer that declares A
/// reachable from elsewhere: troupe/nodes/detail/remote_ops.hpp). Made by
/// the hook `troupe_remote_ops(const A*, const M*)`, found by
/// argument-dependent lookup, that declaring A (TROUPE_ISOLATED_ACTOR)
/// gives; instantiating it registers M's delivery to A in every process of
/// the program (they run the same static initializers).
struct remote_ops;

/// The hook's ops for (A, M); null when A declares no hook.
template <class A, class M>
const remote_ops* remote_ops_for() noexcept {
  if constexpr (requires {
                  troupe_remote_ops(static_cast<const A*>(nullptr), static_cast<const M*>(nullptr));
                }) {
    return troupe_remote_ops(static_cast<const A*>(nullptr), static_cast<const M*>(nullptr));
  } else {
    return nullptr;
  }
}

/// A user message for a remote actor, not yet encoded: `value` is an M
/// (typeid `type`) for an actor of type `actor`; valid during the call only.
/// `ops`: remote_ops_for<A, M>() (null: A declares none).
struct remote_message {
  const std::type_info& actor;
  const std::type_info& type;
  const void* value;
  const remote_ops* ops;
};

}  // namespace troupe::detail
