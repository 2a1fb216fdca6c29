#pragma once
// Waiters: a blocked operation that is woken exactly once, and the context a
// troupe coroutine runs in.
//
// A waiter may be registered with several wake sources at once: a channel's
// wait lists (one per arm of a select), a timer, a future's continuation, a
// stop_token callback. A source that wants to wake it first *claims* it with
// a CAS on its state word (waiting -> claimed(arm, reason)); only the winner
// may then write results into the waiter and call wake(). Losers leave it
// alone. This is Go's `selectDone` and crossbeam's `Context::try_select`.
// A waiter that is not registered is `idle`, and every claim on it fails.
//
// Lifetime: the owner keeps the waiter alive until it has been woken (or has
// claimed itself) and has unregistered from every source; a claimer touches
// the waiter only between its successful claim and wake().
//
// Memory ordering: the claim is an acq_rel CAS; what the claimer writes
// before wake() is published by wake() (a release store for thread waiters,
// the scheduler's queue hand-off for coroutine waiters).

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <stop_token>
#include <thread>
#include <type_traits>

#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/trace.hpp"

namespace troupe::detail {

class cell;

/// Why a waiter was woken (stored in the low bits of its state word).
enum class wake_reason : std::uint8_t {
  none = 0,
  ready = 1,      ///< the arm's channel may be ready (or closed): retry it
  done = 2,       ///< the claimer completed the arm's operation (a rendezvous hand-off)
  timeout = 3,    ///< the deadline passed
  cancelled = 4,  ///< the task's stop_token was triggered
};

/// Something a task's cancellation can interrupt (see cancel_slot).
class cancellable {
 public:
  virtual void cancel() noexcept = 0;

 protected:
  cancellable() = default;
  cancellable(const cancellable&) = default;
  cancellable& operator=(const cancellable&) = default;
  ~cancellable() = default;
};

class waiter : public cancellable {
 public:
  static constexpr std::uint32_t waiting = 0;
  static constexpr std::uint32_t idle = 0xFFFFFFFFU;

  static constexpr std::uint32_t encode(std::uint32_t arm, wake_reason r) noexcept {
    return (arm << 3) | static_cast<std::uint32_t>(r);
  }
  static constexpr wake_reason reason_of(std::uint32_t s) noexcept {
    return static_cast<wake_reason>(s & 7U);
  }
  static constexpr std::uint32_t arm_of(std::uint32_t s) noexcept { return s >> 3; }

  waiter() = default;
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;

  /// Claims the waiter for `arm` with `r`; false if it is idle or already
  /// claimed. @threadsafe
  bool try_claim(std::uint32_t arm, wake_reason r) noexcept {
    std::uint32_t expected = waiting;
    return state_.compare_exchange_strong(expected, encode(arm, r), std::memory_order_acq_rel,
                                          std::memory_order_acquire);
  }

  /// The claimer only, between its claim and wake(): changes the claim
  /// (a hand-off that found nothing to hand over becomes a retry).
  void set_claim(std::uint32_t arm, wake_reason r) noexcept {
    state_.store(encode(arm, r), std::memory_order_relaxed);
  }

  /// Wakes the owner. Called once, by the claimer, after a successful claim.
  virtual void wake() noexcept = 0;

  /// Claims the waiter for cancellation and wakes it (if nobody was first).
  void cancel() noexcept final {
    if (try_claim(0, wake_reason::cancelled)) wake();
  }

  /// Owner only: open for claims. seq_cst: it is one side of the
  /// register-then-recheck handshake with lock-free channel fast paths.
  void set_waiting() noexcept { state_.store(waiting, std::memory_order_seq_cst); }
  /// Owner only: closed for claims (after a claim was handled).
  void set_idle() noexcept { state_.store(idle, std::memory_order_relaxed); }
  /// Owner only: closes an unclaimed waiter for claims; false if a source
  /// claimed it first (the claim stands and the owner must handle it).
  bool try_set_idle() noexcept {
    std::uint32_t expected = waiting;
    return state_.compare_exchange_strong(expected, idle, std::memory_order_acq_rel,
                                          std::memory_order_acquire);
  }
  /// The state word (waiting, idle, or a claim).
  [[nodiscard]] std::uint32_t state() const noexcept {
    return state_.load(std::memory_order_acquire);
  }

 protected:
  ~waiter() = default;

 private:
  std::atomic<std::uint32_t> state_{idle};
};

/// Where the pending await of a task registers for cancellation.
///
/// A task (the chain of coroutines under one root) has at most one pending
/// await, so one slot per task context suffices; the root registers a
/// single std::stop_callback for its whole life, which fire()s the slot.
/// That keeps cancellation off the suspend/resume path: arming and
/// disarming are one uncontended CAS each.
///
/// States: empty, an armed cancellable, busy (fire() is using the one it
/// took), stopped (fired; every later arm() fails).
/// Memory ordering: acq_rel CASes; disarm() returns only after fire() has
/// stopped touching the cancellable it took.
class cancel_slot {
 public:
  /// Registers `c`; false if the task is cancelled already (`c` is then
  /// not registered).
  bool arm(cancellable* c) noexcept {
    std::uintptr_t expected = kEmpty;
    return v_.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(c),
                                      std::memory_order_acq_rel, std::memory_order_acquire);
  }
  /// Unregisters `c` (armed earlier); waits while fire() is using it.
  void disarm(cancellable* c) noexcept {
    auto expected = reinterpret_cast<std::uintptr_t>(c);
    if (v_.compare_exchange_strong(expected, kEmpty, std::memory_order_acq_rel,
                                   std::memory_order_acquire)) {
      return;
    }
    while (v_.load(std::memory_order_acquire) == kBusy) std::this_thread::yield();
  }
  /// From the task's stop callback: cancels what is armed, then refuses
  /// every later arm(). @threadsafe
  void fire() noexcept {
    const std::uintptr_t old = v_.exchange(kBusy, std::memory_order_acq_rel);
    if (old > kStopped) reinterpret_cast<cancellable*>(old)->cancel();
    v_.store(kStopped, std::memory_order_release);
  }
  [[nodiscard]] bool stopped() const noexcept {
    return v_.load(std::memory_order_acquire) == kStopped;
  }

 private:
  static constexpr std::uintptr_t kEmpty = 0;
  static constexpr std::uintptr_t kBusy = 1;
  static constexpr std::uintptr_t kStopped = 2;
  std::atomic<std::uintptr_t> v_{kEmpty};
};

/// The stop callback of a task: fires its cancel slot.
struct fire_slot {
  cancel_slot* slot;
  void operator()() const noexcept { slot->fire(); }
};

/// Where a troupe coroutine runs and how it is resumed: on the pool of
/// `core`, or, for an actor's coroutine handler, inside `actor` (as a
/// message, so the handler never runs concurrently with the actor's other
/// handlers). `token` is the task's cancellation token.
class task_context {
 public:
  task_context() = default;
  task_context(const task_context&) = delete;
  task_context& operator=(const task_context&) = delete;

  system_core* core = nullptr;
  cell* actor = nullptr;
  /// Actor mode: the actor's incarnation when the handler started. A resume
  /// that finds the actor restarted since abandons the coroutine instead
  /// (its frame points at the old, destroyed object).
  std::uint64_t incarnation = 0;
  std::stop_token token;
  cancel_slot cancel;  // fired by the root's stop callback on `token`
  /// A channel operation made in this task and destroyed without being
  /// co_awaited (its name): the task fails with errc::would_block_worker.
  const char* unawaited = nullptr;

  /// Arms the slot for `w`; if the task is already cancelled, claims and
  /// wakes `w` with wake_reason::cancelled instead (a coroutine_waiter's
  /// park() then reports it).
  void arm_cancel(waiter* w) noexcept {
    if (!cancel.arm(w)) w->cancel();
  }

  /// Runs `j` later: scheduled on the pool, or enqueued into the actor.
  /// @threadsafe
  void resume(job& j) noexcept;

  /// Actor mode: called by the message that resumed the coroutine, after
  /// the resume returned (the root checks whether the handler finished).
  virtual void after_actor_run() {}
  /// Actor mode: the actor terminated before a resume could run. Called on a
  /// pool worker; destroys the suspended coroutine.
  virtual void abandon() noexcept {}
  /// Actor mode: false once the system is gone (a late resume is dropped).
  [[nodiscard]] virtual bool system_alive() const noexcept { return true; }

 protected:
  ~task_context() = default;
};

/// Enqueues `j` into `ctx.actor` (defined in task.cpp).
void resume_in_actor(task_context& ctx, job& j) noexcept;

inline void task_context::resume(job& j) noexcept {
  if (actor == nullptr) {
    schedule(*core, &j);
  } else {
    resume_in_actor(*this, j);
  }
}

/// The task running on this thread, if any (set while a troupe coroutine
/// is being resumed). Channel operations use it to decide between blocking
/// (plain threads) and suspending (tasks).
inline thread_local task_context* tl_current_task = nullptr;

/// Throws errc::would_block_worker naming the channel operation made in the
/// current task and never co_awaited (task_context::unawaited), clearing
/// it. Defined in task.cpp.
[[noreturn]] void throw_unawaited();
/// Channel waits and task returns call this: a task that dropped a pending
/// operation fails there.
inline void check_unawaited() {
  if (tl_current_task != nullptr && tl_current_task->unawaited != nullptr) [[unlikely]] {
    throw_unawaited();
  }
}

class task_scope {
 public:
  explicit task_scope(task_context* ctx) noexcept : saved_(tl_current_task) {
    tl_current_task = ctx;
  }
  ~task_scope() { tl_current_task = saved_; }
  task_scope(const task_scope&) = delete;
  task_scope& operator=(const task_scope&) = delete;

 private:
  task_context* saved_;
};

/// Every troupe coroutine promise derives from this, so awaitables can find
/// the context of the coroutine that awaits them.
struct promise_context {
  task_context* ctx = nullptr;
};

template <class P>
task_context* context_of(std::coroutine_handle<P> h) noexcept {
  static_assert(std::is_base_of_v<promise_context, P>,
                "troupe: this awaitable can only be co_awaited inside a troupe::task");
  return h.promise().ctx;
}

/// A coroutine waiter: wake() resumes the coroutine through its context.
///
/// Registration and wake-up race: a source may claim and wake the waiter
/// while await_suspend is still registering it elsewhere. `armed_` settles
/// it: park() (end of registration) and wake() both exchange it to true;
/// whichever comes second resumes. If wake() comes second it schedules the
/// resume job; if park() comes second it returns false and the caller
/// handles the claim at once, without suspending.
class coro_waiter : public waiter, public job {
 public:
  void bind(task_context* ctx, std::coroutine_handle<> h) noexcept {
    ctx_ = ctx;
    h_ = h;
    armed_.store(false, std::memory_order_relaxed);
  }
  void wake() noexcept final {
    if (armed_.exchange(true, std::memory_order_acq_rel)) ctx_->resume(*this);
  }
  /// Ends a registration: true if the coroutine stays suspended (a later
  /// wake() resumes it), false if it was already woken.
  bool park() noexcept { return !armed_.exchange(true, std::memory_order_acq_rel); }
  /// Before registering again (after a claim was handled).
  void rearm() noexcept { armed_.store(false, std::memory_order_relaxed); }

  void run_job() noexcept final {
    task_scope scope(ctx_);
    if (::troupe::detail::trace::on()) [[unlikely]] {
      const std::uint64_t t0 = ::troupe::detail::trace::now();
      resumed();  // may end the coroutine and free this waiter
      ::troupe::detail::trace::slice("task resume", nullptr, 0, t0, 0);
      return;
    }
    resumed();
  }

  [[nodiscard]] task_context* context() const noexcept { return ctx_; }

 protected:
  coro_waiter() = default;
  ~coro_waiter() = default;
  /// Runs on the thread that resumes: by default resumes the coroutine.
  virtual void resumed() noexcept { h_.resume(); }

  task_context* ctx_ = nullptr;
  std::coroutine_handle<> h_;

 private:
  std::atomic<bool> armed_{false};
};

}  // namespace troupe::detail
