#pragma once
/// Declaring an isolated actor type: TROUPE_ISOLATED_ACTOR(Type, "name",
/// messages...) registers Type under a stable name with the message types
/// it accepts across the process boundary; the isolated_actor concept and
/// the traits that spawn and isolated_proxy check messages with.
/// See troupe/nodes/isolated.hpp for the whole picture.

#include <concepts>
#include <string_view>
#include <type_traits>

#include "troupe/nodes/detail/isolated_registry.hpp"

namespace troupe::nodes {

/// The message types an isolated actor accepts across the boundary.
template <class... Ms>
struct message_list {};

namespace detail {

template <class M, class List>
inline constexpr bool in_list = false;
template <class M, class... Ms>
inline constexpr bool in_list<M, message_list<Ms...>> = (std::is_same_v<M, Ms> || ...);

}  // namespace detail

/// True if A was registered with TROUPE_ISOLATED_ACTOR.
template <class A>
concept isolated_actor = requires(const A* p) {
  { troupe_isolated_name(p) } -> std::convertible_to<std::string_view>;
  troupe_isolated_messages(p);
};

namespace detail {
/// A's registered message list (empty if A is not registered, so that the
/// static_assert naming the fix is the first error).
template <class A>
struct messages_of {
  using type = message_list<>;
};
template <class A>
requires isolated_actor<A>
struct messages_of<A> {
  using type = decltype(troupe_isolated_messages(static_cast<const A*>(nullptr)));
};
}  // namespace detail

}  // namespace troupe::nodes

/// Registers actor type `Type` (unqualified, at namespace scope in its
/// namespace) as isolatable under the stable name `Name`, accepting the
/// message types that follow (each with TROUPE_MESSAGE).
#define TROUPE_ISOLATED_ACTOR(Type, Name, ...)                                               \
  [[maybe_unused]] ::troupe::nodes::message_list<__VA_ARGS__> troupe_isolated_messages(      \
      const Type*);                                                                          \
  [[maybe_unused]] constexpr ::std::string_view troupe_isolated_name(const Type*) noexcept { \
    return Name;                                                                             \
  }                                                                                          \
  [[maybe_unused]] inline const bool troupe_isolated_registered_##Type =                     \
      ::troupe::nodes::detail::register_isolated<Type, __VA_ARGS__>(Name)
