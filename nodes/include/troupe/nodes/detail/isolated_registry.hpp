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
#include "troupe/nodes/process.hpp"
#include "troupe/wire/message.hpp"
#include "troupe/wire/reader.hpp"

namespace troupe::nodes::detail {

/// The child side of one isolated actor: delivers decoded messages to the
/// local actor and returns replies. Implemented per actor type below.
class child_host {
 public:
  virtual ~child_host() = default;
  /// Delivers a `send`; false if the type is not in the list.
  virtual bool deliver(wire::any_message& m) = 0;
  /// Delivers an `ask`; the reply goes to `sink`. False if not in the list.
  virtual bool ask(wire::any_message& m, std::uint64_t req) = 0;
  virtual void stop() = 0;
  [[nodiscard]] virtual actor_addr addr() const = 0;
};

/// Where a child host sends replies (implemented by the child runtime).
void reply_ok(std::uint64_t req, encode_fn enc, const void* value);
void reply_error(std::uint64_t req, troupe::errc code, const std::string& what);

/// The progress of the child's actor, for isolated_options::handler_timeout
/// (implemented by the child runtime): progress_tracked() is true when a
/// limit is set; the host then reports each message from the parent as it
/// is delivered (with its type's name) and as its handler finishes.
bool progress_tracked() noexcept;
void progress_delivered(std::string_view message) noexcept;
void progress_handled() noexcept;

/// Makes the host of one isolated actor; `args` holds the encoded
/// constructor arguments (empty for a default-constructed actor). Throws
/// std::runtime_error for arguments that do not decode.
using host_factory = std::unique_ptr<child_host> (*)(troupe::system&, wire::reader& args);
/// Registers an isolated actor type, or one of its constructors, by name
/// (static initialization). Throws troupe::error(errc::invalid_argument)
/// for a name registered twice.
bool register_isolated_factory(std::string_view name, host_factory make);

template <class A, class M>
void host_ask(ref<A>& r, M&& m, std::string_view name, std::uint64_t req) {
  using R = handler_result_t<A, M>;
  const bool tracked = progress_tracked();
  if (tracked) progress_delivered(name);
  r.ask(std::forward<M>(m)).then([req, tracked](future<R> f) {
    if (tracked) progress_handled();
    try {
      if constexpr (std::is_void_v<R>) {
        f.get();
        reply_ok(req, nullptr, nullptr);
      } else {
        R v = f.get();
        reply_ok(req, &encode_value<R>, &v);
      }
    } catch (const troupe::error& e) {
      reply_error(req, e.value(), e.what());
    } catch (const std::exception& e) {
      reply_error(req, troupe::errc::handler_threw, e.what());
    }
  });
}

template <class A, class... Ms>
class host final : public child_host {
 public:
  explicit host(ref<A> r) noexcept : ref_(std::move(r)) {}
  bool deliver(wire::any_message& m) override {
    return ((m.is<Ms>() ? (send_one<Ms>(m), true) : false) || ...);
  }
  bool ask(wire::any_message& m, std::uint64_t req) override {
    return (
        (m.is<Ms>() ? (host_ask<A>(ref_, std::move(m.get<Ms>()), m.name(), req), true) : false) ||
        ...);
  }
  void stop() override { ref_.stop(); }
  [[nodiscard]] actor_addr addr() const override { return actor_addr(ref_); }

 private:
  template <class M>
  void send_one(wire::any_message& m) {
    if (!progress_tracked()) {
      ref_.send(std::move(m.get<M>()));
      return;
    }
    // Tracked: an ask, whose completion marks the end of its handler (a
    // handler that throws fails the actor as a send's would).
    progress_delivered(m.name());
    (void)ref_.ask(std::move(m.get<M>())).then([](auto /*done*/) { progress_handled(); });
  }

  ref<A> ref_;
};

template <class A, class... Ms>
bool register_isolated(std::string_view name) {
  static_assert(sizeof...(Ms) > 0, "TROUPE_ISOLATED_ACTOR: list the message types A accepts");
  static_assert((wire::named_message<Ms> && ...),
                "TROUPE_ISOLATED_ACTOR: every message type needs a stable name "
                "(TROUPE_MESSAGE(Type, \"name\"))");
  static_assert((handles<A, Ms> && ...),
                "TROUPE_ISOLATED_ACTOR: the actor has no handler on(M) for a listed message type");
  return register_isolated_factory(
      name, [](troupe::system& sys, wire::reader& args) -> std::unique_ptr<child_host> {
        if (!args.complete()) throw std::runtime_error("constructor arguments for a default spawn");
        if constexpr (std::is_default_constructible_v<A>) {
          return std::make_unique<host<A, Ms...>>(sys.spawn<A>());
        } else {
          // spawn_isolated refuses this at compile time; a forged frame gets here.
          throw std::runtime_error("the actor has no default constructor");
        }
      });
}

}  // namespace troupe::nodes::detail
