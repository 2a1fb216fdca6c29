#pragma once
/// troupe::registry: actors by name, per system (system::registry()).
///
/// Limits first:
/// - Names are per system and flat (no hierarchy, no remote lookup yet).
/// - A lookup returns what was registered at that instant: the actor may
///   terminate right after (sends then become dead letters).
/// - An entry vanishes when its actor terminates for good; the restart of a
///   supervised actor keeps its ref, so it keeps its names.
///
/// Lookups are typed: find<A>("name") returns a ref<A>, or an empty ref if
/// no actor has that name, and throws troupe::error(errc::invalid_argument)
/// naming both types if the actor registered under that name is not an A.
/// All member functions are @threadsafe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/ref.hpp"

namespace troupe {

namespace detail {
class system_core;
[[noreturn]] void throw_registry_type(std::string_view name, const char* actual,
                                      const std::string& wanted);
}  // namespace detail

class registry {
 public:
  explicit registry(detail::system_core& core) noexcept : core_(&core) {}
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// Registers `r` under `name`. False if the name is taken (by a live
  /// actor) or the actor has already terminated. Throws
  /// errc::invalid_argument for an empty ref or an empty name.
  template <class A>
  bool add(std::string name, const ref<A>& r) {
    return add(std::move(name), actor_addr(r));
  }
  /// As above, untyped.
  bool add(std::string name, const actor_addr& a);

  /// The actor registered as `name`: an empty ref if there is none; throws
  /// troupe::error(errc::invalid_argument) naming both types if it is not an A.
  template <class A>
  [[nodiscard]] ref<A> find(std::string_view name) const {
    actor_addr a = find_addr(name);
    if (!a) return ref<A>();
    if (!a.is<A>()) detail::throw_registry_type(name, a.type_name(), detail::type_name<A>());
    return a.as<A>();
  }
  /// The actor registered as `name`, untyped (empty if none).
  [[nodiscard]] actor_addr find_addr(std::string_view name) const;

  /// Removes `name`; false if it was not registered.
  bool remove(std::string_view name);
  /// Every registered name (sorted).
  [[nodiscard]] std::vector<std::string> names() const;
  /// How many names are registered.
  [[nodiscard]] std::size_t size() const;

 private:
  detail::system_core* core_;
};

}  // namespace troupe
