#pragma once
/// Not API. What the process backend (and the cluster) know of one message
/// type M sent to an actor type A declared with TROUPE_ISOLATED_ACTOR: the
/// troupe::detail::remote_ops that the core hands a remote port with the
/// message, and M's delivery to A in the receiving process, registered by
/// the same instantiation. Every send or ask of an M to a ref<A> in the
/// program instantiates both, so a parent and its children (the same binary,
/// the same static initializers) agree on what A accepts without a list.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include "troupe/actors/detail/remote.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/handler.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/nodes/detail/payload.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/codec.hpp"
#include "troupe/wire/message.hpp"

namespace troupe::detail {

/// One message type M for an actor type A (see remote_message.hpp).
struct remote_ops {
  const std::type_info* actor;  ///< A
  const std::type_info* type;   ///< M
  const std::type_info* reply;  ///< A's reply type to M (void: none)
  std::string_view actor_name;  ///< A's TROUPE_ISOLATED_ACTOR name
  /// Writes `[id][fields]` of an M; null when M has no TROUPE_MESSAGE.
  nodes::detail::encode_fn encode;
  /// Completes the promise<R> at `promise` from a reply; null when R has no codec.
  void (*complete)(void* promise, const nodes::detail::reply_view& r);
};

}  // namespace troupe::detail

namespace troupe::nodes::detail {

/// Where the reply of a delivered ask goes: ok() or error(), once, from the
/// thread that completes the ask.
class answer_sink {
 public:
  answer_sink() = default;
  answer_sink(const answer_sink&) = delete;
  answer_sink& operator=(const answer_sink&) = delete;
  virtual ~answer_sink() = default;
  /// The reply: `enc(w, value)` writes it (enc null: a void reply).
  virtual void ok(encode_fn enc, const void* value) = 0;
  virtual void error(troupe::errc code, const std::string& what) = 0;
};

/// How the receiving process hands a decoded M to an A (cell `to`, of type A).
struct delivery {
  const std::type_info* actor;
  /// `tracked`: report the handler's progress (isolated_options::handler_timeout).
  void (*send)(troupe::detail::cell* to, wire::any_message& m, bool tracked);
  /// Null when A's reply type to M has no codec (the sender refuses such
  /// an ask first).
  void (*ask)(troupe::detail::cell* to, wire::any_message& m, bool tracked,
              std::shared_ptr<answer_sink> reply);
};

/// Registers M's delivery to the actor type named `actor_name` (static
/// initialization; the same pair again is a no-op). Throws
/// troupe::error(errc::invalid_argument) when the name is another type's.
bool register_delivery(std::string_view actor_name, wire::message_id id, const delivery& d);
/// The delivery of message `id` to the actor type named `actor_name`, or null.
const delivery* find_delivery(std::string_view actor_name, wire::message_id id);
/// The delivery of message `id` to actor type `actor`, or null.
const delivery* find_delivery(const std::type_info& actor, wire::message_id id);

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

template <class A>
constexpr std::string_view isolated_name_of() noexcept {
  return troupe_isolated_name(static_cast<const A*>(nullptr));
}

template <class A, class M>
void deliver_send(troupe::detail::cell* to, wire::any_message& m, bool tracked) {
  const ref<A> r(to);
  if (!tracked) {
    r.send(std::move(m.get<M>()));
    return;
  }
  // Tracked: an ask, whose completion marks the end of its handler (a
  // handler that throws fails the actor as a send's would).
  progress_delivered(m.name());
  (void)r.ask(std::move(m.get<M>())).then([](auto /*done*/) { progress_handled(); });
}

template <class A, class M>
void deliver_ask(troupe::detail::cell* to, wire::any_message& m, bool tracked,
                 std::shared_ptr<answer_sink> reply) {
  using R = handler_result_t<A, M>;
  const ref<A> r(to);
  if (tracked) progress_delivered(m.name());
  r.ask(std::move(m.get<M>())).then([reply = std::move(reply), tracked](future<R> f) {
    if (tracked) progress_handled();
    try {
      if constexpr (std::is_void_v<R>) {
        f.get();
        reply->ok(nullptr, nullptr);
      } else {
        R v = f.get();
        reply->ok(&encode_value<R>, &v);
      }
    } catch (const troupe::error& e) {
      reply->error(e.value(), e.what());
    } catch (const std::exception& e) {
      reply->error(troupe::errc::handler_threw, e.what());
    }
  });
}

template <class R>
inline constexpr bool reply_crosses = std::is_void_v<R> || wire::has_codec<R>;

template <class R>
void complete_erased(void* p, const reply_view& r) {
  complete_reply(*static_cast<promise<R>*>(p), r, "isolated ask", "reply", [](bool /*ok*/) {});
}

/// Registered in every process of the program by remote_ops_of<A, M>.
template <class A, class M>
inline const bool delivery_registered = [] {
  if constexpr (wire::named_message<M>) {
    using R = handler_result_t<A, M>;
    void (*ask)(troupe::detail::cell*, wire::any_message&, bool, std::shared_ptr<answer_sink>) =
        nullptr;
    if constexpr (reply_crosses<R>) ask = &deliver_ask<A, M>;
    return register_delivery(isolated_name_of<A>(), wire::message_id_v<M>,
                             delivery{&typeid(A), &deliver_send<A, M>, ask});
  } else {
    return false;
  }
}();

template <class A, class M>
constexpr troupe::detail::remote_ops make_remote_ops() {
  using R = handler_result_t<A, M>;
  troupe::detail::remote_ops ops{&typeid(A), &typeid(M), &typeid(R), isolated_name_of<A>(),
                                 nullptr,    nullptr};
  if constexpr (wire::named_message<M>) ops.encode = &encode_msg<M>;
  if constexpr (reply_crosses<R>) ops.complete = &complete_erased<R>;
  return ops;
}

template <class A, class M>
inline constexpr troupe::detail::remote_ops remote_ops_v = make_remote_ops<A, M>();

/// What TROUPE_ISOLATED_ACTOR's hook returns for a message type M of A.
template <class A, class M>
const troupe::detail::remote_ops* remote_ops_of() noexcept {
  (void)delivery_registered<A, M>;
  return &remote_ops_v<A, M>;
}

/// The ops of `m`, checked for `op` ("send", "ask"): throws
/// troupe::error(errc::invalid_argument) naming what keeps M from crossing
/// (A not declared where the send was compiled, M without TROUPE_MESSAGE,
/// an ask whose reply type has no codec). `actor_type`: A's C++ name.
const troupe::detail::remote_ops& checked_ops(const troupe::detail::remote_message& m,
                                              const std::string& actor_type, const char* op);

/// Hands a message already encoded by `ops` (`[id][fields]`) to the child
/// behind isolated remote cell `c`, waiting for room on a full link (not on
/// a pool worker); asks when `p` is given (ops.complete completes it). The
/// send's result (ok for an ask: a failure fails `p`).
send_result forward_encoded(troupe::detail::cell& c, std::span<const std::byte> bytes,
                            const troupe::detail::remote_ops& ops,
                            std::unique_ptr<troupe::detail::remote_promise> p);

}  // namespace troupe::nodes::detail
