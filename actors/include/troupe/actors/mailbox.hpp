#pragma once
/// Mailbox options (bounded mailboxes and their overflow policies) and
/// troupe::send_outcome, what ref<A>::send() returns.
///
/// Limits first:
/// - Mailboxes are unbounded by default: a producer faster than its
///   consumer grows the consumer's mailbox. Bound one with
///   `sys.spawn<A>(troupe::bounded(n, policy), args...)`.
/// - A bounded mailbox costs one uncontended mutex round trip per send and
///   per message handled (unbounded ones stay lock-free and pay nothing).
/// - Only user messages count against the capacity. Runtime messages (stop,
///   kill, down, exit_msg, supervisor events, when_ready continuations,
///   coroutine resumptions) always get in.
/// - `block` never blocks a pool worker: a plain handler gets
///   send_result::full (its message untouched, so it can retry), and a
///   coroutine suspends in `co_await ref.send(m)`. A plain thread (main,
///   a detached actor) blocks until there is room or the actor dies; two
///   plain threads blocking on each other's full mailboxes deadlock, as with
///   any bounded queue. Senders waiting for room are admitted first come,
///   first served, before newer senders.
/// - In a test_system nothing blocks: `block` behaves like `fail`.
///
/// Refused and dropped messages are dead letters, counted per reason in
/// system::stats() (mailbox_full, dropped). A refused message is not moved
/// from: `while (r.send(std::move(m)) == send_result::full) ...` retries the
/// same message.

#include <coroutine>
#include <cstddef>
#include <typeinfo>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/remote_message.hpp"

namespace troupe {

/// What a full bounded mailbox does with a new user message.
enum class overflow : unsigned char {
  fail,         ///< refuses it: send returns full, ask fails with errc::mailbox_full (counted
                ///< mailbox_full)
  drop_newest,  ///< discards it: send returns full, ask fails with errc::mailbox_full (counted
                ///< dropped)
  drop_oldest,  ///< discards the oldest queued user message (its ask fails with errc::mailbox_full;
                ///< counted dropped) and takes the new one: send returns ok
  block,        ///< back-pressure: the sender waits for room (see the limits above)
};

/// How spawn() creates an actor.
struct spawn_options {
  bool detached = false;             ///< a thread of its own (as spawn(troupe::detached, ...))
  std::size_t capacity = 0;          ///< mailbox capacity in user messages; 0 = unbounded
  overflow policy = overflow::fail;  ///< what a full bounded mailbox does
};

/// spawn_options for a bounded mailbox: `sys.spawn<A>(troupe::bounded(100, overflow::block))`.
/// `capacity` must be at least 1.
constexpr spawn_options bounded(std::size_t capacity, overflow policy = overflow::fail) noexcept {
  return spawn_options{false, capacity, policy};
}

class send_outcome;

namespace detail {

/// Parks a send to remote cell `c` (an A's message of type `type` at
/// `value`) until its link has room; `cb` is told the outcome once (now or
/// later). Defined in remote.cpp.
void park_remote_send(cell* c, const remote_message& m, park_callback* cb);
/// A parked send to remote cell `c` ended closed: counted as a dead letter
/// (as a send refused closed at once is).
void remote_parked_closed(cell* c) noexcept;

/// Awaits a send that a full `block` mailbox refused because it could not
/// wait where it was made (see send_outcome::operator co_await).
class send_awaiter final : private park_callback {
 public:
  send_awaiter(cell* c, void* msg, message* (*make)(void*), send_result r) noexcept
      : c_(c), msg_(msg), make_(make), result_(r) {}
  /// A send to a remote cell that its full link refused.
  send_awaiter(cell* c, const remote_message& m, send_result r) noexcept
      : c_(c),
        msg_(const_cast<void*>(m.value)),
        actor_(&m.actor),
        type_(&m.type),
        ops_(m.ops),
        result_(r) {}
  send_awaiter(const send_awaiter&) = delete;
  send_awaiter& operator=(const send_awaiter&) = delete;
  send_awaiter(send_awaiter&&) = delete;
  send_awaiter& operator=(send_awaiter&&) = delete;
  ~send_awaiter() = default;

  [[nodiscard]] bool await_ready() const noexcept { return make_ == nullptr && actor_ == nullptr; }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    w_.bind(context_of(h), h);
    w_.set_waiting();
    // Calls done() exactly once: now, or when the message gets in (or the
    // actor dies). Throws (without calling done) only if making the node does.
    if (actor_ != nullptr) {
      park_remote_send(c_, remote_message{*actor_, *type_, msg_, ops_}, this);
    } else {
      c_->bounded_send(node_maker{msg_, make_}, send_wait::park, this);
    }
    return w_.park();
  }

  send_result await_resume() const noexcept { return result_; }

 private:
  void done(send_result r) noexcept override {
    if (actor_ != nullptr && r == send_result::closed) remote_parked_closed(c_);
    result_ = r;
    if (w_.try_claim(0, wake_reason::ready)) w_.wake();
  }

  class resumer final : public coro_waiter {};

  cell* c_;
  void* msg_;
  message* (*make_)(void*) = nullptr;
  const std::type_info* actor_ = nullptr;  // remote: A, M and their ops
  const std::type_info* type_ = nullptr;
  const remote_ops* ops_ = nullptr;
  send_result result_;
  resumer w_;
};

}  // namespace detail

/// The result of ref<A>::send(): converts to (and compares with)
/// send_result, and can be co_awaited in a troupe::task.
///
/// `co_await ref.send(m)` in a task: if the actor's mailbox is bounded with
/// overflow::block and full, or the actor lives elsewhere (a child process)
/// and its connection's send queue is full, the task suspends (its worker
/// is not blocked) until the message gets in, then yields send_result::ok,
/// or send_result::closed if the actor terminated first. Otherwise it
/// yields the result at once. Task cancellation does not interrupt this
/// wait.
///
/// @note co_await the send in the expression that makes it (the outcome
/// refers to the message argument until then); a stored outcome is only a
/// value.
class send_outcome {
 public:
  constexpr send_outcome(send_result r) noexcept : r_(r) {}  // NOLINT(google-explicit-constructor)

  constexpr operator send_result() const noexcept {
    return r_;
  }  // NOLINT(google-explicit-constructor)
  [[nodiscard]] constexpr send_result value() const noexcept { return r_; }
  friend constexpr bool operator==(const send_outcome& a, send_result b) noexcept {
    return a.r_ == b;
  }

  /// For ref<A>::send(): a send refused by a full `block` mailbox because
  /// it could not wait here; co_await retries it, waiting.
  send_outcome(detail::cell* c, void* msg, detail::message* (*make)(void*)) noexcept
      : r_(send_result::full), c_(c), msg_(msg), make_(make) {}
  /// For ref<A>::send() to an actor elsewhere: refused by its full link;
  /// co_await waits for room.
  send_outcome(detail::cell* c, const detail::remote_message& m) noexcept
      : r_(send_result::full),
        c_(c),
        msg_(const_cast<void*>(m.value)),
        actor_(&m.actor),
        type_(&m.type),
        ops_(m.ops) {}

  detail::send_awaiter operator co_await() && noexcept {
    if (actor_ != nullptr) {
      return detail::send_awaiter(c_, detail::remote_message{*actor_, *type_, msg_, ops_}, r_);
    }
    return detail::send_awaiter(c_, msg_, make_, r_);
  }

 private:
  send_result r_;
  detail::cell* c_ = nullptr;
  void* msg_ = nullptr;
  detail::message* (*make_)(void*) = nullptr;
  const std::type_info* actor_ = nullptr;
  const std::type_info* type_ = nullptr;
  const detail::remote_ops* ops_ = nullptr;
};

}  // namespace troupe
