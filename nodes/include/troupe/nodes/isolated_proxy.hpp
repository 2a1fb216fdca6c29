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
/// - Every message type in A's TROUPE_ISOLATED_ACTOR list is accepted and
///   handed on unchanged: a send as a send, an ask as an ask, whose future
///   completes with A's reply or fails with the child's error (peer_lost
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

  /// A's message types, with A's reply types. Declared for ref's type
  /// checks only: the runtime calls forward_send / forward_ask instead.
  template <class M>
  requires accepted<M> handler_result_t<A, M> on(M m);

  /// The ref of the current child (empty before on_start).
  [[nodiscard]] const ref<A>& child() const noexcept { return child_; }

  // Called by the runtime for accepted message types (troupe::forwards).
  template <class M>
  void forward_send(M&& m) {
    const send_result r = child_.send(std::forward<M>(m));
    if (r != send_result::ok) {
      // The child is gone and its down is queued behind this message; that
      // down, not this send, decides how the incarnation ends.
      nodes::detail::log_proxy_drop(troupe::detail::type_name<isolated_proxy>(),
                                    troupe::detail::message_type_name<std::remove_cvref_t<M>>(), r);
    }
  }
  template <class M, class R>
  void forward_ask(M&& m, promise<R>&& p) {
    static_assert(std::is_same_v<R, handler_result_t<A, std::remove_cvref_t<M>>>);
    troupe::detail::remote_ask<A, std::remove_cvref_t<M>, R>(child_.cell_ptr(), std::move(p), m);
  }

 private:
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
  using list = typename messages_of<A>::type;

 public:
  proxy_port(ref<proxy_t> proxy, std::shared_ptr<std::atomic<int>> pid)
      : proxy_(std::move(proxy)), pid_(std::move(pid)) {}

  send_result send(const troupe::detail::remote_message& m,
                   troupe::detail::send_wait /*w*/) override {
    return entry(m, "send").send(proxy_, m.value);
  }
  void ask(const troupe::detail::remote_message& m,
           std::unique_ptr<troupe::detail::remote_promise> p,
           troupe::detail::send_wait /*w*/) override {
    entry(m, "ask").ask(proxy_, m.value, std::move(p));
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
  struct message_ops {
    const std::type_info* type;
    send_result (*send)(const ref<proxy_t>&, const void*);
    void (*ask)(const ref<proxy_t>&, const void*, std::unique_ptr<troupe::detail::remote_promise>);
  };
  template <class M>
  static send_result send_one(const ref<proxy_t>& p, const void* v) {
    return p.try_send(*static_cast<const M*>(v));  // unbounded: never full
  }
  template <class M>
  static void ask_one(const ref<proxy_t>& p, const void* v,
                      std::unique_ptr<troupe::detail::remote_promise> rp) {
    using R = handler_result_t<A, M>;
    auto& pr = *static_cast<promise<R>*>(rp->get());
    p.cell_ptr()->enqueue(
        new troupe::detail::ask_node<proxy_t, M, R>(std::move(pr), *static_cast<const M*>(v)));
  }
  template <class... Ms>
  static std::span<const message_ops> ops(message_list<Ms...> /*unused*/) {
    static const message_ops all[] = {message_ops{&typeid(Ms), &send_one<Ms>, &ask_one<Ms>}...};
    return all;
  }
  const message_ops& entry(const troupe::detail::remote_message& m, const char* op) const {
    for (const message_ops& o : ops(list{})) {
      if (*o.type == m.type) return o;
    }
    throw_not_listed(m.type, troupe::detail::type_name<A>(),
                     troupe_isolated_name(static_cast<const A*>(nullptr)), op);
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
