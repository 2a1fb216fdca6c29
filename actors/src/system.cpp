#include "troupe/actors/system.hpp"

#include <cxxabi.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "internal/core.hpp"
#include "internal/log.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"

namespace troupe {

// ---- small helpers declared in public headers ------------------------------

namespace detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                             std::free);
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
  throw error(errc::future_retrieved, std::string(op) + ": no state (empty, moved-from or already retrieved)");
}

void throw_would_block(const char* op) {
  throw error(errc::would_block_worker,
              std::string(op) +
                  ": would block a pool worker thread (use then(), when_ready() or co_await)");
}

void throw_timeout(const char* op, std::chrono::nanoseconds d) {
  const auto ms = std::chrono::duration<double, std::milli>(d).count();
  throw error(errc::timeout, std::string(op) + ": no result within " + std::to_string(ms) + " ms");
}

void throw_empty_ref(const char* op) {
  throw error(errc::invalid_argument, std::string(op) + ": empty ref (default-constructed or moved-from)");
}

void schedule(system_core& core, job* j) noexcept { core.sched.schedule(j); }
void schedule_fair(system_core& core, job* j) noexcept { core.sched.schedule_fair(j); }

namespace {
thread_local cell* tl_constructing = nullptr;
}

construct_scope::construct_scope(cell* c) noexcept : saved_(tl_constructing) { tl_constructing = c; }
construct_scope::~construct_scope() { tl_constructing = saved_; }
cell* construct_scope::current() noexcept {
  cell* c = tl_constructing;
  tl_constructing = nullptr;  // only the outermost base constructor takes it
  return c;
}

troupe::system& owner(system_core& core) noexcept { return core.owner; }

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
  c->detached = detached;
  c->activate(schedule_now);
  if (core.spawning.fetch_sub(1, std::memory_order_seq_cst) == 1) core.notify_quiesce();
}

void spawn_failed(system_core& core) noexcept {
  if (core.spawning.fetch_sub(1, std::memory_order_seq_cst) == 1) core.notify_quiesce();
}

timer add_timer(system_core& core, std::chrono::nanoseconds delay, std::chrono::nanoseconds period,
                unique_function<bool()> fire) {
  return core.timers.add(delay, period, std::move(fire));
}

// ---- system_core --------------------------------------------------------------

system_core::system_core(troupe::system& o, const system_config& cfg)
    : owner(o),
      throughput(cfg.throughput == 0 ? 1 : cfg.throughput),
      log(detail::logger()),
      sched(cfg.workers != 0 ? cfg.workers : std::max(1U, std::thread::hardware_concurrency())) {}

system_core::~system_core() {
  // Refs may outlive the system: their cells stay allocated, with the
  // back-pointer cleared so sends to them are dropped without touching us.
  for (auto& s : shards) {
    std::lock_guard lk(s.mu);
    for (cell* c = s.head; c != nullptr; c = c->reg_next) c->detach_core();
    s.head = nullptr;
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
    std::lock_guard lk(s.mu);
    c->reg_prev = nullptr;
    c->reg_next = s.head;
    if (s.head != nullptr) s.head->reg_prev = c;
    s.head = c;
    s.live.fetch_add(1, std::memory_order_relaxed);
    // Shutdown visits shards under their locks after setting the flag, so
    // an actor linked after the visit sees the flag here and stops itself.
    stop_now = shutting_down.load(std::memory_order_acquire);
  }
  if (stop_now) c->request_shutdown_stop();
}

void system_core::unlink(cell* c) noexcept {
  auto& s = shards[c->shard];
  std::lock_guard lk(s.mu);
  if (c->reg_prev != nullptr) {
    c->reg_prev->reg_next = c->reg_next;
  } else {
    s.head = c->reg_next;
  }
  if (c->reg_next != nullptr) c->reg_next->reg_prev = c->reg_prev;
}

void system_core::on_terminated(cell& c, const exit_reason& why) noexcept {
  if (why.code == exit_reason::kind::exception) {
    failures.fetch_add(1, std::memory_order_relaxed);
    log->error("actor {}#{} failed: {}", c.type_name(), c.id(), why.what);
  } else {
    log->debug("actor {}#{} terminated: {}", c.type_name(), c.id(), why.to_string());
  }
  const auto left = shards[c.shard].live.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (left <= 0) notify_quiesce();
}

void system_core::notify_quiesce() noexcept {
  if (!shutting_down.load(std::memory_order_acquire)) return;
  { std::lock_guard lk(quiesce_mu); }
  quiesce_cv.notify_all();
}

void system_core::count_dead_letters(const cell& c, std::uint64_t n) noexcept {
  dead_letters.fetch_add(n, std::memory_order_relaxed);
  // A sample, at most one line per second.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  auto last = last_dead_letter_log.load(std::memory_order_relaxed);
  if (now != last && last_dead_letter_log.compare_exchange_strong(last, now)) {
    log->debug("dead letter: {} message(s) to terminated actor {}#{} ({} in total)", n,
               c.type_name(), c.id(), dead_letters.load(std::memory_order_relaxed));
  }
}

void system_core::start_detached(cell* c, bool schedule_now) {
  join_finished_threads();
  auto* r = new detached_runner;
  c->set_detached_runner(r);
  c->add_ref();  // the runner's
  detached_running.fetch_add(1, std::memory_order_relaxed);
  auto ready = std::make_shared<std::binary_semaphore>(0);
  r->thread = std::thread([this, c, r, ready] {
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
      std::lock_guard lk(detached_mu);
      finished_threads.push_back(std::move(self));
      detached_running.fetch_sub(1, std::memory_order_relaxed);
    }
    notify_quiesce();
  });
  ready->release();
  if (schedule_now) r->wake.release();
}

void system_core::join_finished_threads() {
  std::vector<std::thread> done;
  {
    std::lock_guard lk(detached_mu);
    done.swap(finished_threads);
  }
  for (auto& t : done) t.join();
}

}  // namespace detail

// ---- public types -------------------------------------------------------------

std::string exit_reason::to_string() const {
  switch (code) {
    case kind::normal: return "normal";
    case kind::killed: return "killed";
    case kind::shutdown: return "shutdown";
    case kind::exception: return "exception: " + what;
    case kind::peer_lost: return "peer lost: " + what;
  }
  return "unknown";
}

std::string shutdown_report::to_string() const {
  return "stopped " + std::to_string(actors_stopped) + " actor(s), " + std::to_string(undelivered) +
         " undelivered message(s), " + std::to_string(timers_cancelled) + " timer(s) cancelled";
}

system::system(system_config cfg) : core_(new detail::system_core(*this, cfg)) {
  core_->sched.start();
  core_->log->debug("system started with {} worker(s)", core_->sched.size());
}

system::~system() {
  shutdown(shutdown_mode::drain);
  delete core_;
}

void system::throw_bad_period() {
  throw error(errc::invalid_argument, "system::send_every: the period must be positive");
}

unsigned system::workers() const noexcept { return core_->sched.size(); }

system_stats system::stats() const {
  system_stats s;
  const auto live = core_->live();
  s.live_actors = live > 0 ? static_cast<std::size_t>(live) : 0;
  s.spawned = core_->spawned.load(std::memory_order_relaxed);
  s.messages_processed = core_->sched.processed();
  s.dead_letters = core_->dead_letters.load(std::memory_order_relaxed);
  s.actor_failures = core_->failures.load(std::memory_order_relaxed);
  return s;
}

shutdown_report system::shutdown(shutdown_mode mode) {
  auto& c = *core_;
  if (c.sched.current() != nullptr) {
    throw error(errc::would_block_worker,
                "system::shutdown: called from an actor of this system (it would wait for itself)");
  }
  std::lock_guard guard(c.shutdown_mu);
  if (c.shut_down) return c.report;
  const auto dead_before = c.dead_letters.load(std::memory_order_relaxed);
  const auto alive = c.live();
  c.shutting_down.store(true, std::memory_order_seq_cst);
  c.report.timers_cancelled = c.timers.stop();
  for (auto& s : c.shards) {
    std::lock_guard lk(s.mu);
    for (detail::cell* x = s.head; x != nullptr; x = x->reg_next) {
      if (x->terminated()) continue;
      if (mode == shutdown_mode::now) {
        x->request_kill();
      } else {
        x->request_shutdown_stop();
      }
    }
  }
  {
    std::unique_lock lk(c.quiesce_mu);
    while (c.live() > 0 || c.spawning.load(std::memory_order_seq_cst) != 0 ||
           c.detached_running.load(std::memory_order_relaxed) != 0) {
      if (c.quiesce_cv.wait_for(lk, std::chrono::seconds(5)) == std::cv_status::timeout) {
        c.log->warn("shutdown: still waiting for {} actor(s) to stop", c.live());
      }
    }
  }
  c.sched.stop();
  c.join_finished_threads();
  c.report.actors_stopped = alive > 0 ? static_cast<std::size_t>(alive) : 0;
  c.report.undelivered = c.dead_letters.load(std::memory_order_relaxed) - dead_before;
  c.shut_down = true;
  if (c.report.clean()) {
    c.log->debug("shutdown: {}", c.report.to_string());
  } else {
    c.log->info("shutdown: {}", c.report.to_string());
  }
  return c.report;
}

}  // namespace troupe
