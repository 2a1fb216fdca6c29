#pragma once
/// Monitors and links: the messages an actor receives when another exits.
///
/// Limits first:
/// - Only actors watch: actor<D>::monitor() / link() are called from D's
///   own handlers, and the notices arrive as ordinary messages, in mailbox
///   order (after what was already queued), never as interrupts.
/// - A monitor watches a ref: it fires once, when the actor terminates for
///   good. The restart of a supervised actor keeps its ref and is not an
///   exit for its monitors.
/// - A link ties two incarnations: it fires when either side's current
///   incarnation ends (a crash, a stop, a restart by its supervisor), and a
///   restarted actor starts without links, monitors or trap_exit.
/// - A link propagates an abnormal exit (anything but normal or shutdown)
///   to a peer that does not trap exits: the peer then exits with reason
///   `linked`. An exit signal is handled in mailbox order, like a message.
///
/// Guarantees: a `down` is delivered exactly once per monitor, also when the
/// target was already dead when monitor() was called (then with its exit
/// reason at once); after demonitor(id) returns, no `down` for that monitor
/// is handled. Watching costs an idle actor nothing: the watcher lists live
/// in a block allocated on first use (docs/supervision.md).

#include <compare>
#include <cstdint>

#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/exit_reason.hpp"

namespace troupe {

/// Identifies one monitor (returned by actor::monitor()).
struct monitor_id {
  std::uint64_t value = 0;
  friend bool operator==(monitor_id, monitor_id) = default;
  friend auto operator<=>(monitor_id, monitor_id) = default;
};

/// Sent to a watcher when the actor it monitors has terminated. The watcher
/// handles it with an ordinary `void on(troupe::down)` overload.
struct down {
  actor_addr who;      ///< the actor that terminated
  exit_reason reason;  ///< why (normal, killed, exception type and what, peer lost, ...)
  monitor_id id;       ///< the monitor that fired
};

/// Sent to an actor that traps exits (actor::trap_exit(true)) when a linked
/// actor's incarnation ended (any reason), or when its supervisor asks it to
/// stop (`from` is the supervisor, `reason` is shutdown): the actor decides
/// what to do, e.g. clean up and stop(). Handle it with `void on(troupe::exit_msg)`.
struct exit_msg {
  actor_addr from;     ///< the linked actor that exited, or the supervisor
  exit_reason reason;  ///< its exit reason
};

}  // namespace troupe
