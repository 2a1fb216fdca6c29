#pragma once
// The runtime part of an actor: refcount, mailbox, scheduling state.
//
// Lifetime: a cell is reference-counted. ref<A> handles hold references, and
// a live actor holds one on itself, dropped when it terminates. Termination
// destroys the user's actor object at once (breaking reference cycles
// between actors); the cell's memory lives until the last ref is gone, so a
// send to a dead actor stays safe and becomes a counted dead letter.
//
// Incarnations: the user object of a supervised actor may be destroyed and
// re-created in the same cell (a restart) while the mailbox stays open, so
// refs stay valid. Between two incarnations the cell is "absent": it holds
// no object, queues messages, and is never scheduled by senders (its inbox
// is left in the awake state); the right to run it again (the "token")
// belongs to whoever holds the child event the cell sent to its supervisor.
//
// Mailbox: an intrusive LIFO stack of message nodes whose head word also
// encodes the actor's scheduling state (empty-and-idle, closed). A send is a
// single CAS; the sender that pushes onto an idle actor schedules it. The
// actor takes the whole stack at once and reverses it into a private FIFO,
// so per-sender order is preserved. Only the thread running the actor pops.
// A bounded mailbox (spawn option) keeps its messages in a locked FIFO
// instead (src/internal/mailbox.hpp) and uses the head word for the
// scheduling state only; the unbounded path pays one predictable branch.
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
#include <typeinfo>

#include "troupe/actors/detail/alloc.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/exit_reason.hpp"
#include "troupe/actors/send_result.hpp"

namespace troupe {
class error;
class system;

}  // namespace troupe

namespace troupe::detail {

class cell;
struct cell_ext;

/// A mailbox entry. Kind distinguishes runtime control messages from user ones.
class message {
 public:
  enum class kind : unsigned char {
    user,      ///< a handler call (send, ask, closure, coroutine resume)
    notice,    ///< runtime notice run like a handler (down, exit_msg, supervisor events):
               ///< never a dead letter, never counted against a bounded capacity
    stop,      ///< graceful stop: handled in mailbox order
    kill,      ///< wake-up for a kill request (the cell's kill flag decides)
    shutdown,  ///< graceful stop on behalf of system shutdown
    nudge,     ///< wake-up only (a supervisor's suspend request)
  };

  message* next = nullptr;
  kind type = kind::user;
  /// The trace flow of the send that queued it (0: none); in the padding
  /// after `type`, so a node stays 24 bytes.
  std::uint32_t trace_flow = 0;

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
  /// A bounded mailbox discarded the message (`why` names the policy); asks
  /// fail their future with errc::mailbox_full.
  virtual void discard(const char* actor_type, const char* why) noexcept;
  /// The message's type, for traces and dead-letter logs.
  [[nodiscard]] virtual const char* type_name() const noexcept;
};

class inbox {
 public:
  enum class push_result : unsigned char { ok, unblocked, closed };

  explicit inbox(bool start_blocked) noexcept : head_(start_blocked ? blocked_tag() : nullptr) {}

  /// @threadsafe
  push_result push(message* m) noexcept {
    message* h = head_.load(std::memory_order_acquire);
    for (;;) {
      if (h == closed_tag()) return push_result::closed;
      m->next = (h == blocked_tag()) ? nullptr : h;
      // acq_rel: a push that wakes an idle actor must also acquire what
      // the actor's last run released with try_block(), so the thread the
      // pusher hands the actor to sees that run's writes.
      if (head_.compare_exchange_weak(h, m, std::memory_order_acq_rel, std::memory_order_acquire)) {
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

  /// Bounded mailboxes (no nodes here): marks an idle reader awake; true if
  /// this call did, and the caller must then schedule the reader. @threadsafe
  bool wake() noexcept {
    message* expected = blocked_tag();
    return head_.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel,
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

  /// True while the reader is idle (nothing queued, not scheduled); a
  /// snapshot for system::actors(). @threadsafe
  [[nodiscard]] bool idle() const noexcept {
    return head_.load(std::memory_order_relaxed) == blocked_tag();
  }

 private:
  static message* blocked_tag() noexcept { return reinterpret_cast<message*>(std::uintptr_t{1}); }
  static message* closed_tag() noexcept { return reinterpret_cast<message*>(std::uintptr_t{2}); }

  std::atomic<message*> head_;
};

/// How a bounded send may wait for room (see troupe/actors/mailbox.hpp).
enum class send_wait : unsigned char {
  never,  ///< refuse with send_result::full (pool threads, timers, try_send)
  defer,  ///< as never, but not counted: a coroutine may co_await the send to wait
  block,  ///< block this (plain) thread until there is room or the actor dies
  park,   ///< queue the node behind the full mailbox (asks from coroutines, send_async)
};

/// A callable that makes the message node, called only once the message is
/// admitted (so a refused message is left untouched with its sender).
struct node_maker {
  void* arg;
  message* (*fn)(void* arg);
  message* operator()() const { return fn(arg); }
};

/// Invoked once when a parked send is admitted (ok) or its actor died (dead).
class park_callback {
 public:
  virtual void done(send_result r) noexcept = 0;

 protected:
  ~park_callback() = default;
};

/// Makes A's notice node for an exit signal (link or supervisor shutdown
/// request); defined in troupe/actors/detail/notice.hpp.
template <class A>
message* make_exit_node() noexcept;

/// Supervisor hook: a type for which this is true intercepts graceful stop
/// requests (specialized in troupe/actors/supervisor.hpp).
template <class A>
struct stop_interceptor {
  static constexpr bool value = false;
  static bool intercept(A& /*unused*/, bool /*shutdown*/) { return false; }
};

/// A cell's figures for system::actors(), each read atomically.
struct cell_figures {
  std::size_t depth = 0;         ///< messages queued, not yet handled
  std::uint64_t handled = 0;     ///< user and runtime messages handled
  std::uint64_t busy_ticks = 0;  ///< time in handler batches (ticks.hpp)
  std::uint32_t restarts = 0;
  bool idle = false;    ///< not scheduled, nothing queued
  bool absent = false;  ///< between two incarnations
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
  /// counted as a dead letter. A bounded mailbox takes it regardless of its
  /// capacity (runtime messages must not be lost); senders of user messages
  /// use bounded_send().
  /// @threadsafe
  send_result enqueue(message* m) noexcept;

  /// True if a user message takes the plain path: an unbounded local
  /// mailbox (the one branch every send pays; fixed at spawn).
  [[nodiscard]] bool plain_send() const noexcept { return send_kind_ == send_plain; }
  /// True if the mailbox is bounded (fixed at spawn).
  [[nodiscard]] bool bounded() const noexcept { return send_kind_ == send_bounded; }
  /// True for the cell of an actor that lives elsewhere (a remote_cell,
  /// troupe/actors/detail/remote.hpp; fixed at creation).
  [[nodiscard]] bool remote() const noexcept { return send_kind_ == send_remote; }
  /// Bounded mailboxes: admits a user message by the mailbox's policy,
  /// calling `make` only once it is admitted. `cb` (wait == park only) is
  /// told when a parked node is admitted. Throws what `make` throws.
  /// @threadsafe
  send_result bounded_send(node_maker make, send_wait wait, park_callback* cb = nullptr);
  /// True for a bounded mailbox with overflow::block (fixed at spawn).
  [[nodiscard]] bool blocks_when_full() const noexcept;

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
  void stop_self() noexcept { stop_mode_ = stop_normal; }
  /// Stop after the current message with `why`. Only the actor itself.
  void exit_self(exit_reason why) noexcept;

  void run_job() noexcept final;

  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] system_core& core() const noexcept { return *core_ptr(); }
  /// Why the actor terminated; null while it runs. @threadsafe
  [[nodiscard]] const exit_reason* exit() const noexcept {
    return exit_.load(std::memory_order_acquire);
  }
  /// Called when the system is destroyed while refs to this cell remain.
  /// The system is going away (~system_core, under the registry shard's
  /// lock): clears the back-pointer so later sends drop without touching it.
  /// False if free_cell() took it first: that cell is unlinking itself.
  bool detach_core() noexcept {
    return core_.exchange(nullptr, std::memory_order_acq_rel) != nullptr;
  }
  [[nodiscard]] bool terminated() const noexcept { return inbox_.closed(); }
  [[nodiscard]] virtual const char* type_name() const noexcept = 0;
  /// The dynamic type of the actor object (A of box<A>).
  [[nodiscard]] virtual const std::type_info& type() const noexcept = 0;
  /// A new exit-signal node for this actor type (null when out of memory).
  [[nodiscard]] virtual message* make_exit_node() const noexcept = 0;

  // ---- extension block (monitors, links, bounded mailbox, supervision) ----
  /// The extension block, or null if none was ever needed. @threadsafe
  [[nodiscard]] cell_ext* ext() const noexcept {
    return reinterpret_cast<cell_ext*>(ext_.load(std::memory_order_acquire) & ~kSealed);
  }
  /// The extension block, created if needed; null if the cell terminated
  /// without one (nothing can attach to it any more). Throws std::bad_alloc.
  /// @threadsafe
  cell_ext* ensure_ext();
  /// Installs `e` before the cell is activated (spawn only).
  void set_ext(cell_ext* e) noexcept {
    ext_.store(reinterpret_cast<std::uintptr_t>(e), std::memory_order_release);
  }
  /// True if this actor traps exit signals (actor thread only).
  [[nodiscard]] bool trapping_exits() const noexcept;

  // ---- supervision (troupe/actors/supervisor.hpp) --------------------------
  /// A supervised child leaves its current incarnation after the handler in
  /// progress and reports to its supervisor. @threadsafe
  void request_suspend() noexcept;
  /// Token holder only: constructs a new incarnation and runs it; once its
  /// on_start succeeded the cell sends `started` (taking ownership) to its
  /// supervisor.
  void resume_start(message* started = nullptr) noexcept;
  /// Token holder only: terminates the absent cell for good with `why`.
  void resume_terminate(exit_reason why) noexcept;
  /// True while the user object exists (actor thread or token holder).
  [[nodiscard]] bool alive() const noexcept { return alive_.load(std::memory_order_relaxed); }
  /// A snapshot of the figures system::actors() lists; a bounded mailbox's
  /// depth takes its lock. @threadsafe
  [[nodiscard]] cell_figures figures() const noexcept;
  /// Counts a restart by this actor's supervisor. @threadsafe
  void count_restart() noexcept;
  /// How many incarnations of this actor have ended (0 unless it was
  /// restarted by a supervisor). Work tied to one incarnation (a suspended
  /// coroutine handler) compares it to know that its object is gone.
  /// Actor thread only.
  [[nodiscard]] std::uint64_t incarnation() const noexcept;

  // Used by the system only (the fields are at the end, for the layout).
  /// Makes schedule_self() take the slow path (detached, or a test_system).
  void set_special_schedule() noexcept { special_sched_ = true; }
  /// Marks the user object as not constructed yet (supervised child cells).
  void set_absent() noexcept { alive_.store(false, std::memory_order_relaxed); }
  /// Sets a bounded mailbox (spawn only; the extension block holds it).
  void set_bounded() noexcept { send_kind_ = send_bounded; }
  /// Marks a remote_cell (its constructor only).
  void set_remote() noexcept { send_kind_ = send_remote; }

  /// Called by the system after a successful spawn: registers and schedules.
  void activate(bool schedule_now) noexcept;
  /// Called if construction of the user object failed: frees the cell.
  void abort_spawn() noexcept;

 protected:
  /// `start_awake`: the inbox starts awake (the spawner schedules the cell
  /// or, for a supervised child, holds its token).
  cell(system_core& core, std::uint64_t id, bool needs_start_hook, bool start_awake) noexcept;
  virtual ~cell();

  virtual void start_hook() = 0;               // A::on_start()
  virtual void stop_hook() = 0;                // A::on_stop()
  virtual void destroy_object() noexcept = 0;  // A::~A()
  virtual void free_memory() noexcept = 0;     // delete the box
  /// Supervisors: consumes a graceful stop request (true) to stop their
  /// children first.
  virtual bool intercept_stop(bool shutdown) = 0;

 private:
  static constexpr std::uintptr_t kSealed = 1;
  static constexpr std::uint8_t kKill = 1;
  static constexpr std::uint8_t kSuspend = 2;
  static constexpr std::uint8_t stop_none = 0;
  static constexpr std::uint8_t stop_normal = 1;
  static constexpr std::uint8_t stop_reason = 2;  // the reason is in the extension block
  static constexpr std::uint8_t send_plain = 0;
  static constexpr std::uint8_t send_bounded = 1;
  static constexpr std::uint8_t send_remote = 2;

  friend class remote_cell;
  /// request_kill() of a local cell.
  void kill_local() noexcept;
  bool begin_incarnation() noexcept;
  void finish(exit_reason why) noexcept;
  /// finish() for a stop the actor asked for itself (stop() or stop(reason)).
  void finish_self_stop() noexcept;
  void end_incarnation(exit_reason why) noexcept;
  void terminate(exit_reason why) noexcept;
  /// Runs on_stop (logging a throw) and destroys the user object, if any.
  void end_object() noexcept;
  void failed(message* m) noexcept;
  void on_control() noexcept;
  void idle_bounded() noexcept;
  void free_cell() noexcept;
  /// Counts a batch of `n` handled messages that began at tick `t0` (0:
  /// untimed), with `left` messages still in the cache.
  void account(unsigned n, std::uint64_t t0, std::uint32_t left) noexcept;
  void schedule_self(bool fair) noexcept;
  void schedule_special(bool fair) noexcept;
  bool fill_cache() noexcept;
  void push_control(message::kind k) noexcept;
  void resume(bool start, exit_reason why, message* started) noexcept;

  std::atomic<std::uint32_t> refs_{2};  // the spawner's ref and the self ref
  std::atomic<std::uint8_t> ctl_{0};    // kKill | kSuspend, checked at message boundaries
  bool needs_start_hook_;               // fixed at spawn
  // Read by every send: on the inbox's line, not near the actor object,
  // whose fields the consumer writes (false sharing cost counting 40%).
  std::uint8_t send_kind_ = send_plain;  // send_plain | send_bounded | send_remote, fixed at spawn
  bool special_sched_ = false;           // fixed at spawn
  inbox inbox_;
  // Plain mailbox: messages pushed and not yet taken (senders add one on
  // the line they just wrote, the reader subtracts what it takes); may dip
  // below zero for an instant. For system::actors().
  std::atomic<std::int64_t> queued_{0};
  // The system; null once it is gone (see detach_core). An atomic because a
  // ref may drop its cell's last reference while ~system_core runs; read
  // relaxed (a plain load) on every path but that hand-off. Senders read it
  // (scheduling): here, before the fields the actor writes per batch.
  std::atomic<system_core*> core_;
  [[nodiscard]] system_core* core_ptr() const noexcept {
    return core_.load(std::memory_order_relaxed);
  }
  std::atomic<std::uintptr_t> ext_{0};  // cell_ext* | kSealed (set when the cell terminates)
  message* cache_ = nullptr;            // FIFO of taken messages; actor thread only
  // Written by the actor thread only, once per batch (a load and a store,
  // no RMW); read by system::actors().
  std::atomic<std::uint64_t> handled_{0};
  std::atomic<std::uint64_t> busy_ticks_{0};
  // Messages in cache_ after the one being handled, as of the batch's
  // last take or end.
  std::atomic<std::uint32_t> cached_{0};
  std::atomic<const exit_reason*> exit_{nullptr};  // set once, before the inbox closes
  std::uint64_t id_;

 public:
  cell* reg_prev = nullptr;  // registry links, guarded by the registry shard's mutex
  cell* reg_next = nullptr;
  std::uint32_t shard = 0;  // registry shard, fixed at spawn
  bool detached = false;    // runs on its own thread, fixed before start

 private:
  // The user object exists; written by the actor thread (or token holder),
  // read by system::actors(), hence atomic (relaxed: a plain load).
  std::atomic<bool> alive_{true};
  bool started_ = false;                // actor thread only
  std::uint8_t stop_mode_ = stop_none;  // actor thread only
};

/// The actor object `A` stored in the same allocation as its cell.
template <class A>
class box final : public cell {
 public:
  box(system_core& core, std::uint64_t id, bool needs_start_hook, bool start_awake) noexcept
      : cell(core, id, needs_start_hook, start_awake) {}
  box(system_core& core, std::uint64_t id, bool needs_start_hook) noexcept
      : cell(core, id, needs_start_hook, needs_start_hook) {}

  A& object() noexcept { return *std::launder(reinterpret_cast<A*>(storage_)); }
  void* storage() noexcept { return storage_; }

  const char* type_name() const noexcept override {
    static const std::string name = detail::type_name<A>();
    return name.c_str();
  }
  const std::type_info& type() const noexcept override { return typeid(A); }
  message* make_exit_node() const noexcept override { return detail::make_exit_node<A>(); }

 private:
  void start_hook() override { object().on_start(); }
  void stop_hook() override { object().on_stop(); }
  void destroy_object() noexcept override { object().~A(); }
  void free_memory() noexcept override { delete this; }
  bool intercept_stop(bool shutdown) override {
    if constexpr (stop_interceptor<A>::value) {
      return stop_interceptor<A>::intercept(object(), shutdown);
    } else {
      return false;
    }
  }

  alignas(A) std::byte storage_[sizeof(A)];
};

}  // namespace troupe::detail
