#pragma once
// Notice nodes: the `down` and `exit_msg` messages of monitors and links,
// allocated when the monitor or link is made (so delivering them at
// termination never allocates) and filled in when the watched actor exits.

#include <cstdint>
#include <new>
#include <utility>

#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/envelope.hpp"
#include "troupe/actors/monitor.hpp"

namespace troupe::detail {

class notice_node : public message {
 public:
  enum class purpose : unsigned char {
    monitor,       ///< a down; tag = monitor id
    link,          ///< an exit signal; tag = the incarnation of `who` that ended
    stop_request,  ///< a supervisor asks its child to stop (exit_msg if it traps exits)
    dead_link,     ///< link() to an actor that was already dead: its exit signal, at once
  };

  explicit notice_node(purpose p) noexcept : message(kind::notice), role(p) {}

  /// Fills in who exited and why. On allocation failure only the reason's
  /// code is copied.
  void fill(cell* exited, const exit_reason& why) noexcept;
  [[nodiscard]] const char* type_name() const noexcept override;

  actor_addr who;
  exit_reason reason;
  std::uint64_t tag = 0;
  purpose role;
};

/// Watcher side of a down: true (and the monitor is forgotten) if monitor
/// `id` is still active; false after demonitor(). Actor thread only.
bool consume_monitor(cell& watcher, std::uint64_t id) noexcept;
/// Receiver side of an exit signal from `peer`'s incarnation `inc`: true
/// (and the link is forgotten) if that link still exists. Actor thread only.
bool consume_link(cell& self, cell* peer, std::uint64_t inc) noexcept;
/// An exit signal the actor does not trap: a stop request stops it; an
/// abnormal exit of a linked actor makes it exit with reason `linked`.
void exit_untrapped(cell& self, notice_node& n) noexcept;

// The operations behind actor<D>::monitor() etc. `w`/`a` is the calling
// actor (its own thread). They throw std::bad_alloc.
/// Monitors `t` on behalf of `w`, taking ownership of `node` (its down).
std::uint64_t monitor_attach(cell& w, cell& t, notice_node* node);
/// False if `id` is not an active monitor of `w`.
bool demonitor(cell& w, std::uint64_t id) noexcept;
void link_cells(cell& a, cell& b);
/// False if `a` and `b` were not linked.
bool unlink_cells(cell& a, cell& b) noexcept;
void set_trap_exit(cell& c, bool on);

template <class A>
class down_node final : public notice_node {
 public:
  down_node() noexcept : notice_node(purpose::monitor) {}
  void run(cell& c) override {
    if (!consume_monitor(c, tag)) return;  // demonitored meanwhile
    object_of<A>(c).on(down{std::move(who), std::move(reason), monitor_id{tag}});
  }
};

template <class A>
class exit_node final : public notice_node {
 public:
  exit_node() noexcept : notice_node(purpose::link) {}
  void run(cell& c) override {
    if (role == purpose::link && !consume_link(c, who.cell_ptr(), tag)) return;  // unlinked
    if constexpr (handles<A, exit_msg>) {
      if (c.trapping_exits()) {
        object_of<A>(c).on(exit_msg{std::move(who), std::move(reason)});
        return;
      }
    }
    exit_untrapped(c, *this);
  }
};

template <class A>
message* make_exit_node() noexcept {
  return new (std::nothrow) exit_node<A>();
}

}  // namespace troupe::detail
