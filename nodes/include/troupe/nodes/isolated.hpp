#pragma once
/// Isolated actors: an actor running in a child process, driven through
/// troupe::isolated_ref<A>, whose API is ref<A>'s: send, ask, stop, kill,
/// terminated, plus addr() to monitor or link it from local actors.
///
///   struct Inc { int by = 1; TROUPE_FIELDS(by); };
///   TROUPE_MESSAGE(Inc, "demo.inc");
///   struct Get { int unused = 0; TROUPE_FIELDS(unused); };
///   TROUPE_MESSAGE(Get, "demo.get");
///   class Counter : public troupe::actor<Counter> { ... on(Inc), int on(Get) ... };
///   TROUPE_ISOLATED_ACTOR(Counter, "demo.counter", Inc, Get);
///
///   auto c = troupe::spawn_isolated<Counter>(sys);        // a child process
///   c.send(Inc{2});
///   int n = c.ask(Get{}).get();
///
/// Why a separate handle type and not ref<A> itself: ref<A> is a pointer to
/// the local cell that holds A's object and its handlers are called through
/// it without any indirection; making every ref polymorphic would put a
/// virtual call on the in-process hot path and make actors depend on nodes.
/// isolated_ref<A> keeps the same member functions, and addr() gives the
/// actor_addr that monitors and links take.
///
/// Rules checked at compile time (static_assert with a readable message):
/// A must be registered with TROUPE_ISOLATED_ACTOR, a message must be in
/// A's registered list and have a TROUPE_MESSAGE name, A must handle it, and
/// an ask's reply type must have a codec.
///
/// Delivery: at-most-once, in order (one connection per child). When the
/// child is lost (crash, exit, missed heartbeats, resource limit), every
/// pending ask fails with errc::peer_lost "peer lost: child <pid> killed by
/// signal 11 (SIGSEGV)", and addr()'s monitors get a `down` with
/// exit_reason::kind::peer_lost and the same text. An exception in A's
/// handler fails the pending ask (errc::handler_threw), ends the child, and
/// the down reason is the exception (kind::exception).
///
/// The last copy of an isolated_ref stops the child (graceful, then killed
/// after 1 s) and waits until it is reaped. Drop isolated refs before their
/// system.

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/detail/envelope.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/supervisor.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/wire/message.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/reader.hpp"

namespace troupe::nodes {

/// The message types an isolated actor accepts across the boundary.
template <class... Ms>
struct message_list {};

namespace detail {

template <class M, class List>
inline constexpr bool in_list = false;
template <class M, class... Ms>
inline constexpr bool in_list<M, message_list<Ms...>> = (std::is_same_v<M, Ms> || ...);

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

using host_factory = std::unique_ptr<child_host> (*)(troupe::system&);
/// Registers an isolated actor type by name (static initialization). Throws
/// troupe::error(errc::invalid_argument) for a name registered twice.
bool register_isolated_factory(std::string_view name, host_factory make);

template <class T>
void encode_value(wire::writer& w, const void* p) {
  wire::write_value(w, *static_cast<const T*>(p));
}
template <class M>
void encode_msg(wire::writer& w, const void* p) {
  wire::write_message(w, *static_cast<const M*>(p));
}

template <class A, class M>
void host_ask(ref<A>& r, M&& m, std::uint64_t req) {
  using R = handler_result_t<A, M>;
  r.ask(std::move(m)).then([req](future<R> f) {
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
  explicit host(troupe::system& sys) : ref_(sys.spawn<A>()) {}
  bool deliver(wire::any_message& m) override {
    return ((m.is<Ms>() ? (ref_.send(std::move(m.get<Ms>())), true) : false) || ...);
  }
  bool ask(wire::any_message& m, std::uint64_t req) override {
    return ((m.is<Ms>() ? (host_ask<A>(ref_, std::move(m.get<Ms>()), req), true) : false) || ...);
  }
  void stop() override { ref_.stop(); }
  [[nodiscard]] actor_addr addr() const override { return actor_addr(ref_); }

 private:
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
  return register_isolated_factory(name, [](troupe::system& sys) -> std::unique_ptr<child_host> {
    return std::make_unique<host<A, Ms...>>(sys);
  });
}

}  // namespace detail

/// True if A was registered with TROUPE_ISOLATED_ACTOR.
template <class A>
concept isolated_actor = requires(const A* p) {
  { troupe_isolated_name(p) } -> std::convertible_to<std::string_view>;
  troupe_isolated_messages(p);
};

namespace detail {
/// A's registered message list (empty if A is not registered, so that the
/// static_assert naming the fix is the first error).
template <class A>
struct messages_of {
  using type = message_list<>;
};
template <class A>
  requires isolated_actor<A>
struct messages_of<A> {
  using type = decltype(troupe_isolated_messages(static_cast<const A*>(nullptr)));
};
}  // namespace detail

/// Options of spawn_isolated (the child's heartbeats, limits, queue).
using spawn_isolated_options = isolated_options;

}  // namespace troupe::nodes

/// Registers actor type `Type` (unqualified, at namespace scope in its
/// namespace) as isolatable under the stable name `Name`, accepting the
/// message types that follow (each with TROUPE_MESSAGE).
#define TROUPE_ISOLATED_ACTOR(Type, Name, ...)                                                 \
  [[maybe_unused]] ::troupe::nodes::message_list<__VA_ARGS__> troupe_isolated_messages(        \
      const Type*);                                                                            \
  [[maybe_unused]] constexpr ::std::string_view troupe_isolated_name(const Type*) noexcept {   \
    return Name;                                                                               \
  }                                                                                            \
  [[maybe_unused]] inline const bool troupe_isolated_registered_##Type =                      \
      ::troupe::nodes::detail::register_isolated<Type, __VA_ARGS__>(Name)

namespace troupe {

/// A handle to an actor A running in a child process. Copyable; the last
/// copy stops the child. Member functions are @threadsafe.
template <class A>
class isolated_ref {
  static_assert(nodes::isolated_actor<A>,
                "troupe::isolated_ref<A>: register A with "
                "TROUPE_ISOLATED_ACTOR(A, \"name\", messages...) at namespace scope");
  using list = typename nodes::detail::messages_of<A>::type;

  template <class M>
  static constexpr void check() {
    static_assert(wire::named_message<M>,
                  "troupe::isolated_ref<A>: message type M crosses a process boundary and needs "
                  "a stable name: TROUPE_MESSAGE(M, \"name\")");
    static_assert(nodes::detail::in_list<M, list>,
                  "troupe::isolated_ref<A>: message type M is not in the list given to "
                  "TROUPE_ISOLATED_ACTOR(A, name, ...)");
    static_assert(handles<A, M>, "troupe::isolated_ref<A>: A has no handler on(M)");
  }

 public:
  using actor_type = A;

  isolated_ref() noexcept = default;

  /// Sends `m` to A in the child. dead once the child is gone; full if the
  /// connection's send queue is full and this thread may not wait.
  template <class M>
  send_result send(const M& m) const {
    check<std::remove_cvref_t<M>>();
    return nodes::detail::peer_send(peer(), &nodes::detail::encode_msg<std::remove_cvref_t<M>>,
                                    &m);
  }

  /// Asks A in the child; the future fails with errc::peer_lost if the
  /// child is lost first, errc::handler_threw if the handler threw.
  template <class M>
  auto ask(const M& m) const {
    using R = handler_result_t<A, std::remove_cvref_t<M>>;
    promise<R> p;
    future<R> f = p.get_future();
    ask_into(m, std::move(p));
    return f;
  }

  /// As ask(), completing `p` (which must be for A's reply type to M).
  template <class M, class R>
  void ask_into(const M& m, promise<R> p) const {
    using msg_t = std::remove_cvref_t<M>;
    check<msg_t>();
    static_assert(std::is_same_v<R, handler_result_t<A, msg_t>>,
                  "troupe::isolated_ref<A>::ask_into: the promise is not for A's reply type");
    if constexpr (!std::is_void_v<R>) {
      static_assert(wire::has_codec<R>,
                    "troupe::isolated_ref<A>::ask(M): the reply type needs a codec "
                    "(TROUPE_FIELDS or a troupe::wire::codec specialization)");
    }
    nodes::detail::peer_ask(peer(), &nodes::detail::encode_msg<msg_t>, &m,
                            [p = std::move(p)](const nodes::detail::reply_view& r) mutable {
                              complete(p, r);
                            });
  }

  /// Graceful stop: A handles what was sent before, then the child exits.
  void stop() const { nodes::detail::peer_stop(peer()); }
  /// Kills the child process at once.
  void kill() const { nodes::detail::peer_kill(peer()); }
  /// True once the child is gone and reaped.
  [[nodiscard]] bool terminated() const { return nodes::detail::peer_terminated(peer()); }
  /// Waits until the child is gone; false on timeout.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> d) const {
    return nodes::detail::peer_wait(peer(),
                                    std::chrono::ceil<std::chrono::milliseconds>(d));
  }
  /// The child's process id.
  [[nodiscard]] int pid() const { return nodes::detail::peer_pid(peer()); }
  /// The local stand-in to monitor or link: it terminates with the child's
  /// down reason.
  [[nodiscard]] actor_addr addr() const { return nodes::detail::peer_addr(peer()); }

  /// As addr(): an isolated_ref converts to actor_addr like a ref<A>, so
  /// `monitor(c)`, `link(c)` take it directly.
  operator actor_addr() const { return addr(); }  // NOLINT(google-explicit-constructor)

  explicit operator bool() const noexcept { return owner_ != nullptr; }

  /// For spawn_isolated.
  struct owner {
    std::shared_ptr<nodes::detail::process_peer> p;
    explicit owner(std::shared_ptr<nodes::detail::process_peer> peer) : p(std::move(peer)) {}
    owner(const owner&) = delete;
    owner& operator=(const owner&) = delete;
    ~owner() { nodes::detail::peer_release(*p, std::chrono::milliseconds(1000)); }
  };
  explicit isolated_ref(std::shared_ptr<owner> o) noexcept : owner_(std::move(o)) {}

 private:
  template <class R>
  static void complete(promise<R>& p, const nodes::detail::reply_view& r) {
    if (!r.ok) {
      p.set_error(r.code, std::string(r.what));
      return;
    }
    if constexpr (std::is_void_v<R>) {
      p.set_value();
    } else {
      R v{};
      wire::reader rd(r.body);
      wire::read_value(rd, v);
      if (!rd.complete()) {
        p.set_error(errc::peer_lost, "isolated ask: bad reply: " + rd.result("reply").message());
        return;
      }
      p.set_value(std::move(v));
    }
  }

  nodes::detail::process_peer& peer() const {
    if (!owner_) throw error(errc::invalid_argument, "isolated_ref: empty ref");
    return *owner_->p;
  }

  std::shared_ptr<owner> owner_;
};

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
  auto peer = nodes::detail::launch(sys, troupe_isolated_name(static_cast<const A*>(nullptr)),
                                    type, opts);
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

namespace nodes {
/// ask(child_pid{}) of an isolated_proxy: the process id of its current
/// child (0 between incarnations).
struct child_pid {};
}  // namespace nodes

/// A local actor that runs A in a child process and stands for it, so that
/// a supervisor can restart an isolated actor: start it with
/// `troupe::start_child<A>(sup, child_opts, troupe::isolated, isolated_opts)`
/// (or spawn one yourself: `sys.spawn<troupe::isolated_proxy<A>>(troupe::detached, opts)`).
///
/// - Each incarnation starts a new child process in on_start and monitors
///   it. When the child is lost (crash, exit, missed heartbeats, resource
///   limit) or A's handler threw, the proxy exits with the child's down
///   reason, so its supervisor restarts it (a new process, A's state new);
///   when A stopped itself normally, the proxy stops normally.
/// - Every message type in A's TROUPE_ISOLATED_ACTOR list is accepted and
///   handed on unchanged: a send as a send, an ask as an ask, whose future
///   completes with A's reply or fails with the child's error (peer_lost
///   naming the signal or exit status, handler_threw), exactly as on an
///   isolated_ref. The proxy does not wait for replies: it goes on with its
///   next message.
/// - Messages queued in the proxy's mailbox across a restart go to the new
///   child, in order.
/// - The proxy must run detached (a thread of its own; start_child sets
///   it): starting and stopping a child blocks, and a full connection queue
///   makes a send wait. On a pool worker its on_start fails with
///   errc::invalid_argument.
/// - A message that reaches the proxy after its child died but before the
///   child's down is not delivered: a send is logged (warning) with its
///   type, an ask fails with errc::peer_lost. The down that follows ends
///   the incarnation with the child's reason.
template <class A>
class isolated_proxy : public actor<isolated_proxy<A>> {
  static_assert(nodes::isolated_actor<A>,
                "troupe::isolated_proxy<A>: register A with "
                "TROUPE_ISOLATED_ACTOR(A, \"name\", messages...) at namespace scope");
  using list = typename nodes::detail::messages_of<A>::type;

 public:
  /// True for A's message types: the ones this proxy hands on.
  template <class M>
  static constexpr bool accepted = nodes::detail::in_list<M, list>;

  explicit isolated_proxy(nodes::isolated_options opts = {}) : opts_(std::move(opts)) {}

  void on_start() {
    if (troupe::detail::on_pool_worker()) {
      // Starting and stopping a child blocks (exec and handshake; the
      // graceful stop), and a full connection queue must make a send wait:
      // none of that may stall a pool worker.
      throw error(errc::invalid_argument,
                  "isolated_proxy<" + troupe::detail::type_name<A>() +
                      ">: must run detached (start_child with troupe::isolated does; "
                      "or spawn it with troupe::detached)");
    }
    child_ = spawn_isolated<A>(this->system(), opts_);
    this->monitor(child_.addr());
  }

  /// The child is gone: this incarnation ends with its reason.
  void on(troupe::down d) { this->stop(std::move(d.reason)); }

  [[nodiscard]] int on(nodes::child_pid /*unused*/) const { return child_ ? child_.pid() : 0; }

  /// A's message types, with A's reply types. Declared for ref's type
  /// checks only: the runtime calls forward_send / forward_ask instead.
  template <class M>
    requires accepted<M>
  handler_result_t<A, M> on(M m);

  /// The handle of the current child (empty before on_start).
  [[nodiscard]] const isolated_ref<A>& child() const noexcept { return child_; }

  // Called by the runtime for accepted message types (troupe::forwards).
  template <class M>
  void forward_send(M&& m) {
    const send_result r = child_.send(m);
    if (r != send_result::ok) {
      // The child is gone and its down is queued behind this message; that
      // down, not this send, decides how the incarnation ends.
      nodes::detail::log_proxy_drop(troupe::detail::type_name<isolated_proxy>(),
                                    troupe::detail::message_type_name<std::remove_cvref_t<M>>(), r);
    }
  }
  template <class M, class R>
  void forward_ask(M&& m, promise<R>&& p) {
    child_.ask_into(m, std::move(p));
  }

 private:
  nodes::isolated_options opts_;
  isolated_ref<A> child_;
};

template <class A, class M>
inline constexpr bool forwards<isolated_proxy<A>, M> = isolated_proxy<A>::template accepted<M>;

/// Adds an isolated actor A to supervisor `sup`: a detached
/// isolated_proxy<A> that starts a new child process at every (re)start.
/// The returned ref sends and asks A's message types; see isolated_proxy.
template <class A>
ref<isolated_proxy<A>> start_child(const ref<supervisor>& sup, child_options opts,
                                   isolated_t /*tag*/, nodes::isolated_options iso = {}) {
  opts.spawn.detached = true;
  return start_child<isolated_proxy<A>>(sup, std::move(opts), std::move(iso));
}

}  // namespace troupe
