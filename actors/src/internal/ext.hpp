#pragma once
// cell_ext: the part of a cell that most actors never need, allocated on
// first use and reached through one pointer in the cell (so an idle actor
// stays small): watchers (monitors and links), a bounded mailbox, the
// detached thread, the supervision state of a child, registry membership.
//
// Lifetime: created by the first monitor/link/registration (or at spawn for
// bounded, detached and supervised actors), freed with the cell's memory.
// When the cell terminates it sets the "sealed" bit of its ext pointer; a
// cell sealed without an ext can get none any more (attaching to it finds
// it dead), and one with an ext marks `dead` under `mu`. Either way an
// attach racing with termination either lands in the list (and is fired by
// the terminating actor) or sees the actor dead (and fires at once): the
// notice is delivered exactly once.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/notice.hpp"
#include "troupe/actors/detail/thread_annotations.hpp"
#include "troupe/actors/detail/unique_function.hpp"
#include "troupe/actors/exit_reason.hpp"

namespace troupe::detail {

struct detached_runner;
class bounded_mailbox;

/// "When the owner of this list exits, tell `watcher`."
struct watch_entry {
  watch_entry* next = nullptr;
  cell* watcher = nullptr;      // strong reference
  notice_node* node = nullptr;  // the pre-allocated notice (monitor: its tag is the id)
  std::uint64_t peer_inc = 0;   // links: the watcher's incarnation when linked
  bool link = false;
};

/// An outgoing monitor: the watcher's record of what it monitors.
struct monitor_rec {
  std::uint64_t id;
  cell* target;  // strong reference
};

/// A supervised child's part. Written by the holder of the cell's token
/// (its supervisor) before it schedules the cell; read by the cell.
struct child_info {
  unique_function<void(cell&)> factory;  // constructs a new incarnation in the cell's storage
  cell* parent = nullptr;  // the supervisor's cell; strong reference until termination
  bool start = true;       // the pending action: start, or terminate with `reason`
  exit_reason reason;
  message* started = nullptr;  // sent to `parent` once a start succeeded
};

struct cell_ext {
  cell_ext() = default;
  cell_ext(const cell_ext&) = delete;
  cell_ext& operator=(const cell_ext&) = delete;
  ~cell_ext();

  mutex mu;
  watch_entry* watchers TROUPE_GUARDED_BY(mu) = nullptr;
  bool dead TROUPE_GUARDED_BY(mu) = false;
  // Written by the actor thread only, so it reads it without `mu`
  // (cell::incarnation()).
  std::uint64_t incarnation TROUPE_GUARDED_BY(mu) = 0;

  // Actor thread only.
  std::vector<monitor_rec> monitoring;
  bool trap_exit = false;
  exit_reason pending_exit;  // with cell::stop_reason

  // Set (seq_cst) before a registry entry is added; termination reads it
  // after closing the mailbox (with a fence), so at least one of them sees
  // the other: an unregistered actor terminates without the registry lock.
  std::atomic<bool> registered{false};

  // Fixed at spawn.
  detached_runner* runner = nullptr;
  std::unique_ptr<bounded_mailbox> mailbox;
  std::unique_ptr<child_info> child;

  // Restarts by this actor's supervisor (system::actors()).
  std::atomic<std::uint32_t> restarts{0};

  // The state a supervisor keeps across its own restarts (actor thread only).
  std::shared_ptr<void> persistent;
};

/// Fires the link entries of `c` (its incarnation ended with `why`), or all
/// entries if `final` (it terminated: monitors too; the ext is sealed).
/// Also drops `c`'s outgoing monitors. Actor thread, at the end of an
/// incarnation.
void fire_watchers(cell& c, cell_ext* e, const exit_reason& why, bool final) noexcept;

/// A terminating supervised child lets go of its supervision state: the
/// factory (which may own a supervisor's children), a pending start
/// notice, its supervisor (defined in supervisor.cpp).
void end_supervision(cell_ext& e) noexcept;

}  // namespace troupe::detail

namespace troupe::detail {
/// The event a supervised child sends its supervisor when an incarnation
/// ends (defined in supervisor.cpp); null when out of memory. Rejecting it
/// (the supervisor is dead) terminates the child.
message* make_child_event(cell* child, const exit_reason& why) noexcept;
}  // namespace troupe::detail
