#pragma once
/// troupe::isolated_ref<A>: the handle of an actor A running in a child
/// process, with ref<A>'s API (send, ask, stop, kill, terminated) plus
/// addr() to monitor or link it. Made by spawn_isolated
/// (troupe/nodes/isolated_spawn.hpp); see troupe/nodes/isolated.hpp.

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/handler.hpp"
#include "troupe/nodes/detail/payload.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/codec.hpp"
#include "troupe/wire/message.hpp"

namespace troupe {

/// A handle to an actor A running in a child process. Copyable; the last
/// copy stops the child (graceful, killed after 1 s, wherever it dies; it
/// waits until the child is reaped except on the backend's own threads).
/// Member functions are @threadsafe.
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

  /// Sends `m` to A in the child. closed once the child is gone; full if the
  /// connection's send queue is full and this thread may not wait.
  template <class M>
  send_result send(const M& m) const {
    check<std::remove_cvref_t<M>>();
    return nodes::detail::peer_send(peer(), &nodes::detail::encode_msg<std::remove_cvref_t<M>>, &m);
  }

  /// Asks A in the child; the future fails with errc::peer_lost if the
  /// child is lost first, errc::handler_threw if the handler threw. The
  /// future completes on the backend's completion thread (a then()
  /// continuation runs there, never on the I/O thread), where a blocking
  /// wait throws errc::would_block_worker. After a graceful stop() every
  /// reply the child sent still completes its ask.
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
                              nodes::detail::complete_reply(p, r, "isolated ask", "reply",
                                                            [](bool /*ok*/) {});
                            });
  }

  /// Graceful stop: A handles what was sent before, then the child exits.
  void stop() const { nodes::detail::peer_stop(peer()); }
  /// Kills the child process at once.
  void kill() const { nodes::detail::peer_kill(peer()); }
  /// True once the child is gone and reaped.
  [[nodiscard]] bool terminated() const { return nodes::detail::peer_terminated(peer()); }
  /// Waits until the child is gone; false on timeout. Throws
  /// errc::would_block_worker on a pool worker or a backend thread.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> d) const {
    return nodes::detail::peer_wait(peer(), std::chrono::ceil<std::chrono::milliseconds>(d));
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
  nodes::detail::process_peer& peer() const {
    if (!owner_) throw error(errc::invalid_argument, "isolated_ref: empty ref");
    return *owner_->p;
  }

  std::shared_ptr<owner> owner_;
};

}  // namespace troupe
