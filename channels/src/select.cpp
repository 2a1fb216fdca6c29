#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/channels/detail/select_engine.hpp"

namespace troupe::detail::chan {

// ---- channel_base ------------------------------------------------------------------

namespace {
std::size_t mark_bit_for(kind k, std::size_t cap) noexcept {
  // Ring indices: the mark bit sits just above the largest index.
  return k == kind::ring ? std::bit_ceil(cap + 1) : 1;
}
}  // namespace

channel_base::channel_base(kind k, std::size_t cap) noexcept
    : kind_(k), cap_(cap), mark_bit_(mark_bit_for(k, cap)), one_lap_(mark_bit_ * 2) {}

bool channel_base::close(bool no_receivers) noexcept {
  wake_chain wakes;  // woken after the lock is released
  bool first = false;
  {
    lock_guard lk(mu_);
    if (no_receivers) receivers_gone_.store(true, std::memory_order_release);
    if (kind_ == kind::ring) {
      first = (tail_.fetch_or(mark_bit_, std::memory_order_seq_cst) & mark_bit_) == 0;
    } else {
      first = !closed_;
      closed_ = true;
    }
    closed_flag_.store(true, std::memory_order_release);
    // Every waiter retries and finds the channel closed. The claimed nodes
    // are ours now (unlinked, their waiters waiting for our wake()).
    for (wait_queue* q : {&recvq_, &sendq_}) {
      while (wait_node* n = q->claim_one(wake_reason::ready)) wakes.add(n);
    }
  }
  if (first && detail::trace::on()) [[unlikely]] {
    detail::trace::instant("channel close", nullptr, 0,
                           no_receivers ? "every receiver is gone" : "closed");
  }
  return first;
}

void channel_base::pass_wakeup(bool receivers) noexcept {
  wake_chain wakes;
  lock_guard lk(mu_);
  if (wait_node* n = (receivers ? recvq_ : sendq_).claim_one(wake_reason::ready)) wakes.add(n);
}

std::size_t channel_base::ring_size() const noexcept {
  for (;;) {
    const std::size_t tail = tail_.load(std::memory_order_seq_cst);
    const std::size_t head = head_.load(std::memory_order_seq_cst);
    if (tail_.load(std::memory_order_seq_cst) != tail) continue;
    const std::size_t hix = head & (mark_bit_ - 1);
    const std::size_t tix = tail & (mark_bit_ - 1);
    if (hix < tix) return tix - hix;
    if (hix > tix) return cap_ - hix + tix;
    return (tail & ~mark_bit_) == head ? 0 : cap_;
  }
}

// ---- helpers ----------------------------------------------------------------------------

namespace {

struct rng_state {
  std::uint64_t s;
  rng_state() noexcept {
    const auto t =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    const auto id = std::hash<std::thread::id>{}(std::this_thread::get_id());
    s = (t ^ (static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ULL)) | 1U;
  }
};
thread_local rng_state tl_rng;

}  // namespace

std::uint64_t next_random() noexcept {
  std::uint64_t& s = tl_rng.s;
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1DULL;
}

void seed_random(std::uint64_t seed) noexcept {
  tl_rng.s = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
}

bool must_not_block() noexcept { return tl_current_task != nullptr || on_pool_worker(); }

void throw_would_block(const char* op) {
  throw error(
      errc::would_block_worker,
      std::string(op) + ": would block a pool worker thread or a task (co_await it, or use try_)");
}

void fail_unawaited(const char* op) noexcept {
  if (tl_current_task != nullptr && tl_current_task->unawaited == nullptr) {
    tl_current_task->unawaited = op;
  }
}

void throw_send_closed(const char* op, const channel_base& ch) {
  throw error(errc::channel_closed,
              std::string(op) +
                  (ch.receivers_gone() ? ": every receiver is gone" : ": the channel is closed"));
}

void throw_cancelled(const char* op) {
  throw error(errc::cancelled, std::string(op) + ": the task was cancelled");
}

void check_capacity(std::size_t cap) {
  if (cap <= kMaxCapacity) return;
  std::string text = "make_channel: capacity " + std::to_string(cap) + " exceeds the maximum " +
                     std::to_string(kMaxCapacity);
  if (cap > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max())) {
    text += " (it is " + std::to_string(static_cast<std::ptrdiff_t>(cap)) +
            " converted to an unsigned size)";
  }
  throw error(errc::invalid_argument, text);
}

void throw_capacity_unallocatable(std::size_t cap, std::size_t slot_size) {
  throw error(errc::invalid_argument, "make_channel: capacity " + std::to_string(cap) +
                                          " is too large to allocate (" + std::to_string(cap) +
                                          " slots of " + std::to_string(slot_size) + " bytes)");
}

void throw_empty_handle(const char* op) {
  throw error(errc::invalid_argument,
              std::string(op) + ": empty handle (default-constructed or moved-from)");
}

std::uint32_t prepare_locks(channel_base** locks, std::uint32_t n) noexcept {
  std::sort(locks, locks + n);
  return static_cast<std::uint32_t>(std::unique(locks, locks + n) - locks);
}

namespace {

// Holds every lock of a select; on release, unlocks them and then wakes the
// waiters its operation completed.
class all_locked {
 public:
  explicit all_locked(const select_spec& s) noexcept : s_(s) {
    for (std::uint32_t i = 0; i < s_.nlocks; ++i) s_.locks[i]->mutex().lock();
  }
  ~all_locked() {
    for (std::uint32_t i = s_.nlocks; i > 0; --i) s_.locks[i - 1]->mutex().unlock();
    wakes.wake_all();
  }
  all_locked(const all_locked&) = delete;
  all_locked& operator=(const all_locked&) = delete;

  wake_chain wakes;

 private:
  const select_spec& s_;
};

// The order of pass 1: `first` (if any), then the rest shuffled.
std::uint32_t pass_order(const select_spec& s, int first, std::uint32_t* order) noexcept {
  std::uint32_t k = 0;
  if (first >= 0) order[k++] = static_cast<std::uint32_t>(first);
  const std::uint32_t start = k;
  for (std::uint32_t i = 0; i < s.n; ++i) {
    if (static_cast<int>(i) != first) order[k++] = i;
  }
  for (std::uint32_t i = k - start; i > 1; --i) {  // Fisher-Yates over order[start..k)
    const auto j = static_cast<std::uint32_t>(next_random() % i);
    std::swap(order[start + i - 1], order[start + j]);
  }
  return k;
}

// Pass 1 under the locks: true if the select completed.
bool try_arms(const select_spec& s, int first, all_locked& lk, select_outcome& out) {
  std::uint32_t order[kMaxArms];
  const std::uint32_t k = pass_order(s, first, order);
  for (std::uint32_t j = 0; j < k; ++j) {
    const std::uint32_t i = order[j];
    arm& a = *s.arms[i];
    if (!a.active) continue;
    const op_result r = a.attempt(lk.wakes);
    if (r == op_result::ok) {
      out = {select_outcome::what::fired, i};
      return true;
    }
    if (r == op_result::closed) {
      if (a.is_send) {
        out = {select_outcome::what::closed, i};
        return true;
      }
      if (a.accepts_closed) {
        out = {select_outcome::what::fired, i};
        return true;
      }
      a.active = false;
    }
  }
  return false;
}

// Reads the ring words of every arm's channel into `w` (2 per arm).
void read_rings(const select_spec& s, std::size_t* w) noexcept {
  for (std::size_t i = 0; i < s.n; ++i) s.arms[i]->ch->ring_words(w[2 * i], w[2 * i + 1]);
}

// try_arms for a select with a default. Go's select decides on one snapshot
// of its channels; ring operations do not take the channel locks held here,
// so one sweep can find each ring empty (or full) at a different instant
// while a value moves past it. The ring words are read before and after the
// sweep: if none changed, no ring operation completed in between, every arm
// was blocked for the whole sweep, and the default is right. Otherwise the
// sweep runs again. True if an arm completed; false: take the default.
bool try_arms_snapshot(const select_spec& s, int first, all_locked& lk, select_outcome& out) {
  std::size_t before[2 * kMaxArms];
  std::size_t after[2 * kMaxArms];
  read_rings(s, before);
  for (;;) {
    if (try_arms(s, first, lk, out)) return true;
    read_rings(s, after);
    const std::size_t words = std::size_t{2} * s.n;
    if (std::equal(before, before + words, after)) return false;
    std::copy(after, after + words, before);
  }
}

// Every channel arm is skipped (closed and drained, its function takes T),
// so nothing can ever fire but a timeout: the select ends as all_closed
// instead (a loop over `select(rx.on(f), after(d, g))` would otherwise time
// out forever on a closed channel, with no sign of the close). A select
// with no channel arm (after() alone) is a sleep.
bool all_skipped(const select_spec& s) noexcept;

bool any_active(const select_spec& s) noexcept {
  for (std::uint32_t i = 0; i < s.n; ++i) {
    if (s.arms[i]->active) return true;
  }
  return false;
}

bool all_skipped(const select_spec& s) noexcept {
  return !any_active(s) && (s.n > 0 || !s.deadline);
}

}  // namespace

void select_try(const select_spec& s, select_outcome& out) {
  all_locked lk(s);
  if (s.has_default) {
    if (!try_arms_snapshot(s, -1, lk, out)) out = {select_outcome::what::otherwise, 0};
    return;
  }
  if (try_arms(s, -1, lk, out)) return;
  if (all_skipped(s)) {
    out = {select_outcome::what::all_closed, 0};
  } else if (s.deadline && clock::now() >= *s.deadline) {
    out = {select_outcome::what::timeout, 0};
  } else {
    out = {select_outcome::what::would_block, 0};
  }
}

bool select_pass(const select_spec& s, waiter& w, int first, select_outcome& out) {
  all_locked lk(s);
  if (s.has_default) {
    if (!try_arms_snapshot(s, first, lk, out)) out = {select_outcome::what::otherwise, 0};
    return true;
  }
  for (;;) {
    if (try_arms(s, first, lk, out)) return true;
    if (all_skipped(s)) {
      out = {select_outcome::what::all_closed, 0};
      return true;
    }
    // Pass 2. Channels claim us only under one of the locks we hold; the
    // lock-free sources (a coroutine select's timer, a task's cancellation)
    // may claim us as soon as we are waiting.
    w.set_waiting();
    int ready = -1;
    for (std::uint32_t i = 0; i < s.n; ++i) {
      arm& a = *s.arms[i];
      if (!a.active) continue;
      a.node.w = &w;
      a.node.arm = i;
      if (a.enlist()) {  // a lock-free ring operation got in between: retry
        ready = static_cast<int>(i);
        break;
      }
    }
    if (ready < 0) return false;
    for (std::uint32_t i = 0; i < s.n; ++i) s.arms[i]->delist_locked();
    // A timer or cancellation that claimed us meanwhile has called wake()
    // or is about to: report "registered" so the caller waits for that
    // wake-up and handles the claim (erasing it would lose it).
    if (!w.try_set_idle()) return false;
    first = ready;
  }
}

void select_delist(const select_spec& s) noexcept {
  for (std::uint32_t i = 0; i < s.n; ++i) {
    arm& a = *s.arms[i];
    lock_guard lk(a.ch->mutex());
    a.delist_locked();
  }
}

namespace {
// After a claim `c`: unregisters the arms that are still registered. A
// claim made by a channel (done, ready) popped that arm's node already.
void delist_after(const select_spec& s, std::uint32_t c) noexcept {
  const wake_reason r = waiter::reason_of(c);
  const bool popped = r == wake_reason::done || r == wake_reason::ready;
  for (std::uint32_t i = 0; i < s.n; ++i) {
    if (popped && i == waiter::arm_of(c)) continue;
    arm& a = *s.arms[i];
    lock_guard lk(a.ch->mutex());
    a.delist_locked();
  }
}
}  // namespace

void select_blocking(const select_spec& s, select_outcome& out) {
  thread_waiter w;
  int first = -1;
  for (;;) {
    if (select_pass(s, w, first, out)) return;
    const std::uint32_t c = w.wait(s.deadline);
    delist_after(s, c);
    w.set_idle();
    w.reset();
    switch (waiter::reason_of(c)) {
      case wake_reason::done:
        out = {select_outcome::what::fired, waiter::arm_of(c)};
        return;
      case wake_reason::ready:
        first = static_cast<int>(waiter::arm_of(c));
        continue;
      case wake_reason::timeout:
        out = {select_outcome::what::timeout, 0};
        return;
      case wake_reason::cancelled:
      case wake_reason::none:
        out = {select_outcome::what::cancelled, 0};
        return;
    }
  }
}

// ---- coro_select ------------------------------------------------------------------------

bool coro_select::start(task_context* ctx, std::coroutine_handle<> h) {
  bind(ctx, h);
  if (ctx->token.stop_requested()) {
    out_ = {select_outcome::what::cancelled, 0};
    done_ = true;
    return false;
  }
  if (spec_.deadline) deadline_.arm(*ctx->core, *spec_.deadline, *this);
  return drive();
}

bool coro_select::drive() noexcept {
  for (;;) {
    rearm();
    bool completed = false;
    try {
      completed = select_pass(spec_, *this, first_, out_);
    } catch (...) {
      error_ = std::current_exception();
      completed = true;
    }
    if (completed) {
      finish();
      return false;
    }
    // Registered with the channels; now the other wake sources. Arming
    // the cancel slot fails if the task was cancelled meanwhile (even while
    // we were not claimable); the timer may have fired then too: check the
    // deadline.
    if (cancel_armed_) ctx_->cancel.disarm(this);
    ctx_->arm_cancel(this);
    cancel_armed_ = true;
    if (spec_.deadline && clock::now() >= *spec_.deadline && try_claim(0, wake_reason::timeout)) {
      wake();
    }
    if (park()) return true;
    if (!handle_claim()) {
      finish();
      return false;
    }
  }
}

bool coro_select::handle_claim() noexcept {
  const std::uint32_t c = state();
  delist_after(spec_, c);
  set_idle();
  switch (waiter::reason_of(c)) {
    case wake_reason::done:
      out_ = {select_outcome::what::fired, waiter::arm_of(c)};
      return false;
    case wake_reason::ready:
      first_ = static_cast<int>(waiter::arm_of(c));
      return true;
    case wake_reason::timeout:
      out_ = {select_outcome::what::timeout, 0};
      return false;
    case wake_reason::cancelled:
    case wake_reason::none:
      out_ = {select_outcome::what::cancelled, 0};
      return false;
  }
  return false;
}

void coro_select::resumed() noexcept {
  bool parked = false;
  if (handle_claim()) {
    parked = drive();
  } else {
    finish();
  }
  if (!parked) h_.resume();  // last use of *this: the coroutine may destroy it
}

void coro_select::finish() noexcept {
  deadline_.cancel();                            // waits for a firing in progress
  if (cancel_armed_) ctx_->cancel.disarm(this);  // waits for a cancellation in progress
  cancel_armed_ = false;
  done_ = true;
}

const select_outcome& coro_select::result() {
  if (error_) {
    std::exception_ptr e = std::move(error_);
    error_ = nullptr;
    std::rethrow_exception(std::move(e));
  }
  return out_;
}

coro_select::~coro_select() {
  if (done_) return;
  // The coroutine was destroyed while suspended here (an actor's coroutine
  // handler whose actor terminated). It was woken already, or its resume
  // could not have been dropped; claim it if nobody did, unregister, and if
  // it was woken for a value it will not take, pass that wake-up on.
  std::uint32_t c = state();
  if (c == waiting) {
    (void)try_claim(0, wake_reason::cancelled);
    c = state();  // ours, or the claim that beat it
  }
  select_delist(spec_);
  if (waiter::reason_of(c) == wake_reason::ready && waiter::arm_of(c) < spec_.n) {
    const arm& a = *spec_.arms[waiter::arm_of(c)];
    a.ch->pass_wakeup(!a.is_send);
  }
  finish();
}

}  // namespace troupe::detail::chan
