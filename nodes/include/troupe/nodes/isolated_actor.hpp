#pragma once
/// Declaring an isolated actor type: TROUPE_ISOLATED_ACTOR(Type, "name")
/// registers Type under a stable name, so that it can run in a child
/// process behind a ref<Type>, and gives it the hook through which every
/// send of a message type to a ref<Type> learns how that type crosses (see
/// troupe/nodes/detail/remote_ops.hpp). See troupe/nodes/isolated.hpp for
/// the whole picture.

#include <concepts>
#include <string_view>

#include "troupe/nodes/detail/isolated_registry.hpp"
#include "troupe/nodes/detail/remote_ops.hpp"

namespace troupe::nodes {

/// True if A was registered with TROUPE_ISOLATED_ACTOR.
template <class A>
concept isolated_actor = requires(const A* p) {
  { troupe_isolated_name(p) } -> std::convertible_to<std::string_view>;
};

}  // namespace troupe::nodes

/// Registers actor type `Type` (unqualified, at namespace scope in its
/// namespace, right after the type, in the header that defines it: every
/// translation unit that sends to a ref<Type> must see it) as isolatable
/// under the stable name `Name`. The message types it accepts across the
/// boundary are the TROUPE_MESSAGE types the program sends or asks it; a
/// type without TROUPE_MESSAGE is refused at the send (errc::invalid_argument).
#define TROUPE_ISOLATED_ACTOR(Type, Name)                                                    \
  [[maybe_unused]] constexpr ::std::string_view troupe_isolated_name(const Type*) noexcept { \
    return Name;                                                                             \
  }                                                                                          \
  template <class TroupeMessage>                                                             \
  [[maybe_unused]] const ::troupe::detail::remote_ops* troupe_remote_ops(                    \
      const Type*, const TroupeMessage*) noexcept {                                          \
    return ::troupe::nodes::detail::remote_ops_of<Type, TroupeMessage>();                    \
  }                                                                                          \
  [[maybe_unused]] inline const bool troupe_isolated_registered_##Type =                     \
      ::troupe::nodes::detail::register_isolated<Type>(Name)
