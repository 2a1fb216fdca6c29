#include "troupe/wire/message.hpp"

#include <cstdio>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace troupe::wire {

using detail::cat;

namespace {

std::string hex_id(message_id id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string describe(const message_info& info) {
  return cat("'", info.name, "' (", info.type_name, ")");
}

}  // namespace

struct registry::impl {
  mutable std::shared_mutex mu;
  // Entries are never removed, so message_info addresses are stable.
  std::unordered_map<message_id, std::unique_ptr<message_info>> by_id;  // guarded by mu
  std::unordered_map<std::type_index, const message_info*> by_type;     // guarded by mu
};

registry::registry() : impl_(std::make_unique<impl>()) {}
registry::~registry() = default;

registry& registry::global() noexcept {
  // Leaked on purpose: message_info pointers held by any_message objects with
  // static storage duration stay valid during exit.
  static auto* const instance = new registry();
  return *instance;
}

message_id registry::add(message_info info) {
  if (info.name.empty() || info.name.size() > 255) {
    throw wire_error(wire_errc::invalid_value, cat("register_message<", info.type_name,
                                                   ">: a name must have 1 to 255 bytes, '",
                                                   info.name, "' has ", info.name.size()));
  }
  std::unique_lock lock(impl_->mu);
  if (auto it = impl_->by_id.find(info.id); it != impl_->by_id.end()) {
    const message_info& old = *it->second;
    if (old.type == info.type && old.name == info.name) return old.id;
    if (old.name == info.name) {
      throw wire_error(wire_errc::type_conflict,
                       cat("register_message<", info.type_name, ">: name '", info.name,
                           "' is already registered for ", old.type_name));
    }
    throw wire_error(wire_errc::type_conflict, cat("register_message<", info.type_name, ">: name '",
                                                   info.name, "' has the same id ", hex_id(info.id),
                                                   " as ", describe(old), "; choose another name"));
  }
  if (auto it = impl_->by_type.find(info.type); it != impl_->by_type.end()) {
    throw wire_error(wire_errc::type_conflict, cat("register_message<", info.type_name,
                                                   ">: the type is already registered as '",
                                                   it->second->name, "', not '", info.name, "'"));
  }
  auto owned = std::make_unique<message_info>(std::move(info));
  const message_info* p = owned.get();
  impl_->by_type.emplace(p->type, p);
  impl_->by_id.emplace(p->id, std::move(owned));
  return p->id;
}

void registry::conflict_named(std::string_view name, std::string_view declared,
                              const std::string& type) {
  throw wire_error(wire_errc::type_conflict,
                   cat("register_message<", type, ">: name '", name,
                       "' differs from its TROUPE_MESSAGE name '", declared, "'"));
}

const message_info* registry::find(message_id id) const noexcept {
  std::shared_lock lock(impl_->mu);
  const auto it = impl_->by_id.find(id);
  return it == impl_->by_id.end() ? nullptr : it->second.get();
}

const message_info* registry::find(std::type_index type) const noexcept {
  std::shared_lock lock(impl_->mu);
  const auto it = impl_->by_type.find(type);
  return it == impl_->by_type.end() ? nullptr : it->second;
}

std::size_t registry::size() const noexcept {
  std::shared_lock lock(impl_->mu);
  return impl_->by_id.size();
}

namespace detail {
void throw_unregistered(const std::string& type) {
  throw wire_error(wire_errc::unknown_type,
                   cat("encode message ", type,
                       ": the type is not registered; declare "
                       "TROUPE_MESSAGE(",
                       type, ", \"name\") or call register_message<", type, ">(\"name\")"));
}
}  // namespace detail

void any_message::throw_wrong_type(const std::string& wanted) const {
  throw wire_error(wire_errc::type_conflict,
                   cat("any_message::get<", wanted, ">: it holds ",
                       info_ ? describe(*info_) : std::string("nothing")));
}

void write_message(writer& w, const any_message& msg) {
  const message_info* info = msg.info();
  if (info == nullptr) {
    throw wire_error(wire_errc::unknown_type, "encode message: the any_message is empty");
  }
  w.fixed(info->id);
  info->encode(w, msg.data());
}

void read_message(reader& r, any_message& out, const registry& reg) {
  out.reset();
  const auto id = r.fixed<message_id>();
  if (!r.ok()) return;
  const message_info* info = reg.find(id);
  if (info == nullptr) {
    r.fail(wire_errc::unknown_type, cat("type id ", hex_id(id), " is not registered"));
    return;
  }
  void* p = info->decode(r);
  if (p == nullptr) return;
  out.info_ = info;
  out.ptr_ = p;
}

status decode_message(std::span<const std::byte> payload, any_message& out, const limits& bounds,
                      const registry& reg) {
  reader r(payload, bounds);
  read_message(r, out, reg);
  if (r.complete()) return {};
  out.reset();
  std::string subject = "decode message";
  if (payload.size() >= sizeof(message_id)) {
    message_id id = 0;
    for (std::size_t i = 0; i < sizeof(message_id); ++i) {
      id |= std::to_integer<message_id>(payload[i]) << (8 * i);
    }
    if (const message_info* info = reg.find(id)) subject.append(cat(" ", describe(*info)));
  }
  return r.result(subject);
}

any_message decode_message(std::span<const std::byte> payload, const limits& bounds,
                           const registry& reg) {
  any_message out;
  decode_message(payload, out, bounds, reg).throw_if_error();
  return out;
}

}  // namespace troupe::wire
