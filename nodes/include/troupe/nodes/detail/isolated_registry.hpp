#pragma once
/// Not API. The registration of isolated actor types by name (what
/// TROUPE_ISOLATED_ACTOR expands to) and the child side of one isolated
/// actor that a registered factory makes: child_host, which delivers
/// decoded messages to the local actor and sends its replies.

#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/handler.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/nodes/detail/payload.hpp"
#include "troupe/nodes/detail/remote_ops.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/message.hpp"
#include "troupe/wire/reader.hpp"

namespace troupe::nodes::detail {

/// The child side of one isolated actor: delivers decoded messages to the
/// local actor and returns replies. Implemented per actor type below.
class child_host {
 public:
  virtual ~child_host() = default;
  /// Delivers a `send`; false if the program sends no such type to A.
  virtual bool deliver(wire::any_message& m) = 0;
  /// Delivers an `ask`; the reply goes back as `req`. False if the program
  /// asks A no such type (or its reply type cannot cross).
  virtual bool ask(wire::any_message& m, std::uint64_t req) = 0;
  virtual void stop() = 0;
  [[nodiscard]] virtual actor_addr addr() const = 0;
  /// The actor's cell.
  [[nodiscard]] virtual troupe::detail::cell* actor_cell() const noexcept = 0;
};

/// The reply to the parent's ask `req` (implemented by the child runtime).
std::shared_ptr<answer_sink> answer_to_parent(std::uint64_t req);

/// Makes the host of one isolated actor; `args` holds the encoded
/// constructor arguments (empty for a default-constructed actor). Throws
/// std::runtime_error for arguments that do not decode.
using host_factory = std::unique_ptr<child_host> (*)(troupe::system&, wire::reader& args);
/// Registers an isolated actor type, or one of its constructors, by name
/// (static initialization). Throws troupe::error(errc::invalid_argument)
/// for a name registered twice.
bool register_isolated_factory(std::string_view name, host_factory make);

/// The child side of an isolated A: hands each decoded message to the
/// delivery that the program's sends of its type to a ref<A> registered.
template <class A>
class host final : public child_host {
 public:
  explicit host(ref<A> r) noexcept : ref_(std::move(r)) {}
  bool deliver(wire::any_message& m) override {
    const delivery* d = find_delivery(typeid(A), m.id());
    if (d == nullptr) return false;
    d->send(ref_.cell_ptr(), m, progress_tracked());
    return true;
  }
  bool ask(wire::any_message& m, std::uint64_t req) override {
    const delivery* d = find_delivery(typeid(A), m.id());
    if (d == nullptr || d->ask == nullptr) return false;
    d->ask(ref_.cell_ptr(), m, progress_tracked(), answer_to_parent(req));
    return true;
  }
  void stop() override { ref_.stop(); }
  [[nodiscard]] actor_addr addr() const override { return actor_addr(ref_); }
  [[nodiscard]] troupe::detail::cell* actor_cell() const noexcept override {
    return ref_.cell_ptr();
  }

 private:
  ref<A> ref_;
};

template <class A>
bool register_isolated(std::string_view name) {
  return register_isolated_factory(
      name, [](troupe::system& sys, wire::reader& args) -> std::unique_ptr<child_host> {
        if (!args.complete()) throw std::runtime_error("constructor arguments for a default spawn");
        if constexpr (std::is_default_constructible_v<A>) {
          return std::make_unique<host<A>>(sys.spawn<A>());
        } else {
          // spawn_isolated refuses this at compile time; a forged frame gets here.
          throw std::runtime_error("the actor has no default constructor");
        }
      });
}

}  // namespace troupe::nodes::detail
