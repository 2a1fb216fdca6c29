#pragma once
// The child runtime's side of the isolated actor registry: looking up the
// factory that a spawn frame names (registration is in
// troupe/nodes/detail/isolated_registry.hpp).

#include <string_view>

#include "troupe/nodes/detail/isolated_registry.hpp"

namespace troupe::nodes::detail {

/// The factory registered under `name`; nullptr if none.
host_factory find_isolated_factory(std::string_view name);

}  // namespace troupe::nodes::detail
