#pragma once
/// troupe::isolated_proxy<A>: a local actor that runs A in a child process
/// and stands for it, so that a supervisor can restart an isolated actor;
/// and the start_child overload that adds one to a supervisor
/// (`start_child<A>(sup, opts, troupe::isolated, isolated_opts)`).

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "troupe/actors/actor.hpp"
#include "troupe/actors/detail/envelope.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/remote.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/handler.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/supervisor.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/nodes/isolated_spawn.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/detail/type_name.hpp"
#include "troupe/wire/writer.hpp"

namespace troupe {

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
/// - Every message type A handles is accepted and handed on unchanged (one
///   that cannot cross, without TROUPE_MESSAGE, is refused at the send): a send as a send, an ask
///   as an ask, whose future completes with A's reply or fails with the child's error (peer_lost
///   naming the signal or exit status, handler_threw), exactly as on the
///   child's own ref<A>. The proxy does not wait for replies: it goes on with its
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
namespace nodes::detail {
/// A message for the proxy's child, encoded by the ref<A> that the
/// supervisor's start_child returned (its port): the proxy's mailbox keeps
/// it across restarts; an ask carries its promise.
struct forwarded {
  forwarded(std::vector<std::byte> b, const troupe::detail::remote_ops* o,
            std::unique_ptr<troupe::detail::remote_promise> p) noexcept
      : bytes(std::move(b)), ops(o), promise(std::move(p)) {}
  forwarded(forwarded&&) noexcept = default;
  forwarded& operator=(forwarded&&) noexcept = default;
  forwarded(const forwarded&) = delete;
  forwarded& operator=(const forwarded&) = delete;
  /// An ask that never reached the proxy (it was gone) fails as an ask to
  /// a dead actor does.
  ~forwarded() {
    if (promise) promise->fail(errc::actor_dead, "ask: the isolated actor's proxy is gone");
  }

  std::vector<std::byte> bytes;  ///< `[id][fields]`
  const troupe::detail::remote_ops* ops = nullptr;
  std::unique_ptr<troupe::detail::remote_promise> promise;  ///< null: a send
};
}  // namespace nodes::detail

template <class A>
class isolated_proxy : public actor<isolated_proxy<A>> {
  static_assert(nodes::isolated_actor<A>,
                "troupe::isolated_proxy<A>: register A with "
                "TROUPE_ISOLATED_ACTOR(A, \"name\") at namespace scope");

 public:
  /// True for A's message types: the ones this proxy hands on.
  template <class M>
  static constexpr bool accepted =
      handles<A, M> && !std::is_same_v<M, troupe::down> && !std::is_same_v<M, nodes::child_pid> &&
      !std::is_same_v<M, nodes::detail::forwarded>;

  /// `pid`, if given, holds the current child's process id (0 between
  /// children), for readers on other threads.
  explicit isolated_proxy(nodes::isolated_options opts = {},
                          std::shared_ptr<std::atomic<int>> pid = nullptr)
      : opts_(std::move(opts)), pid_(std::move(pid)) {}

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
    this->monitor(child_);
    if (pid_) pid_->store(child_.location().pid, std::memory_order_release);
  }

  /// The incarnation ends (a restart, a stop, a shutdown): its child is
  /// stopped, killed if it has not stopped after 1 s, and waited for (every
  /// reply of it completes first; a restart never overlaps two children).
  void on_stop() {
    if (pid_) pid_->store(0, std::memory_order_release);
    if (!child_) return;
    child_.cell_ptr()->request_shutdown_stop();
    (void)nodes::detail::wait_isolated_gone(*child_.cell_ptr(), std::chrono::seconds(10));
  }

  /// The child is gone: this incarnation ends with its reason.
  void on(troupe::down d) { this->stop(std::move(d.reason)); }

  [[nodiscard]] int on(nodes::child_pid /*unused*/) const {
    return child_ ? child_.location().pid : 0;
  }

  /// A message from the supervisor's ref<A>, already encoded.
  void on(nodes::detail::forwarded f) {
    const bool ask = f.promise != nullptr;
    const send_result r =
        nodes::detail::forward_encoded(*child_.cell_ptr(), f.bytes, *f.ops, std::move(f.promise));
    if (!ask && r != send_result::ok) drop(demangled(*f.ops->type), r);
  }

  /// A's message types, with A's reply types. Declared for ref's type
  /// checks only: the runtime calls forward_send / forward_ask instead.
  template <class M>
  requires accepted<M> handler_result_t<A, M> on(M m);

  /// The ref of the current child (empty before on_start).
  [[nodiscard]] const ref<A>& child() const noexcept { return child_; }

  // Called by the runtime for accepted message types (troupe::forwards).
  template <class M>
  void forward_send(M&& m) {
    using msg_t = std::remove_cvref_t<M>;
    send_result r = send_result::closed;
    try {
      r = child_.send(std::forward<M>(m));
    } catch (const std::exception& e) {
      // A type that cannot cross: the sender's error, not the proxy's.
      nodes::detail::log_proxy_refused(troupe::detail::type_name<isolated_proxy>(), e.what());
      return;
    }
    if (r != send_result::ok) drop(troupe::detail::message_type_name<msg_t>(), r);
  }
  template <class M, class R>
  void forward_ask(M&& m, promise<R>&& p) {
    using msg_t = std::remove_cvref_t<M>;
    static_assert(std::is_same_v<R, handler_result_t<A, msg_t>>);
    try {
      (void)nodes::detail::checked_ops(
          troupe::detail::remote_message{typeid(A), typeid(msg_t), &m,
                                         troupe::detail::remote_ops_for<A, msg_t>()},
          troupe::detail::type_name<A>(), "ask");
    } catch (const troupe::error& e) {
      p.set_error(e.value(), e.what());
      return;
    }
    troupe::detail::remote_ask<A, msg_t, R>(child_.cell_ptr(), std::move(p), m);
  }

 private:
  static std::string demangled(const std::type_info& t) { return wire::detail::demangle(t.name()); }
  template <class Name>
  void drop(const Name& type, send_result r) const {
    // The child is gone and its down is queued behind this message; that
    // down, not this send, decides how the incarnation ends.
    nodes::detail::log_proxy_drop(troupe::detail::type_name<isolated_proxy>(), type, r);
  }

  nodes::isolated_options opts_;
  std::shared_ptr<std::atomic<int>> pid_;
  ref<A> child_;
};

template <class A, class M>
inline constexpr bool forwards<isolated_proxy<A>, M> = isolated_proxy<A>::template accepted<M>;

namespace nodes::detail {

/// The port of the ref<A> that start_child(..., troupe::isolated) returns:
/// it hands what the ref is given to the supervised isolated_proxy<A>, whose
/// mailbox keeps it across restarts, in order, for the next child. The
/// ref's cell follows the proxy: it ends when the proxy ends for good.
template <class A>
class proxy_port final : public troupe::detail::remote_port {
  using proxy_t = isolated_proxy<A>;

 public:
  proxy_port(ref<proxy_t> proxy, std::shared_ptr<std::atomic<int>> pid)
      : proxy_(std::move(proxy)), pid_(std::move(pid)) {}

  send_result send(const troupe::detail::remote_message& m,
                   troupe::detail::send_wait /*w*/) override {
    return proxy_.try_send(encoded(m, "send", nullptr));  // unbounded: never full
  }
  void ask(const troupe::detail::remote_message& m,
           std::unique_ptr<troupe::detail::remote_promise> p,
           troupe::detail::send_wait /*w*/) override {
    // A proxy that is gone fails the ask (actor_dead, as the message ends).
    (void)proxy_.try_send(encoded(m, "ask", std::move(p)));
  }
  /// As for a local supervised actor: a stop or kill ends the proxy's
  /// incarnation and its supervisor decides. A system's shutdown reaches
  /// the proxy through its supervisor.
  void stop(bool shutdown) noexcept override {
    if (!shutdown) proxy_.stop();
  }
  void kill(std::string /*why*/) noexcept override { proxy_.kill(); }
  /// Sends go to the proxy's mailbox, which counts its own dead letters.
  [[nodiscard]] bool counts_dead_letters() const noexcept override { return true; }
  [[nodiscard]] troupe::location where() const override {
    return troupe::location{
        troupe::location::kind::process, pid_->load(std::memory_order_acquire), {}};
  }

 private:
  /// Checked and encoded on the sender's thread: a type that cannot cross,
  /// or a message over the limits, is the sender's error.
  static forwarded encoded(const troupe::detail::remote_message& m, const char* op,
                           std::unique_ptr<troupe::detail::remote_promise> p) {
    const troupe::detail::remote_ops& ops = checked_ops(m, troupe::detail::type_name<A>(), op);
    std::vector<std::byte> bytes;
    wire::writer w(bytes);
    ops.encode(w, m.value);
    return forwarded(std::move(bytes), &ops, std::move(p));
  }

  ref<proxy_t> proxy_;
  std::shared_ptr<std::atomic<int>> pid_;
};

}  // namespace nodes::detail

/// Adds an isolated actor A to supervisor `sup`: a detached
/// isolated_proxy<A> that starts a new child process at every (re)start,
/// and returns a ref<A>, like the child of spawn<A>(troupe::isolated). Its
/// sends and asks go through the proxy, so what is sent while a child is
/// being replaced reaches the next one, in order; location() names the
/// current child (pid 0 between children); a stop or kill through it ends
/// the current incarnation and the supervisor decides, as for a local
/// child; monitors see one down, when the proxy ends for good.
template <class A>
ref<A> start_child(const ref<supervisor>& sup, child_options opts, isolated_t /*tag*/,
                   nodes::isolated_options iso = {}) {
  opts.spawn.detached = true;
  // Unbounded: the proxy's mailbox holds what waits for the next child
  // (the connection's send queue bounds what is in flight).
  opts.spawn.capacity = 0;
  opts.spawn.policy = overflow::fail;
  auto pid = std::make_shared<std::atomic<int>>(0);
  ref<isolated_proxy<A>> proxy =
      start_child<isolated_proxy<A>>(sup, std::move(opts), std::move(iso), pid);
  return ref<A>(
      typename ref<A>::adopt_t{},
      troupe::detail::make_remote_cell(
          troupe::detail::owner(proxy.cell_ptr()->core()), typeid(A),
          troupe::detail::type_name<A>(),
          std::make_shared<nodes::detail::proxy_port<A>>(proxy, std::move(pid)), proxy.cell_ptr()));
}

}  // namespace troupe
