#pragma once
/// Spawning an isolated actor: troupe::spawn_isolated<A>(sys[, opts]) and
/// the spawn placement troupe::isolated, with which
/// `sys.spawn<A>(troupe::isolated[, opts])` does the same.

#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/nodes/detail/isolated_construct.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/nodes/process.hpp"

namespace troupe::nodes {

/// Options of spawn_isolated (the child's heartbeats, limits, queue).
using spawn_isolated_options = isolated_options;

}  // namespace troupe::nodes

namespace troupe {

namespace nodes::detail {
template <class... Args>
inline constexpr bool first_is_isolated_options = false;
template <class First, class... Rest>
inline constexpr bool first_is_isolated_options<First, Rest...> =
    std::is_same_v<std::remove_cvref_t<First>, isolated_options>;
}  // namespace nodes::detail

/// Starts actor A in a new child process (the program re-executed; its
/// main() must call troupe::nodes::child_main first) and returns its
/// ref<A>, the same type as a pooled actor's (see troupe/nodes/isolated.hpp).
/// A is constructed in the child from `args`, which cross encoded like
/// message fields (each type needs a codec: a compile error names one that
/// has none); none: default-constructed. Throws troupe::error if the child
/// cannot be started; a constructor that throws in the child ends it, and
/// the ref's actor terminates with that reason.
/// `sys.spawn<A>(troupe::isolated, opts, args...)` is the same.
template <class A, class... Args>
ref<A> spawn_isolated(troupe::system& sys, const nodes::isolated_options& opts, Args&&... args) {
  static_assert(nodes::isolated_actor<A>,
                "troupe::spawn_isolated<A>: register A with "
                "TROUPE_ISOLATED_ACTOR(A, \"name\") at namespace scope");
  static_assert((nodes::detail::isolated_constructor_arg<std::decay_t<Args>>() && ...));
  static_assert(std::is_constructible_v<A, std::decay_t<Args>&&...>,
                "troupe::spawn_isolated<A>(sys, opts, args...): A has no constructor from the "
                "argument types");
  constexpr std::string_view name = nodes::detail::isolated_name_of<A>();
  nodes::detail::isolated_construct make;
  if constexpr (sizeof...(Args) == 0) {
    make.key = std::string(name);
    return ref<A>(typename ref<A>::adopt_t{},
                  nodes::detail::spawn_isolated_cell(sys, typeid(A), troupe::detail::type_name<A>(),
                                                     name, opts, make));
  } else {
    using tuple_t = std::tuple<std::decay_t<Args>...>;
    // The child finds this constructor under its key (registered there too).
    (void)nodes::detail::constructor_registered<A, std::decay_t<Args>...>;
    const tuple_t values(std::forward<Args>(args)...);
    make.key = nodes::detail::constructor_key<A, std::decay_t<Args>...>();
    make.encode = &nodes::detail::encode_value<tuple_t>;
    make.args = &values;
    return ref<A>(typename ref<A>::adopt_t{},
                  nodes::detail::spawn_isolated_cell(sys, typeid(A), troupe::detail::type_name<A>(),
                                                     name, opts, make));
  }
}

/// As above, with the default options.
template <class A, class... Args>
requires(!nodes::detail::first_is_isolated_options<Args...>) ref<A> spawn_isolated(
    troupe::system& sys, Args&&... args) {
  return spawn_isolated<A>(sys, nodes::isolated_options{}, std::forward<Args>(args)...);
}

/// Spawn placement: the actor in a child process of its own.
/// `sys.spawn<A>(troupe::isolated[, opts], args...)` is
/// spawn_isolated<A>(sys[, opts], args...).
struct isolated_t {
  using spawn_placement = void;
  explicit isolated_t() = default;
  template <class A, class... Args>
  ref<A> spawn(troupe::system& sys, Args&&... args) const {
    return spawn_isolated<A>(sys, std::forward<Args>(args)...);
  }
};
inline constexpr isolated_t isolated{};

}  // namespace troupe
