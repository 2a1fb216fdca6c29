// Runtime support for troupe::task: error texts, and resuming coroutine
// handlers inside actors. The registry of root tasks is task_registry.cpp.

#include "troupe/actors/task.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <new>
#include <string>
#include <utility>

namespace troupe::detail {

std::string what_arg(const error& e) {
  std::string w = e.what();
  const std::string suffix = ": " + e.code().message();
  if (w.size() >= suffix.size() &&
      w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0) {
    w.resize(w.size() - suffix.size());
  }
  return w;
}

void throw_unawaited() {
  const char* op = std::exchange(tl_current_task->unawaited, nullptr);
  throw error(errc::would_block_worker,
              std::string(op) + ": made in a task and never co_awaited (co_await it, or use try_)");
}

void deadline_timer::arm(system_core& core, std::chrono::steady_clock::time_point until,
                         waiter& w) {
  using clock = std::chrono::steady_clock;
  const auto delay = std::max(until - clock::now(), clock::duration::zero());
  timer_ = add_timer(core, std::chrono::ceil<std::chrono::nanoseconds>(delay),
                     std::chrono::nanoseconds{0}, [w = &w]() {
                       if (w->try_claim(0, wake_reason::timeout)) w->wake();
                       return false;
                     });
  armed_ = true;
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
