#include <new>

#include "internal/core.hpp"
#include "internal/log.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/type_name.hpp"

namespace troupe::detail {

namespace {
const exit_reason& oom_reason() noexcept {
  static const exit_reason r{exit_reason::kind::exception, "std::bad_alloc: recording exit reason"};
  return r;
}
}  // namespace

void message::run(cell& /*c*/) {}
void message::reject(const exit_reason& /*why*/, const char* /*actor_type*/) noexcept {}

cell::cell(system_core& core, std::uint64_t id, bool start_scheduled) noexcept
    : needs_start_hook_(start_scheduled), inbox_(!start_scheduled), core_(&core), id_(id) {}

cell::~cell() {
  const exit_reason* e = exit_.load(std::memory_order_relaxed);
  if (e != &oom_reason()) delete e;
}

void cell::activate(bool schedule_now) noexcept {
  core_->link(this);
  if (detached) {
    core_->start_detached(this, schedule_now);
  } else if (schedule_now) {
    core_->sched.schedule(this);
  }
}

void cell::abort_spawn() noexcept {
  // Construction of the user object failed: nothing was linked or started.
  inbox_.close();
  free_memory();
}

send_result cell::enqueue(message* m) noexcept {
  switch (inbox_.push(m)) {
    case inbox::push_result::ok:
      return send_result::ok;
    case inbox::push_result::unblocked:
      schedule_self(false);
      return send_result::ok;
    case inbox::push_result::closed:
      break;
  }
  static const exit_reason unknown{exit_reason::kind::normal, "terminated"};
  const exit_reason* why = exit();
  m->reject(why != nullptr ? *why : unknown, type_name());
  const bool user = m->type == message::kind::user;
  delete m;
  if (user && core_ != nullptr) core_->count_dead_letters(*this, 1);
  return send_result::dead;
}

void cell::push_control(message::kind k) noexcept {
  message* m = new (std::nothrow) message(k);
  if (m == nullptr) {
    // Out of memory: a kill flag still stops the actor at its next activation.
    kill_requested_.store(true, std::memory_order_release);
    return;
  }
  enqueue(m);
}

void cell::request_stop() noexcept { push_control(message::kind::stop); }

void cell::request_shutdown_stop() noexcept { push_control(message::kind::shutdown); }

void cell::request_kill() noexcept {
  kill_requested_.store(true, std::memory_order_release);
  push_control(message::kind::kill);
}

void cell::schedule_self(bool fair) noexcept {
  if (detached) {
    static_cast<detached_runner*>(runner_)->wake.release();
  } else if (fair) {
    core_->sched.schedule_fair(this);
  } else {
    core_->sched.schedule(this);
  }
}

bool cell::fill_cache() noexcept {
  message* m = inbox_.take_all();
  if (m == nullptr) return false;
  // The inbox is newest-first: reverse it into arrival order.
  message* fifo = nullptr;
  while (m != nullptr) {
    message* n = m->next;
    m->next = fifo;
    fifo = m;
    m = n;
  }
  cache_ = fifo;
  return true;
}

void cell::run_job() noexcept {
  if (!started_) {
    started_ = true;
    if (needs_start_hook_) {
      try {
        start_hook();
      } catch (...) {
        terminate({exit_reason::kind::exception, "on_start: " + describe_current_exception()});
        return;
      }
    }
  }
  const unsigned budget = core_->throughput;
  unsigned n = 0;
  while (n < budget) {
    if (cache_ == nullptr && !fill_cache()) break;
    if (kill_requested_.load(std::memory_order_acquire)) {
      core_->sched.count_processed(n);
      terminate({exit_reason::kind::killed, "killed"});
      return;
    }
    message* m = cache_;
    cache_ = m->next;
    if (m->type != message::kind::user) {
      const auto k = m->type;
      delete m;
      core_->sched.count_processed(n);
      if (k == message::kind::kill) {
        terminate({exit_reason::kind::killed, "killed"});
      } else if (k == message::kind::shutdown) {
        terminate({exit_reason::kind::shutdown, "system shutdown"});
      } else {
        terminate({exit_reason::kind::normal, "stopped"});
      }
      return;
    }
    ++n;
    try {
      m->run(*this);
    } catch (...) {
      std::string what = describe_current_exception();
      delete m;
      core_->sched.count_processed(n);
      terminate({exit_reason::kind::exception, std::move(what)});
      return;
    }
    delete m;
    if (stop_self_) {
      core_->sched.count_processed(n);
      terminate({exit_reason::kind::normal, "stopped"});
      return;
    }
  }
  core_->sched.count_processed(n);
  // Messages left (batch used up): go to the back of the queue. Otherwise
  // mark the actor idle; a sender that finds it idle schedules it again.
  if (cache_ != nullptr || !inbox_.try_block()) schedule_self(true);
  // `this` may be running elsewhere, or freed, from here on.
}

std::uint64_t cell::reject_chain(message* m, const exit_reason& why) noexcept {
  std::uint64_t users = 0;
  while (m != nullptr) {
    message* n = m->next;
    if (m->type == message::kind::user) {
      ++users;
      m->reject(why, type_name());
    }
    delete m;
    m = n;
  }
  return users;
}

void cell::terminate(exit_reason why) noexcept {
  const exit_reason* stored = new (std::nothrow) exit_reason(std::move(why));
  if (stored == nullptr) stored = &oom_reason();
  // exit_ is published before the inbox closes, so a sender that finds the
  // inbox closed can read it.
  exit_.store(stored, std::memory_order_release);
  message* rest = inbox_.close();
  try {
    stop_hook();
  } catch (...) {
    core_->log->error("actor {}#{}: on_stop threw {}", type_name(), id_,
                      describe_current_exception());
  }
  destroy_object();
  // Older messages (cache) first, then the newer ones in arrival order.
  std::uint64_t dropped = reject_chain(cache_, *stored);
  cache_ = nullptr;
  message* fifo = nullptr;
  while (rest != nullptr) {
    message* n = rest->next;
    rest->next = fifo;
    fifo = rest;
    rest = n;
  }
  dropped += reject_chain(fifo, *stored);
  if (dropped != 0) core_->count_dead_letters(*this, dropped);
  core_->on_terminated(*this, *stored);
  release();  // the self reference; may free this cell
}

void cell::free_cell() noexcept {
  if (core_ != nullptr) core_->unlink(this);
  free_memory();
}

}  // namespace troupe::detail
