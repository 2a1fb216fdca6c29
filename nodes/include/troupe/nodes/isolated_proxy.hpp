#pragma once
/// troupe::isolated_proxy<A>: a local actor that runs A in a child process
/// and stands for it, so that a supervisor can restart an isolated actor;
/// and the start_child overload that adds one to a supervisor
/// (`start_child<A>(sup, opts, troupe::isolated, isolated_opts)`).

#include <string>
#include <type_traits>
#include <utility>

#include "troupe/actors/actor.hpp"
#include "troupe/actors/detail/envelope.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/handler.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/supervisor.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/nodes/isolated_ref.hpp"
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
  requires accepted<M> handler_result_t<A, M> on(M m);

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
