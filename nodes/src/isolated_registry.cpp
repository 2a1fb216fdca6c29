// The registries of isolated actor types by name and of the deliveries of
// message types to them (filled during static initialization by
// TROUPE_ISOLATED_ACTOR and by the sends of the program, read by the child
// runtime), and the checks a send makes before it crosses.

#include "troupe/nodes/detail/isolated_registry.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <utility>

#include "internal/isolated_registry.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/nodes/detail/remote_ops.hpp"
#include "troupe/wire/detail/type_name.hpp"

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

struct actor_deliveries {
  const std::type_info* actor = nullptr;
  std::unordered_map<wire::message_id, delivery> by_id;
};
std::map<std::string, actor_deliveries, std::less<>>& deliveries() {
  static std::map<std::string, actor_deliveries, std::less<>> m;
  return m;
}
/// The same entries by actor type (map nodes do not move).
std::unordered_map<std::type_index, actor_deliveries*>& deliveries_by_type() {
  static std::unordered_map<std::type_index, actor_deliveries*> m;
  return m;
}

std::string demangled(const std::type_info& t) { return wire::detail::demangle(t.name()); }

}  // namespace

bool register_delivery(std::string_view actor_name, wire::message_id id, const delivery& d) {
  std::lock_guard lk(factories_mu());
  auto it = deliveries().find(actor_name);
  if (it == deliveries().end()) {
    it = deliveries().emplace(std::string(actor_name), actor_deliveries{d.actor, {}}).first;
    deliveries_by_type().emplace(std::type_index(*d.actor), &it->second);
  } else if (*it->second.actor != *d.actor) {
    throw troupe::error(troupe::errc::invalid_argument,
                        "TROUPE_ISOLATED_ACTOR: the name \"" + std::string(actor_name) +
                            "\" is used by " + demangled(*it->second.actor) + " and by " +
                            demangled(*d.actor));
  }
  // The same pair from another instantiation (a shared library) keeps the first.
  it->second.by_id.emplace(id, d);
  return true;
}

const delivery* find_delivery(std::string_view actor_name, wire::message_id id) {
  std::lock_guard lk(factories_mu());
  auto it = deliveries().find(actor_name);
  if (it == deliveries().end()) return nullptr;
  auto d = it->second.by_id.find(id);
  return d != it->second.by_id.end() ? &d->second : nullptr;
}

const delivery* find_delivery(const std::type_info& actor, wire::message_id id) {
  std::lock_guard lk(factories_mu());
  auto it = deliveries_by_type().find(std::type_index(actor));
  if (it == deliveries_by_type().end()) return nullptr;
  auto d = it->second->by_id.find(id);
  return d != it->second->by_id.end() ? &d->second : nullptr;
}

const troupe::detail::remote_ops& checked_ops(const troupe::detail::remote_message& m,
                                              const std::string& actor_type, const char* op) {
  const troupe::detail::remote_ops* ops = m.ops;
  const auto refuse = [&](const std::string& why) {
    throw troupe::error(troupe::errc::invalid_argument,
                        "ref<" + actor_type + ">::" + op + ": message type " + demangled(m.type) +
                            " cannot cross to " + actor_type + "'s process: " + why);
  };
  if (ops == nullptr) {
    refuse("the " + std::string(op) + " was compiled where TROUPE_ISOLATED_ACTOR(" + actor_type +
           ", ...) is not visible (declare it right after the type, in its header)");
  }
  if (ops->encode == nullptr) {
    refuse("it has no TROUPE_MESSAGE(" + demangled(m.type) + ", \"name\", fields...)");
  }
  if (std::string_view(op) == "ask" && ops->complete == nullptr) {
    refuse("the reply type " + demangled(*ops->reply) + " has no codec (TROUPE_FIELDS, or a " +
           "troupe::wire::codec specialization)");
  }
  return *ops;
}

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
