#pragma once
// Cells of actors that live elsewhere (a child process, another host): the
// core's side of one ref<A> for every place. Names no transport.
//
// A remote_cell is a cell without an actor object. A user message sent to
// it never enters its mailbox: ref<A> sees the cell's send kind (the one
// branch every send pays already) and hands the message, typed but not
// encoded, to the cell's port, the transport of the place where the actor
// lives, which encodes it on the sender's thread and queues it on its link.
// The mailbox holds runtime messages only: the port's "gone" notice, after
// which the cell terminates with the remote actor's exit reason (so
// monitors, links and terminated() behave as for a local actor), and exit
// signals of linked actors, which the port turns into a stop or kill of
// the remote actor. Stop, kill and a system's shutdown go to the port; the
// cell lives until the port reports the actor gone, so a shutdown waits for
// remote actors as for local ones.

#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/remote_message.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/exit_reason.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/location.hpp"
#include "troupe/actors/mailbox.hpp"
#include "troupe/actors/send_result.hpp"

namespace troupe {
class system;
}

namespace troupe::detail {

/// An ask's promise<R> with its type erased, for the port, whose
/// remote_ops (typed for A and M) completes it.
class remote_promise {
 public:
  remote_promise() = default;
  remote_promise(const remote_promise&) = delete;
  remote_promise& operator=(const remote_promise&) = delete;
  virtual ~remote_promise() = default;
  /// The promise<R>.
  virtual void* get() noexcept = 0;
  /// Fails the promise (if it is still pending).
  virtual void fail(errc code, std::string what) noexcept = 0;
};

template <class R>
class remote_promise_of final : public remote_promise {
 public:
  explicit remote_promise_of(promise<R>&& p) noexcept : p_(std::move(p)) {}
  void* get() noexcept override { return &p_; }
  void fail(errc code, std::string what) noexcept override { p_.set_error(code, std::move(what)); }

 private:
  promise<R> p_;
};

/// The transport of the place a remote actor lives (implemented by the
/// process backend, and by the cluster for another host). @threadsafe
class remote_port {
 public:
  remote_port() = default;
  remote_port(const remote_port&) = delete;
  remote_port& operator=(const remote_port&) = delete;
  virtual ~remote_port() = default;

  /// Encodes `m` and queues it. closed once the actor is gone; full when
  /// the link's send queue is full and `w` is send_wait::never (with
  /// send_wait::block a plain thread waits for room). Throws troupe::error
  /// (errc::invalid_argument) for a message type that cannot cross.
  virtual send_result send(const remote_message& m, send_wait w) = 0;
  /// As send() with send_wait::never, but a full link parks the message
  /// (which stays valid until then) instead of refusing it: `cb` is told
  /// once, now or when it got in (ok) or the actor was gone (closed).
  /// Throws as send() does, without telling `cb`.
  virtual void send_parked(const remote_message& m, park_callback* cb) {
    cb->done(send(m, send_wait::never));
  }
  /// As send(), for an ask: `p` is completed with the reply or failed
  /// (errc::peer_lost, errc::mailbox_full, ...), on a thread of the port's.
  virtual void ask(const remote_message& m, std::unique_ptr<remote_promise> p, send_wait w) = 0;
  /// Graceful stop: the actor handles what was sent before, then ends.
  /// `shutdown`: its system is shutting down (the port bounds the wait).
  virtual void stop(bool shutdown) noexcept = 0;
  /// Ends the actor at once; `why` goes into its exit reason.
  virtual void kill(std::string why) noexcept = 0;
  [[nodiscard]] virtual location where() const = 0;
  /// True if send() counts its own dead letters (it hands messages to a
  /// local actor); else the cell counts a closed send as one.
  [[nodiscard]] virtual bool counts_dead_letters() const noexcept { return false; }
};

class remote_cell final : public cell {
 public:
  remote_cell(system_core& core, std::uint64_t id, const std::type_info& type,
              std::string type_name, bool start_awake) noexcept;

  [[nodiscard]] remote_port& port() const noexcept { return *port_; }

  /// The port's report that the actor is gone: the cell terminates with
  /// `why` once its mailbox reaches the notice. At most once (a cell made
  /// to follow a local actor ends with it instead). @threadsafe
  void gone(exit_reason why) noexcept;

  /// ref<A>'s send to this cell: a closed result counts a dead letter.
  send_result send(const remote_message& m, send_wait w);
  /// A parked send to this cell ended closed: counts its dead letter.
  void parked_closed() noexcept;

  const char* type_name() const noexcept override { return type_name_.c_str(); }
  const std::type_info& type() const noexcept override { return type_; }
  message* make_exit_node() const noexcept override;

 private:
  void start_hook() override {}
  void stop_hook() override {}
  void destroy_object() noexcept override {}
  void free_memory() noexcept override { delete this; }
  bool intercept_stop(bool /*shutdown*/) override { return false; }

  friend remote_cell* make_remote_cell(troupe::system&, const std::type_info&, std::string,
                                       std::shared_ptr<remote_port>, cell*);

  const std::type_info& type_;
  std::string type_name_;
  // Set before the cell is linked into its system (so a shutdown that
  // stops it finds it); lives as long as the cell's memory.
  std::shared_ptr<remote_port> port_;
};

/// A new remote cell of `sys` for an actor of type `type` behind `port`,
/// registered like a spawned actor (a shutdown waits for it, and may stop
/// it through the port at once); holds one reference for the caller.
/// Without `follow`, the port must call gone() once the actor is gone.
/// With it, the cell instead terminates when `follow` (a local actor the
/// port hands messages to) terminates for good, with its reason (a
/// monitor: a supervised actor's restarts do not end it). Throws
/// errc::system_shutdown once shutdown has begun, std::bad_alloc.
remote_cell* make_remote_cell(troupe::system& sys, const std::type_info& type,
                              std::string type_name, std::shared_ptr<remote_port> port,
                              cell* follow = nullptr);

/// ref<A>::location() of a cell.
location location_of(const cell& c);

/// The out-of-line halves of remote_send and remote_ask (the cell is a
/// remote_cell).
send_result send_to_remote(cell* c, const remote_message& m, send_wait w);
void ask_remote(cell* c, const remote_message& m, std::unique_ptr<remote_promise> p, send_wait w);

/// ref<A>::send() and try_send() on a remote cell: a plain thread may wait
/// for room on the link (send only); a pool worker is refused with full,
/// which a coroutine can co_await to wait for room.
template <class A, class M, class X>
send_outcome remote_send(cell* c, X& x, bool may_wait) {
  const send_wait w = may_wait && !on_pool_worker() ? send_wait::block : send_wait::never;
  const remote_ops* ops = remote_ops_for<A, M>();
  const send_result r =
      send_to_remote(c, remote_message{typeid(A), typeid(M), std::addressof(x), ops}, w);
  // In a coroutine on the pool, a full link is not refused for good: the
  // task can co_await the outcome to wait for room.
  if (r == send_result::full && may_wait && tl_current_task != nullptr) {
    return send_outcome(c, remote_message{typeid(A), typeid(M), std::addressof(x), ops});
  }
  return r;
}

/// ref<A>::ask() on a remote cell: completes `p` with the actor's reply.
template <class A, class M, class R, class X>
void remote_ask(cell* c, promise<R>&& p, X& x) {
  const send_wait w = on_pool_worker() ? send_wait::never : send_wait::block;
  ask_remote(c, remote_message{typeid(A), typeid(M), std::addressof(x), remote_ops_for<A, M>()},
             std::make_unique<remote_promise_of<R>>(std::move(p)), w);
}

}  // namespace troupe::detail
