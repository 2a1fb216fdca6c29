#pragma once
// The runtime part of an actor: refcount, mailbox, scheduling state.
//
// Lifetime: a cell is reference-counted. ref<A> handles hold references, and
// a live actor holds one on itself, dropped when it terminates. Termination
// destroys the user's actor object at once (breaking reference cycles
// between actors); the cell's memory lives until the last ref is gone, so a
// send to a dead actor stays safe and becomes a counted dead letter.
//
// Mailbox: an intrusive LIFO stack of message nodes whose head word also
// encodes the actor's scheduling state (empty-and-idle, closed). A send is a
// single CAS; the sender that pushes onto an idle actor schedules it. The
// actor takes the whole stack at once and reverses it into a private FIFO,
// so per-sender order is preserved. Only the thread running the actor pops.
//
// Memory ordering: push is an acq_rel CAS, take_all an acquire exchange, so
// a message's payload is visible to the handler; CASes form one release
// sequence, so every node of a taken chain is visible. try_block() releases
// the actor's state and the push that finds the actor idle acquires it, so
// whichever thread runs the actor next sees what its previous run wrote.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

#include "troupe/actors/detail/alloc.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/exit_reason.hpp"

namespace troupe {
class error;
class system;

/// What happened to a sent message.
enum class send_result : unsigned char {
  ok,    ///< enqueued
  dead,  ///< the actor had terminated; counted as a dead letter
  full,  ///< a bounded mailbox refused it
};

}  // namespace troupe

namespace troupe::detail {

class cell;

/// A mailbox entry. Kind distinguishes runtime control messages from user ones.
class message {
 public:
  enum class kind : unsigned char { user, stop, kill, shutdown };

  message* next = nullptr;
  kind type = kind::user;

  message() = default;
  explicit message(kind k) : type(k) {}
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  virtual ~message() = default;

  // Nodes come from per-thread caches (see alloc.hpp); the virtual
  // destructor passes the dynamic type's size to the sized delete.
  static void* operator new(std::size_t n) { return alloc_node(n); }
  static void operator delete(void* p, std::size_t n) noexcept { free_node(p, n); }
  static void* operator new(std::size_t n, const std::nothrow_t& /*unused*/) noexcept {
    return alloc_node_nothrow(n);
  }
  // Called only if a constructor throws after a nothrow new: every node
  // block comes from the global operator new, so unsized delete is valid.
  static void operator delete(void* p, const std::nothrow_t& /*unused*/) noexcept {
    ::operator delete(p);
  }
  static void* operator new(std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
  static void operator delete(void* p, std::size_t /*n*/, std::align_val_t a) noexcept {
    ::operator delete(p, a);
  }

  /// Runs the handler. May throw: the actor then fails.
  virtual void run(cell& c);
  /// The message will never run (the actor is dead); asks fail their future.
  virtual void reject(const exit_reason& why, const char* actor_type) noexcept;
};

class inbox {
 public:
  enum class push_result : unsigned char { ok, unblocked, closed };

  explicit inbox(bool start_blocked) noexcept
      : head_(start_blocked ? blocked_tag() : nullptr) {}

  /// @threadsafe
  push_result push(message* m) noexcept {
    message* h = head_.load(std::memory_order_acquire);
    for (;;) {
      if (h == closed_tag()) return push_result::closed;
      m->next = (h == blocked_tag()) ? nullptr : h;
      // acq_rel: a push that wakes an idle actor must also acquire what
      // the actor's last run released with try_block(), so the thread the
      // pusher hands the actor to sees that run's writes.
      if (head_.compare_exchange_weak(h, m, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return h == blocked_tag() ? push_result::unblocked : push_result::ok;
      }
    }
  }

  /// Takes every queued message, newest first. Reader only, while awake.
  message* take_all() noexcept {
    if (head_.load(std::memory_order_relaxed) == nullptr) return nullptr;
    return head_.exchange(nullptr, std::memory_order_acquire);
  }

  /// Marks the reader idle if nothing is queued; false if messages arrived.
  /// Reader only. After success the reader must not touch the cell again.
  bool try_block() noexcept {
    message* expected = nullptr;
    return head_.compare_exchange_strong(expected, blocked_tag(), std::memory_order_acq_rel,
                                         std::memory_order_relaxed);
  }

  /// Closes the inbox; returns what was queued (newest first). Reader only.
  message* close() noexcept {
    message* h = head_.exchange(closed_tag(), std::memory_order_acquire);
    return (h == blocked_tag() || h == closed_tag()) ? nullptr : h;
  }

  [[nodiscard]] bool closed() const noexcept {
    return head_.load(std::memory_order_acquire) == closed_tag();
  }

 private:
  static message* blocked_tag() noexcept { return reinterpret_cast<message*>(std::uintptr_t{1}); }
  static message* closed_tag() noexcept { return reinterpret_cast<message*>(std::uintptr_t{2}); }

  std::atomic<message*> head_;
};

/// Per-actor runtime state; the user's actor object lives right after it in
/// the same allocation (see box<A>).
class cell : public job {
 public:
  cell(const cell&) = delete;
  cell& operator=(const cell&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) free_cell();
  }

  /// Enqueues `m` (taking ownership). On a dead actor, `m` is rejected and
  /// counted as a dead letter.
  /// @threadsafe
  send_result enqueue(message* m) noexcept;

  /// Graceful stop: messages sent before it are processed first.
  /// @threadsafe
  void request_stop() noexcept;
  /// Immediate stop after the handler in progress; the rest become dead letters.
  /// @threadsafe
  void request_kill() noexcept;
  /// Graceful stop on behalf of system shutdown (exit reason `shutdown`).
  /// @threadsafe
  void request_shutdown_stop() noexcept;
  /// Stop after the current message. Only the actor itself may call this.
  void stop_self() noexcept { stop_self_ = true; }

  void run_job() noexcept final;

  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] system_core& core() const noexcept { return *core_; }
  /// Why the actor terminated; null while it runs. @threadsafe
  [[nodiscard]] const exit_reason* exit() const noexcept {
    return exit_.load(std::memory_order_acquire);
  }
  /// Called when the system is destroyed while refs to this cell remain.
  void detach_core() noexcept { core_ = nullptr; }
  [[nodiscard]] bool terminated() const noexcept { return inbox_.closed(); }
  [[nodiscard]] virtual const char* type_name() const noexcept = 0;

  // Used by the system only.
  void set_detached_runner(void* r) noexcept { runner_ = r; }
  [[nodiscard]] void* runner() const noexcept { return runner_; }
  cell* reg_prev = nullptr;  // registry links, guarded by the registry shard's mutex
  cell* reg_next = nullptr;
  std::uint32_t shard = 0;   // registry shard, fixed at spawn
  bool detached = false;     // runs on its own thread, fixed before start

  /// Called by the system after a successful spawn: registers and schedules.
  void activate(bool schedule_now) noexcept;
  /// Called if construction of the user object failed: frees the cell.
  void abort_spawn() noexcept;

 protected:
  cell(system_core& core, std::uint64_t id, bool start_scheduled) noexcept;
  virtual ~cell();

  virtual void start_hook() = 0;            // A::on_start()
  virtual void stop_hook() = 0;             // A::on_stop()
  virtual void destroy_object() noexcept = 0;  // A::~A()
  virtual void free_memory() noexcept = 0;     // delete the box

 private:
  void terminate(exit_reason why) noexcept;
  void free_cell() noexcept;
  void schedule_self(bool fair) noexcept;
  bool fill_cache() noexcept;
  std::uint64_t reject_chain(message* m, const exit_reason& why) noexcept;
  void push_control(message::kind k) noexcept;

  std::atomic<std::uint32_t> refs_{2};  // the spawner's ref and the self ref
  std::atomic<bool> kill_requested_{false};
  bool started_ = false;         // actor thread only
  bool stop_self_ = false;       // actor thread only
  bool needs_start_hook_;        // fixed at spawn
  inbox inbox_;
  message* cache_ = nullptr;     // FIFO of taken messages; actor thread only
  system_core* core_;
  void* runner_ = nullptr;
  std::atomic<const exit_reason*> exit_{nullptr};  // set once, before the inbox closes
  std::uint64_t id_;
};

/// The actor object `A` stored in the same allocation as its cell.
template <class A>
class box final : public cell {
 public:
  box(system_core& core, std::uint64_t id, bool start_scheduled) noexcept
      : cell(core, id, start_scheduled) {}

  A& object() noexcept { return *std::launder(reinterpret_cast<A*>(storage_)); }
  void* storage() noexcept { return storage_; }

  const char* type_name() const noexcept override {
    static const std::string name = detail::type_name<A>();
    return name.c_str();
  }

 private:
  void start_hook() override { object().on_start(); }
  void stop_hook() override { object().on_stop(); }
  void destroy_object() noexcept override { object().~A(); }
  void free_memory() noexcept override { delete this; }

  alignas(A) std::byte storage_[sizeof(A)];
};

}  // namespace troupe::detail
