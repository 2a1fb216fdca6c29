#pragma once
// A bounded mailbox: a FIFO of message nodes under a mutex, with a capacity
// in user messages and an overflow policy (troupe/actors/mailbox.hpp).
//
// The cell's inbox word keeps the scheduling state only (no nodes go
// there): a sender appends under `mu`, then, after unlocking, wakes the
// actor if it was idle (inbox::wake(), a CAS from idle to awake; the
// winner schedules). The actor goes idle only while holding `mu` and
// seeing the FIFO empty, so a sender either finds its message taken or
// finds the actor idle and wakes it: no lost wake-up.
//
// Senders waiting for room (overflow::block) queue in `waiting_`, first come
// first served: a blocked thread waits on `room_` for its slot to be
// granted (reserved for it: `size_` counts it), a parked node (a coroutine's
// send, a coroutine's ask) is moved into the FIFO when its turn comes and
// its callback runs after the lock is released. While anyone waits, new
// senders queue behind them. Closing (actor termination) wakes every
// waiter: blocked threads return `dead`, parked nodes are rejected.

#include <condition_variable>
#include <cstddef>
#include <cstdint>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/thread_annotations.hpp"
#include "troupe/actors/mailbox.hpp"

namespace troupe::detail {

/// Rejects every message of the chain `m` with `why` (asks fail, notices
/// learn it) and frees them; returns how many were user messages.
std::uint64_t reject_chain(message* m, const exit_reason& why, const char* actor_type) noexcept;

/// A sender waiting for room.
struct room_waiter {
  room_waiter* next = nullptr;
  message* node = nullptr;      // parked: the node to queue when admitted
  park_callback* cb = nullptr;  // parked: told the outcome (may be null)
  bool thread = false;          // a blocked thread (lives on its stack)
  bool granted = false;         // thread: a slot is reserved for it
  bool closed = false;          // thread: the actor terminated
};

class bounded_mailbox {
 public:
  bounded_mailbox(std::size_t capacity, overflow policy) noexcept
      : capacity_(capacity), policy_(policy) {}
  bounded_mailbox(const bounded_mailbox&) = delete;
  bounded_mailbox& operator=(const bounded_mailbox&) = delete;
  ~bounded_mailbox();

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] overflow policy() const noexcept { return policy_; }

  mutex mu;
  std::condition_variable room;  // blocked threads wait here, with mu

  /// Appends `m` (a user message counts against the capacity).
  void append(message* m, bool reserved = false) noexcept TROUPE_REQUIRES(mu);
  /// Takes the oldest message (null if none) and admits waiters into the
  /// room it frees; parked waiters admitted are chained into `admitted`.
  message* pop(room_waiter*& admitted, bool& notify) noexcept TROUPE_REQUIRES(mu);
  /// Removes the oldest user message (drop_oldest), or null.
  message* evict_oldest() noexcept TROUPE_REQUIRES(mu);
  /// True if a new sender must wait or overflow.
  [[nodiscard]] bool full() const noexcept TROUPE_REQUIRES(mu) {
    return waiting_ != nullptr || size_ >= capacity_;
  }
  [[nodiscard]] bool empty() const noexcept TROUPE_REQUIRES(mu) { return head_ == nullptr; }
  void add_waiter(room_waiter* w) noexcept TROUPE_REQUIRES(mu);
  /// Gives up a slot reserved for a blocked thread that could not use it.
  void unreserve(room_waiter*& admitted, bool& notify) noexcept TROUPE_REQUIRES(mu);
  /// Closes; returns the queued messages (oldest first) and the parked
  /// waiters (chained); blocked threads are marked closed.
  message* close(room_waiter*& parked) noexcept TROUPE_REQUIRES(mu);
  bool closed TROUPE_GUARDED_BY(mu) = false;

  // The cell's calls; each takes `mu` itself.
  /// Appends `m` unless closed (then returns false and keeps nothing).
  bool offer(message* m) noexcept TROUPE_EXCLUDES(mu);
  /// Messages queued and slots reserved for waiters (system::actors()).
  std::size_t depth() noexcept TROUPE_EXCLUDES(mu) {
    lock_guard lk(mu);
    return size_;
  }
  /// Takes the oldest message (null if none); tells the parked senders it
  /// admits and wakes blocked ones.
  message* take() noexcept TROUPE_EXCLUDES(mu);
  /// Lets the actor go idle if nothing is queued: `try_block` (the inbox's
  /// transition to idle) runs under `mu`. False if the actor must run on.
  template <class F>
  bool idle_if_empty(F&& try_block) noexcept TROUPE_EXCLUDES(mu) {
    lock_guard lk(mu);
    return empty() && try_block();
  }
  /// Closes (the actor terminates) and wakes blocked senders; returns the
  /// queued messages and the parked waiters as close() does.
  message* shut(room_waiter*& parked) noexcept TROUPE_EXCLUDES(mu);
  /// Rejects the nodes of parked waiters returned by shut() with `why`,
  /// tells their callbacks `dead` and frees them; returns the number of
  /// user messages rejected.
  static std::uint64_t reject_parked(room_waiter* parked, const exit_reason& why,
                                     const char* actor_type) noexcept;

 private:
  void admit(room_waiter*& admitted, bool& notify) noexcept TROUPE_REQUIRES(mu);

  const std::size_t capacity_;
  const overflow policy_;
  message* head_ TROUPE_GUARDED_BY(mu) = nullptr;  // FIFO, oldest first
  message* tail_ TROUPE_GUARDED_BY(mu) = nullptr;
  // User messages queued + slots reserved for waiters.
  std::size_t size_ TROUPE_GUARDED_BY(mu) = 0;
  // FIFO of senders waiting for room.
  room_waiter* waiting_ TROUPE_GUARDED_BY(mu) = nullptr;
  room_waiter* waiting_tail_ TROUPE_GUARDED_BY(mu) = nullptr;
};

}  // namespace troupe::detail
