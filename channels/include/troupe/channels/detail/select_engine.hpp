#pragma once
// The engine behind every channel operation that may wait, and behind
// select: Go's selectgo, over the wait lists of channel_core.hpp.
//
// A pass locks every channel involved (in address order, so two selects
// never deadlock), then
//   pass 1: tries each arm once (the arm it was woken for first, the others
//           in random order, so no ready arm starves); the first that can
//           proceed does, and the select completes;
//   pass 2: if none could and there is no default, registers the waiter
//           with every arm's channel, and unlocks.
// The owner then parks (a thread) or suspends (a coroutine). Whoever claims
// the waiter (a partner, close(), the deadline, a cancellation) wakes it;
// the owner unregisters from every channel and either has its result
// (rendezvous hand-off, timeout, cancel) or runs another pass.
//
// Lifetime: the arms, the spec and the engine live in the operation object
// (on the stack of a blocked thread, or in the frame of a suspended
// coroutine) until the operation is over.
//
// Memory ordering: everything an arm does happens under its channel's lock
// (or through the ring's stamps); a claimer's hand-off into an arm's slot
// is published to the owner by the waiter's wake-up (see waiter.hpp).

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>

#include "troupe/actors/coro/detail/deadline.hpp"
#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/channels/detail/channel_core.hpp"
#include "troupe/channels/detail/parker.hpp"

namespace troupe::detail::chan {

/// Most arms one select may have.
inline constexpr std::uint32_t kMaxArms = 64;

/// One channel operation of a select.
class arm {
 public:
  arm(const arm&) = delete;
  arm& operator=(const arm&) = delete;

  channel_base* ch = nullptr;
  wait_node node;
  bool is_send = false;
  bool accepts_closed = false;  // receive: a closed channel completes the arm (empty value)
  bool active = true;           // false: closed receive that does not accept it

  /// Pass 1, with ch's lock held: performs the operation if it can.
  virtual op_result attempt(wake_chain& wakes) = 0;
  /// Pass 2, with ch's lock held: registers node; true if ch may have
  /// become ready meanwhile.
  virtual bool enlist() noexcept = 0;
  /// With ch's lock held: unregisters node (no-op if not linked).
  virtual void delist_locked() noexcept = 0;
  // The overrides run with ch's lock held by the select engine, which locks
  // a whole array of channels (all_locked): the analysis cannot follow that,
  // so they are TROUPE_NO_THREAD_SAFETY_ANALYSIS.

 protected:
  arm() = default;
  ~arm() = default;
};

template <class T>
class recv_arm final : public arm {
 public:
  explicit recv_arm(channel<T>* c, bool closed_completes) noexcept {
    ch = c;
    accepts_closed = closed_completes;
  }
  /// From a select case (troupe::recv_case).
  template <class Case>
  requires requires(Case& c) {
    c.ch_;
    Case::accepts_closed;
  }
  explicit recv_arm(Case& c) noexcept : recv_arm(c.ch_, Case::accepts_closed) {}
  std::optional<T> value;

  op_result attempt(wake_chain& wakes) override TROUPE_NO_THREAD_SAFETY_ANALYSIS {
    return typed()->recv_locked(value, wakes);
  }
  bool enlist() noexcept override TROUPE_NO_THREAD_SAFETY_ANALYSIS {
    return typed()->enlist_recv_locked(node, &value);
  }
  void delist_locked() noexcept override TROUPE_NO_THREAD_SAFETY_ANALYSIS {
    typed()->delist_recv_locked(node);
  }

 private:
  channel<T>* typed() const noexcept { return static_cast<channel<T>*>(ch); }
};

template <class T>
class send_arm final : public arm {
 public:
  send_arm(channel<T>* c, T* v) noexcept : value(v) {
    ch = c;
    is_send = true;
  }
  /// From a select case (troupe::send_case).
  template <class Case>
  requires requires(Case& c) {
    c.ch_;
    c.value_;
  }
  explicit send_arm(Case& c) noexcept : send_arm(c.ch_, &c.value_) {}
  T* value;  // moved from when the send happens

  op_result attempt(wake_chain& wakes) override TROUPE_NO_THREAD_SAFETY_ANALYSIS {
    return typed()->send_locked(*value, wakes);
  }
  bool enlist() noexcept override TROUPE_NO_THREAD_SAFETY_ANALYSIS {
    return typed()->enlist_send_locked(node, value);
  }
  void delist_locked() noexcept override TROUPE_NO_THREAD_SAFETY_ANALYSIS {
    typed()->delist_send_locked(node);
  }

 private:
  channel<T>* typed() const noexcept { return static_cast<channel<T>*>(ch); }
};

/// What a select is made of.
struct select_spec {
  arm* const* arms = nullptr;
  std::uint32_t n = 0;
  channel_base* const* locks = nullptr;  // the distinct channels, ascending address
  std::uint32_t nlocks = 0;
  bool has_default = false;
  std::optional<clock::time_point> deadline;
};

/// How a select ended.
struct select_outcome {
  enum class what : std::uint8_t {
    fired,        ///< arms[index] completed (a receive with no value: its channel is closed)
    closed,       ///< arms[index] is a send on a closed channel
    all_closed,   ///< every receive arm's channel is closed, and there is no default
    timeout,      ///< the deadline passed
    otherwise,    ///< nothing was ready and there is a default
    would_block,  ///< select_try only: nothing was ready
    cancelled,    ///< the task was cancelled
  };
  what kind = what::would_block;
  std::uint32_t index = 0;
};

/// Sorts and dedupes `locks[0..n)`; returns the new count.
std::uint32_t prepare_locks(channel_base** locks, std::uint32_t n) noexcept;

/// Pass 1 only (never registers): completes, or reports would_block.
void select_try(const select_spec& s, select_outcome& out);

/// One pass; true if the select completed (out is set), false if `w` is
/// now registered and may be claimed. May throw std::bad_alloc (a send on an
/// unbounded channel), with nothing registered.
bool select_pass(const select_spec& s, waiter& w, int first, select_outcome& out);

/// Unregisters every arm (takes each channel's lock in turn).
void select_delist(const select_spec& s) noexcept;

/// Blocks the calling thread until the select completes.
void select_blocking(const select_spec& s, select_outcome& out);

/// A select suspended in a coroutine.
class coro_select final : public coro_waiter {
 public:
  explicit coro_select(const select_spec& s) noexcept : spec_(s) {}
  coro_select(const coro_select&) = delete;
  coro_select& operator=(const coro_select&) = delete;
  /// Also cleans up if the coroutine is destroyed while suspended here.
  ~coro_select();

  /// From await_suspend: true if the coroutine stays suspended. May throw
  /// errc::system_shutdown (a timeout needs the system's timer).
  bool start(task_context* ctx, std::coroutine_handle<> h);

  /// From await_resume: the outcome (rethrows an exception from a retry).
  const select_outcome& result();

 private:
  void resumed() noexcept override;
  bool drive() noexcept;
  bool handle_claim() noexcept;
  void finish() noexcept;

  const select_spec& spec_;
  select_outcome out_;
  int first_ = -1;
  bool done_ = false;
  deadline_timer deadline_;
  bool cancel_armed_ = false;
  std::exception_ptr error_;
};

/// The calling thread's select RNG (xorshift64*).
std::uint64_t next_random() noexcept;
void seed_random(std::uint64_t seed) noexcept;

/// True where an operation must not block its thread: inside a troupe task
/// or on a pool worker.
bool must_not_block() noexcept;

[[noreturn]] void throw_would_block(const char* op);

/// A pending channel operation (a send, receive or select made in a task)
/// was destroyed without being co_awaited: records it in the task's
/// context, which fails the task with errc::would_block_worker at its next
/// channel wait or when it returns.
void fail_unawaited(const char* op) noexcept;

/// The would-block rule of channel operations, kept without a throwing
/// destructor. An operation that cannot complete at once is pending: in a
/// task it waits for co_await; on a pool worker outside a task begin()
/// throws errc::would_block_worker where the operation is made. end() (the
/// operation's destructor) reports a pending one that was never awaited.
class pending_state {
 public:
  /// The operation must wait. Throws outside a task.
  void begin(const char* op) {
    if (tl_current_task == nullptr) throw_would_block(op);
    check_unawaited();
    state_ = state::pending;
    uncaught_ = std::uncaught_exceptions();
  }
  void awaited() noexcept { state_ = state::awaited; }
  void settled() noexcept { state_ = state::done; }
  [[nodiscard]] bool pending() const noexcept { return state_ == state::pending; }
  void end(const char* op) noexcept {
    // Not while another exception unwinds through the expression that made it.
    if (state_ == state::pending && std::uncaught_exceptions() <= uncaught_) fail_unawaited(op);
  }

 private:
  enum class state : unsigned char { done, pending, awaited };
  state state_ = state::done;
  int uncaught_ = 0;
};
[[noreturn]] void throw_send_closed(const char* op, const channel_base& ch);
[[noreturn]] void throw_cancelled(const char* op);
[[noreturn]] void throw_empty_handle(const char* op);

}  // namespace troupe::detail::chan
