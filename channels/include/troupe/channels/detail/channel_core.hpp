#pragma once
// The shared state of a channel: buffer, wait lists, handle counts.
//
// Three kinds, fixed at creation:
//   ring  capacity >= 1: a bounded lock-free MPMC ring, crossbeam-channel's
//         array flavour (Vyukov's per-slot stamps, plus a "closed" mark bit
//         in `tail_`, so a send can never slip in after close()).
//   zero  capacity 0 (rendezvous): no buffer; a send hands its value to a
//         waiting receiver, or waits for one, under the channel's lock
//         (Go's direct hand-off).
//   list  unbounded: a deque under the channel's lock; sends never wait.
//
// Waiting (all kinds): a blocked operation links a wait_node into
// `recvq_`/`sendq_` under `mu_`, with a waiter (a parked thread or a
// suspended coroutine; one waiter may have nodes in several channels: a
// select). A wake-up claims the waiter (waiter.hpp) and then either hands
// it the value (zero) or tells it to retry (ring, list, close()). A waiter
// woken to retry tries the arm it was woken for first, so a select never
// leaves a value behind that it was woken for.
//
// Lost wake-ups on the ring: its fast paths take no lock. A receiver
// publishes itself (recvq_ count, seq_cst) and then re-checks the ring
// (head/tail, seq_cst); a sender advances tail_ (seq_cst CAS) and then reads
// the count (seq_cst). In the single total order of seq_cst operations one
// of the two sees the other, so either the receiver does not park or the
// sender wakes it. Symmetrically for a sender waiting on a full ring.
//
// Lifetime: reference-counted by the sender and receiver handles
// (`refs_`); the last handle frees it. When the last sender goes, the
// channel closes; when the last receiver goes, it closes too, and sends
// report that no receiver is left. Values still buffered are destroyed with
// the channel.
//
// Memory ordering: a value is written before the release store of its
// slot's stamp and read after an acquire load of it (ring), or moved under
// `mu_` (zero, list); so the receiver sees it fully constructed.

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/channels/detail/sync.hpp"

namespace troupe::detail::chan {

/// One registration of a waiter in one channel's wait list.
struct wait_node {
  waiter* w = nullptr;
  wait_node* prev = nullptr;  // guarded by the channel's mu_
  wait_node* next = nullptr;  // guarded by the channel's mu_
  void* slot = nullptr;       // zero kind: the sender's T* / the receiver's std::optional<T>*
  std::uint32_t arm = 0;      // the arm index reported to the waiter
  bool linked = false;        // guarded by the channel's mu_
};

/// An intrusive FIFO of wait_nodes, guarded by its channel's lock. The
/// length is also readable without the lock, for the lock-free fast paths.
class wait_queue {
 public:
  void push(wait_node* n) noexcept {
    n->prev = tail_;
    n->next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = n;
    } else {
      head_ = n;
    }
    tail_ = n;
    n->linked = true;
    count_.fetch_add(1, std::memory_order_seq_cst);
  }
  void remove(wait_node* n) noexcept {
    if (!n->linked) return;
    if (n->prev != nullptr) {
      n->prev->next = n->next;
    } else {
      head_ = n->next;
    }
    if (n->next != nullptr) {
      n->next->prev = n->prev;
    } else {
      tail_ = n->prev;
    }
    n->prev = n->next = nullptr;
    n->linked = false;
    count_.fetch_sub(1, std::memory_order_relaxed);
  }
  wait_node* pop() noexcept {
    wait_node* n = head_;
    if (n != nullptr) remove(n);
    return n;
  }
  /// Pops nodes until one's waiter can be claimed for (node.arm, r).
  wait_node* claim_one(wake_reason r) noexcept {
    while (wait_node* n = pop()) {
      if (n->w->try_claim(n->arm, r)) return n;
    }
    return nullptr;
  }
  [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
  /// Lock-free read of the length (seq_cst: see the file comment).
  [[nodiscard]] std::uint32_t count() const noexcept {
    return count_.load(std::memory_order_seq_cst);
  }

 private:
  wait_node* head_ = nullptr;  // guarded by the channel's mu_
  wait_node* tail_ = nullptr;  // guarded by the channel's mu_
  std::atomic<std::uint32_t> count_{0};
};

/// Claimed waiters, to be woken once the channel locks are released. The
/// nodes are chained through `next` (they are unlinked from their queue).
class wake_chain {
 public:
  wake_chain() = default;
  wake_chain(const wake_chain&) = delete;
  wake_chain& operator=(const wake_chain&) = delete;
  ~wake_chain() { wake_all(); }

  void add(wait_node* n) noexcept {
    n->next = head_;
    head_ = n;
  }
  void wake_all() noexcept {
    while (head_ != nullptr) {
      wait_node* n = head_;
      head_ = n->next;  // before wake(): the node may be gone after it
      n->w->wake();
    }
  }

 private:
  wait_node* head_ = nullptr;
};

/// Outcome of one attempt at an operation.
enum class op_result : std::uint8_t {
  ok,       ///< done
  blocked,  ///< would have to wait
  closed,   ///< closed (send), or closed and drained (receive)
};

enum class kind : std::uint8_t { ring, zero, list };

/// The largest capacity of a buffered channel (2^40 values): the ring's
/// indices keep an index, a mark bit and a lap count in one word.
inline constexpr std::size_t kMaxCapacity = std::size_t{1} << 40;
/// Throws errc::invalid_argument naming `cap` if it exceeds kMaxCapacity
/// (a negative number converted to size_t lands here too).
void check_capacity(std::size_t cap);
[[noreturn]] void throw_capacity_unallocatable(std::size_t cap, std::size_t slot_size);

/// The type-independent part of a channel.
class channel_base {
 public:
  channel_base(const channel_base&) = delete;
  channel_base& operator=(const channel_base&) = delete;

  // ---- handles --------------------------------------------------------------
  void add_sender() noexcept {
    senders_.fetch_add(1, std::memory_order_relaxed);
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void drop_sender() noexcept {
    if (senders_.fetch_sub(1, std::memory_order_acq_rel) == 1) close(false);
    release();
  }
  void add_receiver() noexcept {
    receivers_.fetch_add(1, std::memory_order_relaxed);
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void drop_receiver() noexcept {
    if (receivers_.fetch_sub(1, std::memory_order_acq_rel) == 1) close(true);
    release();
  }

  /// Closes the channel and wakes every waiter (they retry and find it
  /// closed). True if this call closed it. `no_receivers`: the last
  /// receiver went away. @threadsafe
  bool close(bool no_receivers) noexcept;

  [[nodiscard]] bool closed() const noexcept {
    return closed_flag_.load(std::memory_order_acquire);
  }
  [[nodiscard]] bool receivers_gone() const noexcept {
    return receivers_gone_.load(std::memory_order_acquire);
  }
  [[nodiscard]] kind flavour() const noexcept { return kind_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }

  // ---- the select engine (select.cpp) --------------------------------------------
  spinlock& mutex() noexcept TROUPE_RETURN_CAPABILITY(mu_) { return mu_; }
  /// Wakes one waiter of the receive (or send) side to retry: used when a
  /// waiter that was woken for this channel goes away without retrying.
  void pass_wakeup(bool receivers) noexcept;
  /// The ring's head and tail words (seq_cst), zeros for the other kinds.
  /// Every ring operation that completes (and close) changes one of them:
  /// two equal readings bracket an interval in which the ring was unchanged.
  void ring_words(std::size_t& head, std::size_t& tail) const noexcept {
    if (kind_ != kind::ring) {
      head = tail = 0;
      return;
    }
    head = head_.load(std::memory_order_seq_cst);
    tail = tail_.load(std::memory_order_seq_cst);
  }

 protected:
  channel_base(kind k, std::size_t cap) noexcept;
  ~channel_base() = default;

  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }
  virtual void destroy() noexcept = 0;

  // Ring indices: {lap, mark bit, index}; see ring_push/ring_pop.
  [[nodiscard]] bool ring_empty_sc() const noexcept {
    const std::size_t head = head_.load(std::memory_order_seq_cst);
    const std::size_t tail = tail_.load(std::memory_order_seq_cst);
    return (tail & ~mark_bit_) == head;
  }
  [[nodiscard]] bool ring_full_sc() const noexcept {
    const std::size_t tail = tail_.load(std::memory_order_seq_cst);
    const std::size_t head = head_.load(std::memory_order_seq_cst);
    return head + one_lap_ == (tail & ~mark_bit_);
  }
  [[nodiscard]] std::size_t ring_size() const noexcept;

  alignas(64) std::atomic<std::size_t> head_{0};  // ring: next slot to read
  alignas(64) std::atomic<std::size_t> tail_{0};  // ring: next slot to write, + closed mark
  alignas(64) wait_queue recvq_;                  // blocked receivers
  alignas(64) wait_queue sendq_;                  // blocked senders
  alignas(64) mutable spinlock mu_;
  bool closed_ TROUPE_GUARDED_BY(mu_) = false;  // zero and list kinds (ring: the mark bit)
  const kind kind_;
  const std::size_t cap_;
  const std::size_t mark_bit_;
  const std::size_t one_lap_;
  std::atomic<bool> closed_flag_{false};
  std::atomic<bool> receivers_gone_{false};
  std::atomic<std::uint32_t> senders_{1};
  std::atomic<std::uint32_t> receivers_{1};
  std::atomic<std::uint32_t> refs_{2};
};

/// A channel of T.
template <class T>
class channel final : public channel_base {
 public:
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "troupe::channel<T>: T must be nothrow move-constructible (values move "
                "under the channel's lock and into ring slots)");
  static_assert(std::is_nothrow_destructible_v<T>, "troupe::channel<T>: ~T must not throw");

  /// A new channel with one sender and one receiver reference. Throws
  /// errc::invalid_argument for a ring capacity over kMaxCapacity or one
  /// whose slots cannot be allocated, naming the capacity.
  static channel* create(kind k, std::size_t cap) {
    if (k == kind::ring) {
      check_capacity(cap);
      if (cap > static_cast<std::size_t>(-1) / sizeof(slot)) {
        throw_capacity_unallocatable(cap, sizeof(slot));
      }
    }
    return new channel(k, cap);
  }

  // ---- fast paths (no lock held) ---------------------------------------------

  /// Sends `v` if that needs no waiting; moves from `v` only on ok.
  /// Throws std::bad_alloc (unbounded channel only).
  op_result try_send(T& v) {
    wake_chain wakes;  // declared first: wakes after the lock is released
    if (kind_ == kind::ring) {
      const op_result r = ring_push(v);
      if (r == op_result::ok && recvq_.count() != 0) {
        lock_guard lk(mu_);
        settle_locked(wakes, true);
      }
      return r;
    }
    lock_guard lk(mu_);
    return send_locked(v, wakes);
  }

  /// Receives into `out` if that needs no waiting.
  op_result try_recv(std::optional<T>& out) noexcept {
    wake_chain wakes;
    if (kind_ == kind::ring) {
      const op_result r = ring_pop(out);
      if (r == op_result::ok && sendq_.count() != 0) {
        lock_guard lk(mu_);
        settle_locked(wakes, false);
      }
      return r;
    }
    lock_guard lk(mu_);
    return recv_locked(out, wakes);
  }

  // ---- with mu_ held (the select engine's passes) ------------------------------

  /// As try_send; the waiters it completed are added to `wakes`.
  op_result send_locked(T& v, wake_chain& wakes) TROUPE_REQUIRES(mu_) {
    switch (kind_) {
      case kind::ring: {
        const op_result r = ring_push(v);
        if (r == op_result::ok && recvq_.count() != 0) settle_locked(wakes, true);
        return r;
      }
      case kind::zero: {
        if (closed_) return op_result::closed;
        if (wait_node* n = recvq_.claim_one(wake_reason::done)) {
          static_cast<std::optional<T>*>(n->slot)->emplace(std::move(v));
          wakes.add(n);
          return op_result::ok;
        }
        return op_result::blocked;
      }
      case kind::list: {
        if (closed_) return op_result::closed;
        list_->push_back(std::move(v));  // strong guarantee: v intact if this throws
        if (!recvq_.empty()) settle_locked(wakes, true);
        return op_result::ok;
      }
    }
    return op_result::blocked;
  }

  op_result recv_locked(std::optional<T>& out, wake_chain& wakes) noexcept TROUPE_REQUIRES(mu_) {
    switch (kind_) {
      case kind::ring: {
        const op_result r = ring_pop(out);
        if (r == op_result::ok && sendq_.count() != 0) settle_locked(wakes, false);
        return r;
      }
      case kind::zero: {
        if (wait_node* n = sendq_.claim_one(wake_reason::done)) {
          out.emplace(std::move(*static_cast<T*>(n->slot)));
          wakes.add(n);
          return op_result::ok;
        }
        return closed_ ? op_result::closed : op_result::blocked;
      }
      case kind::list:
        return list_pop(out);
    }
    return op_result::blocked;
  }

  /// Links a receive registration; true if the channel may have become
  /// ready since the last attempt (the caller retries instead of parking).
  bool enlist_recv_locked(wait_node& n, std::optional<T>* out) noexcept TROUPE_REQUIRES(mu_) {
    n.slot = out;
    recvq_.push(&n);
    return kind_ == kind::ring && !ring_empty_sc();
  }
  bool enlist_send_locked(wait_node& n, T* value) noexcept TROUPE_REQUIRES(mu_) {
    n.slot = value;
    sendq_.push(&n);
    return kind_ == kind::ring && !ring_full_sc();
  }
  void delist_recv_locked(wait_node& n) noexcept TROUPE_REQUIRES(mu_) { recvq_.remove(&n); }
  void delist_send_locked(wait_node& n) noexcept TROUPE_REQUIRES(mu_) { sendq_.remove(&n); }

  /// Approximate number of buffered values. @threadsafe
  [[nodiscard]] std::size_t size() const noexcept {
    if (kind_ == kind::ring) return ring_size();
    if (kind_ == kind::list) {
      lock_guard lk(mu_);
      return list_->size();
    }
    return 0;
  }

 private:
  struct slot {
    std::atomic<std::size_t> stamp;
    alignas(T) unsigned char storage[sizeof(T)];
    T* ptr() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };

  channel(kind k, std::size_t cap) : channel_base(k, cap) {
    if (k == kind::ring) {
      // nothrow: a ring too large for memory is the caller's error, named
      // as such (and sanitizers abort on a throwing new that fails).
      slots_.reset(new (std::nothrow) slot[cap]);
      if (!slots_) throw_capacity_unallocatable(cap, sizeof(slot));
      for (std::size_t i = 0; i < cap; ++i) slots_[i].stamp.store(i, std::memory_order_relaxed);
    } else if (k == kind::list) {
      list_.emplace();
    }
  }
  ~channel() {
    if (kind_ != kind::ring) return;
    // Destroy what is still buffered (no other thread holds a handle now).
    const std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t hix = head & (mark_bit_ - 1);
    const std::size_t tix = tail & (mark_bit_ - 1);
    std::size_t len = 0;
    if (hix < tix) {
      len = tix - hix;
    } else if (hix > tix) {
      len = cap_ - hix + tix;
    } else if ((tail & ~mark_bit_) != head) {
      len = cap_;
    }
    for (std::size_t i = 0; i < len; ++i) {
      const std::size_t index = hix + i < cap_ ? hix + i : hix + i - cap_;
      std::destroy_at(slots_[index].ptr());
    }
  }
  void destroy() noexcept override { delete this; }

  // With mu_ held, after a value was added to the buffer (`added`) or
  // taken from it: hands buffered values to blocked receivers and free room
  // to blocked senders, alternating while each step makes progress (a fed
  // receiver frees a slot for a sender, a fed sender fills one for a
  // receiver). Go does the same for its buffered channels: a waiter is
  // woken with its operation done, never to race for it again. If the
  // buffer changed under us (lock-free operations), the claimed waiter is
  // told to retry instead.
  void settle_locked(wake_chain& wakes, bool added) noexcept TROUPE_REQUIRES(mu_) {
    bool feed_receiver = added;
    for (;;) {
      wait_node* n = (feed_receiver ? recvq_ : sendq_).claim_one(wake_reason::done);
      if (n == nullptr) return;
      wakes.add(n);
      op_result r;
      if (feed_receiver) {
        auto* out = static_cast<std::optional<T>*>(n->slot);
        r = kind_ == kind::ring ? ring_pop(*out) : list_pop(*out);
      } else {
        r = ring_push(*static_cast<T*>(n->slot));  // only a ring has blocked senders
      }
      if (r != op_result::ok) {
        n->w->set_claim(n->arm, wake_reason::ready);
        return;
      }
      feed_receiver = !feed_receiver;
    }
  }

  op_result list_pop(std::optional<T>& out) noexcept TROUPE_REQUIRES(mu_) {
    if (list_->empty()) return closed_ ? op_result::closed : op_result::blocked;
    out.emplace(std::move(list_->front()));
    list_->pop_front();
    return op_result::ok;
  }

  // Moves `v` into the ring if there is room. crossbeam-channel array.rs.
  op_result ring_push(T& v) noexcept {
    backoff b;
    std::size_t tail = tail_.load(std::memory_order_relaxed);
    for (;;) {
      if ((tail & mark_bit_) != 0) return op_result::closed;
      const std::size_t index = tail & (mark_bit_ - 1);
      const std::size_t lap = tail & ~(one_lap_ - 1);
      slot& s = slots_[index];
      const std::size_t stamp = s.stamp.load(std::memory_order_acquire);
      if (tail == stamp) {
        // The slot is free for this lap: claim it.
        const std::size_t next = index + 1 < cap_ ? tail + 1 : lap + one_lap_;
        if (tail_.compare_exchange_weak(tail, next, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
          ::new (static_cast<void*>(s.storage)) T(std::move(v));
          s.stamp.store(tail + 1, std::memory_order_release);
          return op_result::ok;
        }
        b.spin();
      } else if (stamp + one_lap_ == tail + 1) {
        // The slot still holds last lap's value: full, unless head moved on.
        const std::size_t head = head_.load(std::memory_order_seq_cst);
        if (head + one_lap_ == tail) return op_result::blocked;
        b.spin();
        tail = tail_.load(std::memory_order_relaxed);
      } else {
        // Another sender claimed the slot and has not written it yet.
        b.snooze();
        tail = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  op_result ring_pop(std::optional<T>& out) noexcept {
    backoff b;
    std::size_t head = head_.load(std::memory_order_relaxed);
    for (;;) {
      const std::size_t index = head & (mark_bit_ - 1);
      const std::size_t lap = head & ~(one_lap_ - 1);
      slot& s = slots_[index];
      const std::size_t stamp = s.stamp.load(std::memory_order_acquire);
      if (head + 1 == stamp) {
        const std::size_t next = index + 1 < cap_ ? head + 1 : lap + one_lap_;
        if (head_.compare_exchange_weak(head, next, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
          T* p = s.ptr();
          out.emplace(std::move(*p));
          std::destroy_at(p);
          s.stamp.store(head + one_lap_, std::memory_order_release);
          return op_result::ok;
        }
        b.spin();
      } else if (stamp == head) {
        // Nothing written here this lap: empty, unless a sender is mid-write.
        const std::size_t tail = tail_.load(std::memory_order_seq_cst);
        if ((tail & ~mark_bit_) == head) {
          return (tail & mark_bit_) != 0 ? op_result::closed : op_result::blocked;
        }
        b.spin();
        head = head_.load(std::memory_order_relaxed);
      } else {
        b.snooze();
        head = head_.load(std::memory_order_relaxed);
      }
    }
  }

  std::unique_ptr<slot[]> slots_;                             // ring
  std::optional<std::deque<T>> list_ TROUPE_GUARDED_BY(mu_);  // list
};

}  // namespace troupe::detail::chan
