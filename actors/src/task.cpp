// Runtime support for troupe::task: the per-system registry of root tasks
// (cancelled at shutdown), and resuming coroutine handlers inside actors.

#include "troupe/actors/task.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

#include "internal/log.hpp"
#include "troupe/actors/actor.hpp"

namespace troupe::detail {

std::string what_arg(const error& e) {
  std::string w = e.what();
  const std::string suffix = ": " + e.code().message();
  if (w.size() >= suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0) {
    w.resize(w.size() - suffix.size());
  }
  return w;
}

void throw_unawaited() {
  const char* op = std::exchange(tl_current_task->unawaited, nullptr);
  throw error(errc::would_block_worker,
              std::string(op) + ": made in a task and never co_awaited (co_await it, or use try_)");
}

// ---- the registry of root tasks -------------------------------------------------
//
// One per system, created with the system's first root task. A hidden
// detached actor (the reaper) owns it: system shutdown stops every actor, so
// the reaper's on_stop runs, cancels every registered root, and waits (on
// its own thread, up to kReapTimeout) until they have all finished, while
// the pool still runs. Registrations after that throw system_shutdown.

class task_registry {
 public:
  std::mutex mu;
  std::condition_variable cv;
  root_link* head = nullptr;    // guarded by mu
  std::size_t live = 0;         // guarded by mu
  bool stopping = false;        // guarded by mu
  std::atomic<bool> gone{false};  // the reaper (so the system) has shut down
};

namespace {

constexpr auto kReapTimeout = std::chrono::seconds(10);

std::mutex g_mu;
// Systems with a live reaper. Guarded by g_mu.
std::unordered_map<const system_core*, std::shared_ptr<task_registry>> g_registries;

class task_reaper final : public actor<task_reaper> {
 public:
  task_reaper(std::shared_ptr<task_registry> r, const system_core* core)
      : reg_(std::move(r)), core_(core) {}
  task_reaper(const task_reaper&) = delete;
  task_reaper& operator=(const task_reaper&) = delete;
  ~task_reaper() {
    {
      std::lock_guard lk(g_mu);
      auto it = g_registries.find(core_);
      if (it != g_registries.end() && it->second == reg_) g_registries.erase(it);
    }
    reg_->gone.store(true, std::memory_order_release);
  }

  void on_stop() {
    std::vector<std::stop_source> sources;
    {
      std::lock_guard lk(reg_->mu);
      reg_->stopping = true;
      for (root_link* l = reg_->head; l != nullptr; l = l->next) sources.push_back(l->source);
    }
    for (auto& s : sources) s.request_stop();
    std::unique_lock lk(reg_->mu);
    if (!reg_->cv.wait_for(lk, kReapTimeout, [this] { return reg_->live == 0; })) {
      logger()->warn("shutdown: {} task(s) did not finish within {} s of cancellation; "
                     "they stay suspended",
                     reg_->live, kReapTimeout.count());
    }
  }

 private:
  std::shared_ptr<task_registry> reg_;
  const system_core* core_;
};

std::shared_ptr<task_registry> registry_for(system_core& core) {
  std::lock_guard lk(g_mu);
  auto it = g_registries.find(&core);
  if (it != g_registries.end() && !it->second->gone.load(std::memory_order_acquire)) {
    return it->second;
  }
  auto reg = std::make_shared<task_registry>();
  // Throws errc::system_shutdown once shutdown has begun.
  owner(core).spawn<task_reaper>(troupe::detached, reg, &core);
  g_registries[&core] = reg;
  return reg;
}

}  // namespace

void register_root(system_core& core, root_link& link) {
  auto reg = registry_for(core);
  {
    std::lock_guard lk(reg->mu);
    if (reg->stopping) {
      link.registry = std::move(reg);
      throw error(errc::system_shutdown, "system::go: the system is shutting down");
    }
    link.prev = nullptr;
    link.next = reg->head;
    if (reg->head != nullptr) reg->head->prev = &link;
    reg->head = &link;
    ++reg->live;
    link.counted = true;
  }
  link.registry = std::move(reg);
}

bool try_register_root(system_core& core, root_link& link) noexcept {
  try {
    register_root(core, link);
    return true;
  } catch (...) {
    return false;
  }
}

void unregister_root(root_link& link) noexcept {
  if (!link.registry) return;
  std::shared_ptr<task_registry> reg = std::move(link.registry);
  if (!link.counted) return;
  bool notify = false;
  {
    std::lock_guard lk(reg->mu);
    if (link.prev != nullptr) {
      link.prev->next = link.next;
    } else {
      reg->head = link.next;
    }
    if (link.next != nullptr) link.next->prev = link.prev;
    link.counted = false;
    notify = --reg->live == 0 && reg->stopping;
  }
  if (notify) reg->cv.notify_all();
}

bool registry_alive(const root_link& link) noexcept {
  return link.registry && !link.registry->gone.load(std::memory_order_acquire);
}

// ---- coroutine handlers: resuming inside the actor ----------------------------------

namespace {

// The actor terminated before a resume could run: destroys the suspended
// coroutine on a pool worker (not on the thread of the wake-up, which may be
// the timer thread holding a timer's lock, or a channel operation).
class abandon_job final : public job {
 public:
  explicit abandon_job(task_context* ctx) noexcept : ctx_(ctx) {}
  void run_job() noexcept override {
    ctx_->abandon();
    delete this;
  }

 private:
  task_context* ctx_;
};

class resume_node final : public message {
 public:
  // A notice: a bounded mailbox neither counts nor evicts it (a lost resume
  // would leave the coroutine suspended forever).
  resume_node(task_context* ctx, job* j) noexcept : message(kind::notice), ctx_(ctx), job_(j) {}

  void run(cell& c) override {
    if (c.incarnation() != ctx_->incarnation) {
      // A supervisor restarted the actor while the handler was suspended:
      // the frame belongs to the old object. Destroy it (its ask fails).
      ctx_->abandon();
      return;
    }
    job_->run_job();
    if (tl_actor_handler_failure) {
      std::exception_ptr e = std::move(tl_actor_handler_failure);
      tl_actor_handler_failure = nullptr;
      std::rethrow_exception(std::move(e));  // the actor fails, as for a plain handler
    }
  }

  void reject(const exit_reason& /*why*/, const char* /*actor_type*/) noexcept override {
    // After shutdown the pool is gone: the coroutine stays suspended (leaked).
    if (!ctx_->system_alive()) return;
    auto* j = new (std::nothrow) abandon_job(ctx_);
    if (j != nullptr) schedule(*ctx_->core, j);
  }

 private:
  task_context* ctx_;
  job* job_;
};

}  // namespace

void resume_in_actor(task_context& ctx, job& j) noexcept {
  auto* n = new (std::nothrow) resume_node(&ctx, &j);
  if (n == nullptr) std::terminate();  // a lost resume would hang the task silently
  ctx.actor->enqueue(n);
}

}  // namespace troupe::detail
