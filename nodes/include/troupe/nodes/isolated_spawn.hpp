#pragma once
/// Spawning an isolated actor: troupe::spawn_isolated<A>(sys[, opts]) and
/// the spawn placement troupe::isolated, with which
/// `sys.spawn<A>(troupe::isolated[, opts])` does the same.

#include <memory>
#include <string>
#include <utility>

#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/nodes/isolated_ref.hpp"
#include "troupe/nodes/process.hpp"

namespace troupe::nodes {

/// Options of spawn_isolated (the child's heartbeats, limits, queue).
using spawn_isolated_options = isolated_options;

}  // namespace troupe::nodes

namespace troupe {

/// Starts actor A in a new child process (the program re-executed; its
/// main() must call troupe::nodes::child_main first). A is
/// default-constructed in the child. Throws troupe::error if the child
/// cannot be started. `sys.spawn<A>(troupe::isolated, opts)` is the same.
template <class A>
isolated_ref<A> spawn_isolated(troupe::system& sys, const nodes::isolated_options& opts) {
  static_assert(nodes::isolated_actor<A>,
                "troupe::spawn_isolated<A>: register A with "
                "TROUPE_ISOLATED_ACTOR(A, \"name\", messages...) at namespace scope");
  const std::string type = troupe::detail::type_name<A>();
  auto peer =
      nodes::detail::launch(sys, troupe_isolated_name(static_cast<const A*>(nullptr)), type, opts);
  return isolated_ref<A>(std::make_shared<typename isolated_ref<A>::owner>(std::move(peer)));
}

/// As above, with the default options.
template <class A>
isolated_ref<A> spawn_isolated(troupe::system& sys) {
  return spawn_isolated<A>(sys, nodes::isolated_options{});
}

/// Spawn placement: the actor in a child process of its own.
/// `sys.spawn<A>(troupe::isolated[, opts])` is spawn_isolated<A>(sys[, opts]).
struct isolated_t {
  using spawn_placement = void;
  explicit isolated_t() = default;
  template <class A>
  isolated_ref<A> spawn(troupe::system& sys, const nodes::isolated_options& opts = {}) const {
    return spawn_isolated<A>(sys, opts);
  }
};
inline constexpr isolated_t isolated{};

}  // namespace troupe
