// The registry of isolated actor types by name (filled during static
// initialization by TROUPE_ISOLATED_ACTOR, read by the child runtime).

#include "troupe/nodes/detail/isolated_registry.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "internal/isolated_registry.hpp"
#include "troupe/actors/error.hpp"

namespace troupe::nodes::detail {

namespace {

std::mutex& factories_mu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, host_factory, std::less<>>& factories() {
  static std::map<std::string, host_factory, std::less<>> m;
  return m;
}

}  // namespace

bool register_isolated_factory(std::string_view name, host_factory make) {
  std::lock_guard lk(factories_mu());
  auto [it, inserted] = factories().emplace(std::string(name), make);
  if (!inserted && it->second != make) {
    throw troupe::error(
        troupe::errc::invalid_argument,
        "TROUPE_ISOLATED_ACTOR: the name \"" + std::string(name) + "\" is registered twice");
  }
  return true;
}

host_factory find_isolated_factory(std::string_view name) {
  std::lock_guard lk(factories_mu());
  auto it = factories().find(name);
  return it != factories().end() ? it->second : nullptr;
}

}  // namespace troupe::nodes::detail
