#pragma once
/// Looking at a running system: system::actors() lists the live actors with
/// their figures, system::metrics() gives the system's counters as values,
/// and system::metrics_text() the same in Prometheus' text exposition
/// format. Each figure is read atomically but not all at one instant, and
/// keeping them costs no lock per message. See docs/observability.md.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace troupe {

/// What a live actor is doing when it is looked at.
enum class actor_state : unsigned char {
  idle,        ///< nothing queued, not scheduled
  busy,        ///< scheduled or running: its mailbox has work
  restarting,  ///< a supervised child between two incarnations
};

/// "idle", "busy" or "restarting".
[[nodiscard]] const char* to_string(actor_state s) noexcept;

/// One live actor, as system::actors() saw it.
struct actor_info {
  std::uint64_t id = 0;  ///< the actor's id (as in logs and traces: Type#id)
  std::string type;      ///< its type's name
  std::string name;      ///< a name it has in system::registry(), or empty
  actor_state state = actor_state::idle;
  bool detached = false;          ///< runs on a thread of its own
  bool isolated = false;          ///< a local stand-in for an actor in a child process
  std::size_t mailbox_depth = 0;  ///< messages queued, not yet handled
  std::uint64_t handled = 0;      ///< messages handled (all incarnations)
  /// Time spent in its handler batches (all incarnations), counted from the
  /// first call of system::actors() (or from the start with
  /// system_config::time_handlers).
  std::chrono::nanoseconds busy{};
  std::uint64_t restarts = 0;  ///< times its supervisor restarted it
};

/// The system's counters at one look (see system_stats for each meaning).
struct system_metrics {
  unsigned workers = 0;                  ///< pool threads
  std::size_t live_actors = 0;           ///< spawned, not yet terminated
  std::size_t detached_actors = 0;       ///< of which on threads of their own
  std::uint64_t spawned = 0;             ///< actors spawned since start
  std::uint64_t messages_processed = 0;  ///< handler runs since start
  std::uint64_t dead_letters_actor_dead = 0;
  std::uint64_t dead_letters_mailbox_full = 0;
  std::uint64_t dead_letters_dropped = 0;
  std::uint64_t dead_letters_crashed = 0;
  std::uint64_t actor_failures = 0;   ///< incarnations ended by an exception
  std::uint64_t restarts = 0;         ///< restarts made by supervisors
  std::size_t mailbox_depth = 0;      ///< messages queued over all live actors
  std::size_t max_mailbox_depth = 0;  ///< the deepest mailbox
  bool tracing = false;               ///< a trace is being recorded
  [[nodiscard]] std::uint64_t dead_letters() const noexcept {
    return dead_letters_actor_dead + dead_letters_mailbox_full + dead_letters_dropped +
           dead_letters_crashed;
  }
};

}  // namespace troupe
