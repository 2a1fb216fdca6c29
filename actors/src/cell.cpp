#include "troupe/actors/detail/cell.hpp"

#include <new>

#include "internal/core.hpp"
#include "internal/ext.hpp"
#include "internal/log.hpp"
#include "internal/mailbox.hpp"
#include "internal/ticks.hpp"
#include "troupe/actors/detail/remote.hpp"
#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/detail/type_name.hpp"

namespace troupe::detail {

// The trace flow id lives in the node's padding: tracing costs no memory.
static_assert(sizeof(message) == 3 * sizeof(void*));

namespace {
const exit_reason& oom_reason() noexcept {
  static const exit_reason r{exit_reason::kind::exception, "std::bad_alloc: recording exit reason"};
  return r;
}

// describe_current_exception() without throwing (inside a catch block).
std::string describe_nothrow(const char* where) noexcept {
  try {
    std::string s = describe_current_exception();
    if (where != nullptr) s += std::string(" (in ") + where + ")";
    return s;
  } catch (...) {
    return {};
  }
}

message* reverse(message* m, std::uint32_t* count = nullptr) noexcept {
  message* fifo = nullptr;
  std::uint32_t k = 0;
  while (m != nullptr) {
    message* n = m->next;
    m->next = fifo;
    fifo = m;
    m = n;
    ++k;
  }
  if (count != nullptr) *count = k;
  return fifo;
}
}  // namespace

void message::run(cell& /*c*/) {}
void message::reject(const exit_reason& /*why*/, const char* /*actor_type*/) noexcept {}
void message::discard(const char* /*actor_type*/, const char* /*why*/) noexcept {}
const char* message::type_name() const noexcept {
  switch (type) {
    case kind::user:
      return "(message)";
    case kind::notice:
      return "(notice)";
    case kind::stop:
      return "(stop)";
    case kind::kill:
      return "(kill)";
    case kind::shutdown:
      return "(shutdown)";
    case kind::nudge:
      return "(nudge)";
  }
  return "(message)";
}

cell_ext::~cell_ext() = default;

cell::cell(system_core& core, std::uint64_t id, bool needs_start_hook, bool start_awake) noexcept
    : needs_start_hook_(needs_start_hook), inbox_(!start_awake), core_(&core), id_(id) {}

cell::~cell() {
  const exit_reason* e = exit_.load(std::memory_order_relaxed);
  if (e != &oom_reason()) delete e;
  delete ext();
}

cell_ext* cell::ensure_ext() {
  std::uintptr_t v = ext_.load(std::memory_order_acquire);
  if ((v & ~kSealed) != 0) return reinterpret_cast<cell_ext*>(v & ~kSealed);
  if (v == kSealed) return nullptr;
  auto* e = new cell_ext;
  if (ext_.compare_exchange_strong(v, reinterpret_cast<std::uintptr_t>(e),
                                   std::memory_order_acq_rel, std::memory_order_acquire)) {
    return e;
  }
  delete e;
  return (v & ~kSealed) != 0 ? reinterpret_cast<cell_ext*>(v & ~kSealed) : nullptr;
}

// No analysis: cell_ext::incarnation is written by this actor's thread only
// (under the ext's mutex, for the readers on other threads in monitor.cpp),
// and this actor's thread is the caller, so no lock is needed here.
std::uint64_t cell::incarnation() const noexcept TROUPE_NO_THREAD_SAFETY_ANALYSIS {
  const cell_ext* e = ext();
  return e == nullptr ? 0 : e->incarnation;
}

bool cell::trapping_exits() const noexcept {
  const cell_ext* e = ext();
  return e != nullptr && e->trap_exit;
}

void cell::activate(bool schedule_now) noexcept {
  // A detached cell gets its thread before it is linked: from the link on,
  // a shutdown (or the link's own stop, late in a shutdown) may schedule it.
  if (trace::on()) [[unlikely]]
    trace::instant("spawn", type_name(), id_, detached ? "detached" : "");
  if (detached) core_ptr()->start_detached(this);
  core_ptr()->link(this);
  if (schedule_now) schedule_self(false);
}

void cell::abort_spawn() noexcept {
  // Construction of the user object failed: nothing was linked or started.
  alive_.store(false, std::memory_order_relaxed);
  inbox_.close();
  free_memory();
}

send_result cell::enqueue(message* m) noexcept {
  if (trace::on()) [[unlikely]] {
    if (m->type == message::kind::user) m->trace_flow = trace::flow_start(type_name(), id_);
  }
  if (bounded()) [[unlikely]] {
    if (ext()->mailbox->offer(m)) {
      if (inbox_.wake()) schedule_self(false);
      return send_result::ok;
    }
  } else {
    switch (inbox_.push(m)) {
      case inbox::push_result::ok:
        queued_.fetch_add(1, std::memory_order_relaxed);
        return send_result::ok;
      case inbox::push_result::unblocked:
        queued_.fetch_add(1, std::memory_order_relaxed);
        schedule_self(false);
        return send_result::ok;
      case inbox::push_result::closed:
        break;
    }
  }
  static const exit_reason unknown{exit_reason::kind::normal, "terminated"};
  const exit_reason* why = exit();
  m->reject(why != nullptr ? *why : unknown, type_name());
  const bool user = m->type == message::kind::user;
  if (user && core_ptr() != nullptr)
    core_ptr()->count_dead_letters(*this, 1, dead_reason::actor_dead, m);
  delete m;
  return send_result::closed;
}

void cell::push_control(message::kind k) noexcept {
  auto* m = new (std::nothrow) message(k);
  if (m == nullptr) {
    // Out of memory: a kill flag still stops the actor at its next message.
    ctl_.fetch_or(kKill, std::memory_order_acq_rel);
    return;
  }
  enqueue(m);
}

// A remote cell's stop and kill go to its port; the cell ends when the
// port reports the actor gone.
void cell::request_stop() noexcept {
  if (remote()) [[unlikely]] {
    static_cast<remote_cell*>(this)->port().stop(false);
    return;
  }
  push_control(message::kind::stop);
}

void cell::request_shutdown_stop() noexcept {
  if (remote()) [[unlikely]] {
    static_cast<remote_cell*>(this)->port().stop(true);
    return;
  }
  push_control(message::kind::shutdown);
}

void cell::request_kill() noexcept {
  if (remote()) [[unlikely]] {
    static_cast<remote_cell*>(this)->port().kill("killed");
    return;
  }
  kill_local();
}

void cell::kill_local() noexcept {
  ctl_.fetch_or(kKill, std::memory_order_acq_rel);
  push_control(message::kind::kill);
}

void cell::request_suspend() noexcept {
  ctl_.fetch_or(kSuspend, std::memory_order_acq_rel);
  push_control(message::kind::nudge);
}

void cell::exit_self(exit_reason why) noexcept {
  cell_ext* e = nullptr;
  try {
    e = ensure_ext();
  } catch (...) {
  }
  if (e == nullptr) {
    stop_mode_ = stop_normal;
    return;
  }
  e->pending_exit = std::move(why);
  stop_mode_ = stop_reason;
}

void cell::schedule_self(bool fair) noexcept {
  if (special_sched_) [[unlikely]] {
    schedule_special(fair);
  } else if (fair) {
    core_ptr()->sched.schedule_fair(this);
  } else {
    core_ptr()->sched.schedule(this);
  }
}

void cell::schedule_special(bool fair) noexcept {
  if (detached) {
    static_cast<detached_runner*>(ext()->runner)->wake.release();
  } else {
    core_ptr()->schedule(this, fair);  // a test_system
  }
}

bool cell::fill_cache() noexcept {
  if (bounded()) [[unlikely]] {
    message* m = ext()->mailbox->take();
    if (m == nullptr) return false;
    m->next = nullptr;
    cache_ = m;
    cached_.store(0, std::memory_order_relaxed);  // the one taken is handled next
    return true;
  }
  message* m = inbox_.take_all();
  if (m == nullptr) return false;
  // The inbox is newest-first: reverse it into arrival order.
  std::uint32_t k = 0;
  cache_ = reverse(m, &k);
  queued_.fetch_sub(k, std::memory_order_relaxed);
  cached_.store(k - 1, std::memory_order_relaxed);  // the first is handled next
  return true;
}

bool cell::begin_incarnation() noexcept {
  if (!alive_.load(std::memory_order_relaxed)) {
    // A supervised child between incarnations, resumed by its token holder.
    child_info& ci = *ext()->child;
    if (!ci.start) {
      terminate(std::move(ci.reason));
      return false;
    }
    try {
      construct_scope scope(this);
      ci.factory(*this);
      alive_.store(true, std::memory_order_relaxed);
    } catch (...) {
      std::string what = describe_nothrow("constructor");
      core_ptr()->actor_failed(*this, what, nullptr);
      finish({exit_reason::kind::exception, std::move(what)});
      return false;
    }
  }
  started_ = true;
  if (needs_start_hook_) {
    try {
      start_hook();
    } catch (...) {
      std::string what = describe_nothrow("on_start");
      core_ptr()->actor_failed(*this, what, nullptr);
      finish({exit_reason::kind::exception, std::move(what)});
      return false;
    }
  }
  if (cell_ext* e = ext(); e != nullptr && e->child != nullptr) {
    // Started: the supervisor may go on with its next step.
    if (message* n = std::exchange(e->child->started, nullptr)) e->child->parent->enqueue(n);
  }
  return true;
}

void cell::finish_self_stop() noexcept {
  if (stop_mode_ == stop_reason) {
    finish(std::move(ext()->pending_exit));
  } else {
    finish({exit_reason::kind::normal, "stopped"});
  }
}

void cell::run_job() noexcept {
  if (!started_) [[unlikely]] {
    if (!begin_incarnation()) return;
    if (stop_mode_ != stop_none) {  // stop() in on_start: before any message
      finish_self_stop();
      return;
    }
  }
  const unsigned budget = core_ptr()->throughput;
  det_mode* const det = core_ptr()->det.get();
  const bool traced = trace::on();  // once a batch: the off cost is one load
  // Handler time costs two clock reads a batch: only once someone looks.
  const std::uint64_t batch_start =
      core_ptr()->time_handlers.load(std::memory_order_relaxed) ? ticks() : 0;
  unsigned n = 0;
  // Messages in cache_ (published per batch: no store per message).
  std::uint32_t left = cached_.load(std::memory_order_relaxed);
  while (n < budget) {
    if (cache_ == nullptr) {
      if (!fill_cache()) break;
      left = cached_.load(std::memory_order_relaxed) + 1;
    }
    if (ctl_.load(std::memory_order_acquire) != 0) [[unlikely]] {
      account(n, batch_start, left);
      on_control();
      return;
    }
    message* m = cache_;
    cache_ = m->next;
    --left;
    static_assert(message::kind::user < message::kind::notice &&
                  message::kind::notice < message::kind::stop);
    if (m->type > message::kind::notice) [[unlikely]] {  // a control message
      const auto k = m->type;
      delete m;
      if (k == message::kind::kill || k == message::kind::nudge) continue;  // the flags decide
      const bool shutdown = k == message::kind::shutdown;
      bool intercepted = false;
      try {
        intercepted = intercept_stop(shutdown);
      } catch (...) {
        intercepted = false;
      }
      if (intercepted) {
        // A supervisor with nothing to wait for may be done at once.
        if (stop_mode_ == stop_none) continue;
        account(n, batch_start, left);
        finish_self_stop();
        return;
      }
      account(n, batch_start, left);
      if (shutdown) {
        finish({exit_reason::kind::shutdown, "system shutdown"});
      } else {
        finish({exit_reason::kind::normal, "stopped"});
      }
      return;
    }
    ++n;
    if (det != nullptr) [[unlikely]]
      det->on_message(*this, *m);
    const std::uint64_t t0 = traced ? trace::now() : 0;
    try {
      m->run(*this);
    } catch (...) {
      if (traced) [[unlikely]]
        trace::slice(m->type_name(), type_name(), id_, t0, m->trace_flow);
      account(n, batch_start, left);
      failed(m);
      return;
    }
    if (traced) [[unlikely]]
      trace::slice(m->type_name(), type_name(), id_, t0, m->trace_flow);
    delete m;
    if (stop_mode_ != stop_none) [[unlikely]] {
      account(n, batch_start, left);
      finish_self_stop();
      return;
    }
  }
  account(n, batch_start, left);
  if (bounded()) [[unlikely]] {
    idle_bounded();
    return;
  }
  // Messages left (batch used up): go to the back of the queue. Otherwise
  // mark the actor idle; a sender that finds it idle schedules it again.
  if (cache_ != nullptr || !inbox_.try_block()) schedule_self(true);
  // `this` may be running elsewhere, or freed, from here on.
}

void cell::account(unsigned n, std::uint64_t t0, std::uint32_t left) noexcept {
  core_ptr()->sched.count_processed(n);
  // Only the thread running the actor writes these: a load and a store.
  handled_.store(handled_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  cached_.store(left, std::memory_order_relaxed);
  if (t0 == 0) return;
  const std::uint64_t t1 = ticks();
  if (t1 > t0) {
    busy_ticks_.store(busy_ticks_.load(std::memory_order_relaxed) + (t1 - t0),
                      std::memory_order_relaxed);
  }
}

void cell::count_restart() noexcept {
  // A supervised child always has its extension block (its child_info).
  if (cell_ext* e = ext(); e != nullptr) e->restarts.fetch_add(1, std::memory_order_relaxed);
}

cell_figures cell::figures() const noexcept {
  cell_figures f;
  std::int64_t queued = queued_.load(std::memory_order_relaxed);
  if (bounded()) {
    if (const cell_ext* e = ext(); e != nullptr && e->mailbox)
      queued = static_cast<std::int64_t>(e->mailbox->depth());
  }
  queued += cached_.load(std::memory_order_relaxed);
  f.depth = queued > 0 ? static_cast<std::size_t>(queued) : 0;
  f.handled = handled_.load(std::memory_order_relaxed);
  f.busy_ticks = busy_ticks_.load(std::memory_order_relaxed);
  if (const cell_ext* e = ext(); e != nullptr)
    f.restarts = e->restarts.load(std::memory_order_relaxed);
  f.absent = !alive_.load(std::memory_order_relaxed);
  f.idle = inbox_.idle();
  return f;
}

void cell::idle_bounded() noexcept {
  if (cache_ != nullptr) {
    schedule_self(true);
    return;
  }
  // Idle only while holding the lock and seeing nothing queued: a sender
  // appends under the lock and wakes us after it (see internal/mailbox.hpp).
  if (!ext()->mailbox->idle_if_empty([this] { return inbox_.try_block(); })) schedule_self(true);
}

void cell::failed(message* m) noexcept {
  // The handler threw: the message is a dead letter, the incarnation ends.
  std::string what = describe_nothrow(nullptr);
  core_ptr()->actor_failed(*this, what, m);
  delete m;
  finish({exit_reason::kind::exception, std::move(what)});
}

void cell::on_control() noexcept {
  const std::uint8_t c = ctl_.load(std::memory_order_acquire);
  if ((c & kKill) != 0) {
    finish({exit_reason::kind::killed, "killed"});
  } else {
    finish({exit_reason::kind::shutdown, "stopped by its supervisor"});
  }
}

void cell::finish(exit_reason why) noexcept {
  cell_ext* e = ext();
  if (e != nullptr && e->child != nullptr) {
    end_incarnation(std::move(why));
  } else {
    terminate(std::move(why));
  }
}

void cell::end_object() noexcept {
  if (!alive_.load(std::memory_order_relaxed)) return;
  try {
    stop_hook();
  } catch (...) {
    core_ptr()->log->error("actor {}#{}: on_stop threw {}", type_name(), id_,
                           describe_nothrow(nullptr));
  }
  destroy_object();
  alive_.store(false, std::memory_order_relaxed);
}

void cell::end_incarnation(exit_reason why) noexcept {
  // A supervised child: the object goes, the mailbox stays open, and the
  // cell waits (not scheduled by anyone) until its supervisor decides.
  end_object();
  started_ = false;
  stop_mode_ = stop_none;
  ctl_.fetch_and(static_cast<std::uint8_t>(~(kKill | kSuspend)), std::memory_order_acq_rel);
  cell_ext* e = ext();
  e->trap_exit = false;
  delete std::exchange(e->child->started, nullptr);  // a failed start: the exit event says so
  fire_watchers(*this, e, why, false);
  core_ptr()->on_incarnation_end(*this, why);
  message* ev = make_child_event(this, why);
  if (ev == nullptr) {  // out of memory: the supervisor cannot be told; stop for good
    terminate(std::move(why));
    return;
  }
  // A dead supervisor rejects the event, which terminates this cell.
  e->child->parent->enqueue(ev);
  // `this` may be running elsewhere from here on.
}

void cell::resume(bool start, exit_reason why, message* started) noexcept {
  // A kill or suspend request that arrived between incarnations was aimed
  // at the one that ended: it does not carry over to the next.
  ctl_.store(0, std::memory_order_release);
  child_info& ci = *ext()->child;
  ci.start = start;
  ci.reason = std::move(why);
  delete std::exchange(ci.started, started);
  schedule_self(false);
}

void cell::resume_start(message* started) noexcept { resume(true, {}, started); }

void cell::resume_terminate(exit_reason why) noexcept { resume(false, std::move(why), nullptr); }

void cell::terminate(exit_reason why) noexcept {
  const exit_reason* stored = new (std::nothrow) exit_reason(std::move(why));
  if (stored == nullptr) stored = &oom_reason();
  // exit_ is published before the inbox closes, so a sender that finds the
  // inbox closed can read it.
  exit_.store(stored, std::memory_order_release);
  if (trace::on()) [[unlikely]] {
    try {
      trace::instant("exit", type_name(), id_, stored->to_string());
    } catch (...) {  // out of memory for the text: no event
    }
  }
  message* rest = reverse(inbox_.close());
  room_waiter* parked = nullptr;
  if (bounded()) rest = ext()->mailbox->shut(parked);
  end_object();
  // Older messages (cache) first, then the newer ones in arrival order,
  // then senders that were waiting for room.
  std::uint64_t dropped = reject_chain(std::exchange(cache_, nullptr), *stored, type_name());
  dropped += reject_chain(rest, *stored, type_name());
  dropped += bounded_mailbox::reject_parked(parked, *stored, type_name());
  if (dropped != 0) core_ptr()->count_dead_letters(*this, dropped);
  // Seal the extension block: monitors and links attached from now on see
  // the actor dead and fire at once.
  const std::uintptr_t v = ext_.fetch_or(kSealed, std::memory_order_acq_rel);
  if (auto* e = reinterpret_cast<cell_ext*>(v & ~kSealed)) {
    fire_watchers(*this, e, *stored, true);
    core_ptr()->forget_names_of(*this, *e);
    end_supervision(*e);
    e->persistent.reset();
  }
  core_ptr()->on_terminated(*this, *stored);
  release();  // the self reference; may free this cell
}

void cell::free_cell() noexcept {
  // Whoever takes the back-pointer unlinks the cell: this call, or
  // ~system_core (which then leaves the cell's memory to this call).
  if (system_core* c = core_.exchange(nullptr, std::memory_order_acq_rel)) c->unlink(this);
  free_memory();
}

}  // namespace troupe::detail
