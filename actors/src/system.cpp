#include "troupe/actors/system.hpp"

#include <cxxabi.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "internal/core.hpp"
#include "internal/ext.hpp"
#include "internal/log.hpp"
#include "internal/trace.hpp"
#include "troupe/actors/detail/start_check.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"

namespace troupe {

// ---- small helpers declared in public headers ------------------------------

namespace detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return (status == 0 && out) ? std::string(out.get()) : std::string(mangled);
}

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return demangle(typeid(e).name()) + ": " + e.what();
  } catch (...) {
    return "unknown exception (not derived from std::exception)";
  }
}

std::string ask_failed_text(const char* actor_type) {
  return std::string("ask ") + actor_type + ": handler threw " + describe_current_exception();
}

void throw_no_state(const char* op) {
  throw error(errc::future_retrieved,
              std::string(op) + ": no state (empty, moved-from or already retrieved)");
}

void throw_would_block(const char* op) {
  throw error(errc::would_block_worker,
              std::string(op) +
                  ": would block a pool worker thread or a runtime thread such as the process "
                  "backend's I/O thread (use then(), when_ready() or co_await)");
}

void throw_timeout(const char* op, std::chrono::nanoseconds d) {
  const auto ms = std::chrono::duration<double, std::milli>(d).count();
  throw error(errc::timeout, std::string(op) + ": no result within " + std::to_string(ms) + " ms");
}

void throw_empty_ref(const char* op) {
  throw error(errc::invalid_argument,
              std::string(op) + ": empty ref (default-constructed or moved-from)");
}

void throw_wrong_type(const char* op, const char* actual, const std::string& wanted) {
  throw error(errc::invalid_argument,
              std::string(op) + ": the actor is a " + actual + ", not a " + wanted);
}

void schedule(system_core& core, job* j) noexcept { core.schedule(j, false); }
void schedule_fair(system_core& core, job* j) noexcept { core.schedule(j, true); }

namespace {
thread_local cell* tl_constructing = nullptr;
}

construct_scope::construct_scope(cell* c) noexcept : saved_(tl_constructing) {
  tl_constructing = c;
}
construct_scope::~construct_scope() { tl_constructing = saved_; }
cell* construct_scope::current() noexcept {
  cell* c = tl_constructing;
  tl_constructing = nullptr;  // only the outermost base constructor takes it
  return c;
}

troupe::system& owner(system_core& core) noexcept { return core.owner; }
troupe::registry& registry_of(system_core& core) noexcept { return core.registry_handle; }

std::uint64_t prepare_spawn(system_core& core) {
  // Dekker with shutdown(): it sets shutting_down, then waits for spawning
  // to drain; we count ourselves in, then look at the flag.
  core.spawning.fetch_add(1, std::memory_order_seq_cst);
  if (core.shutting_down.load(std::memory_order_seq_cst)) {
    spawn_failed(core);
    throw error(errc::system_shutdown, "system::spawn: the system is shutting down");
  }
  core.spawned.fetch_add(1, std::memory_order_relaxed);
  return core.next_id.fetch_add(1, std::memory_order_relaxed);
}

void finish_spawn(system_core& core, cell* c, bool detached, bool schedule_now) noexcept {
  if (core.deterministic) {
    c->set_special_schedule();  // a test_system runs everything on its one thread
  } else if (detached) {
    c->detached = true;
    c->set_special_schedule();
  }
  c->activate(schedule_now);
  if (core.spawning.fetch_sub(1, std::memory_order_seq_cst) == 1) core.notify_quiesce();
}

void spawn_failed(system_core& core) noexcept {
  if (core.spawning.fetch_sub(1, std::memory_order_seq_cst) == 1) core.notify_quiesce();
}

timer add_timer(system_core& core, std::chrono::nanoseconds delay, std::chrono::nanoseconds period,
                unique_function<bool()> fire, std::shared_ptr<timer_state> state) {
  return core.timers.add(delay, period, std::move(fire), false, std::move(state));
}

timer add_internal_timer(system_core& core, std::chrono::nanoseconds delay,
                         unique_function<bool()> fire) {
  return core.timers.add(delay, std::chrono::nanoseconds{0}, std::move(fire), true);
}

// ---- system_core --------------------------------------------------------------

system_core::system_core(troupe::system& o, const system_config& cfg, bool manual, std::uint64_t s)
    : owner(o),
      deterministic(manual),
      // A test_system handles one message per activation, so its seeded
      // choice of the next actor decides the order of every message.
      throughput(manual ? 1 : (cfg.throughput == 0 ? 1 : cfg.throughput)),
      time_handlers(cfg.time_handlers),
      log(detail::logger()),
      sched(manual ? 1U
                   : (cfg.workers != 0 ? cfg.workers
                                       : std::max(1U, std::thread::hardware_concurrency()))),
      timers(manual),
      registry_handle(*this),
      det(manual ? std::make_unique<det_mode>(s) : nullptr) {}

system_core::~system_core() {
  // Names of actors that terminated are gone; drop any left.
  {
    std::unordered_map<std::string, name_table::entry> left;
    {
      lock_guard lk(names.mu);
      left.swap(names.names);
    }
    for (auto& [n, e] : left) e.c->release();
  }
  // Refs may outlive the system: their cells stay allocated, with the
  // back-pointer cleared so sends to them are dropped without touching us.
  // A cell whose last ref is being dropped right now (free_cell took its
  // back-pointer first) unlinks itself under the shard lock: wait for it,
  // with the lock released, before the shards go.
  for (auto& s : shards) {
    for (;;) {
      {
        lock_guard lk(s.mu);
        for (cell* c = s.head; c != nullptr;) {
          // Read before detach_core: once it succeeds, the cell's owner may
          // free it at once (its free_cell finds the back-pointer gone).
          cell* const next = c->reg_next;
          cell* const prev = c->reg_prev;
          if (c->detach_core()) {
            if (prev != nullptr) {
              prev->reg_next = next;
            } else {
              s.head = next;
            }
            if (next != nullptr) next->reg_prev = prev;
          }
          c = next;
        }
        if (s.head == nullptr) break;
      }
      std::this_thread::yield();
    }
  }
}

std::size_t system_core::shard_for_spawn() const noexcept {
  if (worker* w = sched.current()) return w->index % kShards;
  return std::hash<std::thread::id>{}(std::this_thread::get_id()) % kShards;
}

std::int64_t system_core::live() const noexcept {
  std::int64_t n = 0;
  for (const auto& s : shards) n += s.live.load(std::memory_order_acquire);
  return n;
}

void system_core::link(cell* c) noexcept {
  const std::size_t i = shard_for_spawn();
  c->shard = static_cast<std::uint32_t>(i);
  auto& s = shards[i];
  bool stop_now = false;
  {
    lock_guard lk(s.mu);
    c->reg_prev = nullptr;
    c->reg_next = s.head;
    if (s.head != nullptr) s.head->reg_prev = c;
    s.head = c;
    s.live.fetch_add(1, std::memory_order_relaxed);
    // Shutdown visits shards under their locks after setting the flag, so
    // an actor linked after the visit sees the flag here and stops itself.
    stop_now = shutting_down.load(std::memory_order_acquire);
  }
  if (stop_now) {
    // A supervised child is its supervisor's to stop (the supervisor, being
    // stopped, terminates the children it adopts from now on).
    const cell_ext* e = c->ext();
    if (e == nullptr || e->child == nullptr) c->request_shutdown_stop();
  }
}

void system_core::unlink(cell* c) noexcept {
  auto& s = shards[c->shard];
  lock_guard lk(s.mu);
  if (c->reg_prev != nullptr) {
    c->reg_prev->reg_next = c->reg_next;
  } else {
    s.head = c->reg_next;
  }
  if (c->reg_next != nullptr) c->reg_next->reg_prev = c->reg_prev;
}

void system_core::on_terminated(cell& c, const exit_reason& why) noexcept {
  log->debug("actor {}#{} terminated: {}", c.type_name(), c.id(), why.to_string());
  const auto left = shards[c.shard].live.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (left <= 0) notify_quiesce();
}

void system_core::on_incarnation_end(cell& c, const exit_reason& why) noexcept {
  log->debug("actor {}#{} incarnation ended: {}; its supervisor decides", c.type_name(), c.id(),
             why.to_string());
}

void system_core::actor_failed(cell& c, const std::string& what, const message* crashed) noexcept {
  failures.fetch_add(1, std::memory_order_relaxed);
  if (crashed != nullptr) {
    dead_letters.fetch_add(1, std::memory_order_relaxed);
    dead_by_reason[static_cast<std::size_t>(dead_reason::crashed)].fetch_add(
        1, std::memory_order_relaxed);
    log->error("actor {}#{} failed handling {}: {} (that message is a dead letter)", c.type_name(),
               c.id(), crashed->type_name(), what);
  } else {
    log->error("actor {}#{} failed: {}", c.type_name(), c.id(), what);
  }
}

void system_core::notify_quiesce() noexcept {
  if (!shutting_down.load(std::memory_order_acquire)) return;
  { std::lock_guard lk(quiesce_mu); }
  quiesce_cv.notify_all();
}

void system_core::count_dead_letters(const cell& c, std::uint64_t n, dead_reason why,
                                     const message* sample) noexcept {
  dead_letters.fetch_add(n, std::memory_order_relaxed);
  dead_by_reason[static_cast<std::size_t>(why)].fetch_add(n, std::memory_order_relaxed);
  static constexpr const char* kWhy[] = {"actor dead", "mailbox full", "dropped", "crashed"};
  if (trace::on()) [[unlikely]] {
    try {
      std::string text = std::string(kWhy[static_cast<std::size_t>(why)]) + ": " +
                         std::to_string(n) +
                         (sample != nullptr ? std::string(" ") + sample->type_name() : "");
      trace::instant("dead letter", c.type_name(), c.id(), text);
    } catch (...) {  // out of memory for the text: no event
    }
  }
  // A sample, at most one line per second.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  auto last = last_dead_letter_log.load(std::memory_order_relaxed);
  if (now != last && last_dead_letter_log.compare_exchange_strong(last, now)) {
    log->info("dead letter ({}): {} message(s){}{} to actor {}#{} ({} in total)",
              kWhy[static_cast<std::size_t>(why)], n, sample != nullptr ? " of type " : "",
              sample != nullptr ? sample->type_name() : "", c.type_name(), c.id(),
              dead_letters.load(std::memory_order_relaxed));
  }
}

void system_core::schedule(job* j, bool fair) noexcept {
  if (det) [[unlikely]] {
    det->push(j);
    return;
  }
  if (fair) {
    sched.schedule_fair(j);
  } else {
    sched.schedule(j);
  }
}

std::chrono::steady_clock::time_point system_core::now() const noexcept {
  if (!deterministic) return std::chrono::steady_clock::now();
  try {
    return timers.now();
  } catch (...) {
    return std::chrono::steady_clock::time_point{};
  }
}

namespace {
// The system whose detached actor runs on this thread (shutdown() there
// would wait for that very actor).
thread_local const system_core* tl_detached_core = nullptr;
}  // namespace

void system_core::start_detached(cell* c) {
  join_finished_threads();
  auto* r = new detached_runner;
  c->ensure_ext()->runner = r;
  c->add_ref();  // the runner's
  detached_running.fetch_add(1, std::memory_order_relaxed);
  auto ready = std::make_shared<std::binary_semaphore>(0);
  r->thread = std::thread([this, c, r, ready] {
    tl_detached_core = this;
    try {
      trace::name_thread(std::string("detached ") + c->type_name() + "#" + std::to_string(c->id()));
    } catch (...) {  // out of memory: the track is "thread N"
    }
    ready->acquire();  // r->thread is assigned
    for (;;) {
      r->wake.acquire();
      c->run_job();
      if (c->terminated()) break;
    }
    c->release();
    std::thread self = std::move(r->thread);
    delete r;
    {
      lock_guard lk(detached_mu);
      finished_threads.push_back(std::move(self));
      detached_running.fetch_sub(1, std::memory_order_relaxed);
    }
    notify_quiesce();
  });
  ready->release();
}

void system_core::join_finished_threads() {
  std::vector<std::thread> done;
  {
    lock_guard lk(detached_mu);
    done.swap(finished_threads);
  }
  for (auto& t : done) t.join();
}

}  // namespace detail

// ---- public types -------------------------------------------------------------

std::string exit_reason::to_string() const {
  switch (code) {
    case kind::normal:
      return "normal";
    case kind::killed:
      return "killed";
    case kind::shutdown:
      return "shutdown";
    case kind::exception:
      return "exception: " + what;
    case kind::peer_lost:
      return "peer lost: " + what;
    case kind::linked:
      return "linked: " + what;
    case kind::restart_limit:
      return "restart limit: " + what;
  }
  return "unknown";
}

std::string shutdown_report::to_string() const {
  return "stopped " + std::to_string(actors_stopped) + " actor(s), " + std::to_string(undelivered) +
         " undelivered message(s), " + std::to_string(timers_cancelled) + " timer(s) cancelled";
}

namespace detail {

namespace {
std::atomic<system_start_check> g_start_check{nullptr};
}  // namespace

void set_system_start_check(system_start_check check) noexcept {
  g_start_check.store(check, std::memory_order_release);
}

void run_system_start_check() {
  if (system_start_check check = g_start_check.load(std::memory_order_acquire)) check();
}

}  // namespace detail

system::system(system_config cfg)
    : core_((detail::run_system_start_check(), new detail::system_core(*this, cfg))) {
  detail::trace::start_from_env(core_);
  core_->sched.start();
  core_->log->debug("system started with {} worker(s)", core_->sched.size());
}

system::system(detail::deterministic_t mode, system_config cfg)
    : core_((detail::run_system_start_check(),
             new detail::system_core(*this, cfg, true, mode.seed))) {
  core_->log->debug("deterministic system started (seed {})", mode.seed);
}

system::~system() {
  try {
    shutdown(shutdown_mode::drain);
  } catch (...) {
    // Inside one of its own actors (see shutdown()): it cannot wait for
    // itself, and a destructor cannot report it.
    try {
      core_->log->critical("~system: {}", detail::describe_current_exception());
    } catch (...) {
    }
    std::terminate();
  }
  delete core_;
}

void system::throw_bad_period() {
  throw error(errc::invalid_argument, "system::send_every: the period must be positive");
}

unsigned system::workers() const noexcept { return core_->deterministic ? 0 : core_->sched.size(); }

system_stats system::stats() const {
  system_stats s;
  const auto live = core_->live();
  s.live_actors = live > 0 ? static_cast<std::size_t>(live) : 0;
  s.spawned = core_->spawned.load(std::memory_order_relaxed);
  s.messages_processed = core_->sched.processed();
  s.dead_letters = core_->dead_letters.load(std::memory_order_relaxed);
  auto reason = [&](detail::dead_reason r) {
    return core_->dead_by_reason[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
  };
  s.dead_letters_by_reason.actor_dead = reason(detail::dead_reason::actor_dead);
  s.dead_letters_by_reason.mailbox_full = reason(detail::dead_reason::mailbox_full);
  s.dead_letters_by_reason.dropped = reason(detail::dead_reason::dropped);
  s.dead_letters_by_reason.crashed = reason(detail::dead_reason::crashed);
  s.actor_failures = core_->failures.load(std::memory_order_relaxed);
  s.restarts = core_->restarts.load(std::memory_order_relaxed);
  return s;
}

void system::trace_start(const std::string& path, trace_options opts) {
  detail::trace::start(path, opts, core_);
}

trace_summary system::trace_stop() { return detail::trace::stop(); }

shutdown_report system::shutdown(shutdown_mode mode) {
  auto& c = *core_;
  if (c.sched.current() != nullptr || detail::tl_detached_core == &c) {
    throw error(errc::would_block_worker,
                "system::shutdown: called from an actor of this system (it would wait for itself)");
  }
  detail::lock_guard guard(c.shutdown_mu);
  if (c.shut_down) return c.report;
  const auto dead_before = c.dead_letters.load(std::memory_order_relaxed);
  const auto alive = c.live();
  c.shutting_down.store(true, std::memory_order_seq_cst);
  // User timers stop now; internal ones (supervisors' stop timeouts) keep
  // firing until every actor has stopped.
  c.report.timers_cancelled = c.timers.cancel_user();
  // Root tasks stop first, while the actors they may await still run.
  detail::stop_root_tasks(c);
  for (auto& s : c.shards) {
    detail::lock_guard lk(s.mu);
    for (detail::cell* x = s.head; x != nullptr; x = x->reg_next) {
      if (x->terminated()) continue;
      if (mode == shutdown_mode::now) {
        x->request_kill();
      } else if (detail::cell_ext* e = x->ext(); e == nullptr || e->child == nullptr) {
        // A supervised child is stopped by its supervisor, in reverse start
        // order, when the supervisor itself is asked to stop.
        x->request_shutdown_stop();
      }
    }
  }
  if (c.deterministic) {
    // One thread: run the system (and its virtual clock) until it is empty.
    for (;;) {
      while (c.det->step()) {
      }
      if (c.live() <= 0 && c.spawning.load(std::memory_order_seq_cst) == 0) break;
      const auto next = c.timers.next_deadline();
      if (!next) {
        c.log->warn("shutdown: {} actor(s) cannot stop (nothing runnable, no timer pending)",
                    c.live());
        break;
      }
      c.timers.fire_due(*next);
    }
  } else {
    std::unique_lock lk(c.quiesce_mu);
    while (c.live() > 0 || c.spawning.load(std::memory_order_seq_cst) != 0 ||
           c.detached_running.load(std::memory_order_relaxed) != 0) {
      if (c.quiesce_cv.wait_for(lk, std::chrono::seconds(5)) == std::cv_status::timeout) {
        c.log->warn("shutdown: still waiting for {} actor(s) to stop", c.live());
      }
    }
  }
  c.tasks->mark_gone();  // a late resume of a suspended root no longer reaches the pool
  c.timers.stop();
  c.sched.stop();
  c.join_finished_threads();
  c.report.actors_stopped = alive > 0 ? static_cast<std::size_t>(alive) : 0;
  c.report.undelivered = c.dead_letters.load(std::memory_order_relaxed) - dead_before;
  c.shut_down = true;
  // A trace this system started ends with it (every exit is recorded).
  detail::trace::stop_if_owner(&c);
  if (c.report.clean()) {
    c.log->debug("shutdown: {}", c.report.to_string());
  } else {
    c.log->info("shutdown: {}", c.report.to_string());
  }
  return c.report;
}

}  // namespace troupe
