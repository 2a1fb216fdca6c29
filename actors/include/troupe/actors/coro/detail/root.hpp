#pragma once
// Roots: the coroutines that start a chain of tasks and own its context.
// A root is a task started by system::go(), an actor's coroutine handler,
// or a child of when_all/when_any. Each registers with its system, which
// cancels and waits for the registered roots at shutdown.

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <utility>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/trace.hpp"

namespace troupe::detail {

class task_registry;

/// A root task's entry in its system's registry (which cancels the roots at
/// shutdown). The functions below are defined in task_registry.cpp.
struct root_link {
  root_link* prev = nullptr;
  root_link* next = nullptr;
  std::stop_source source{std::nostopstate};
  /// Shared with the system: a root left suspended at shutdown may
  /// unregister after the system is gone.
  std::shared_ptr<task_registry> registry;
  bool counted = false;  // linked into the registry (false: shutdown had begun)
};
/// Registers `link`; throws errc::system_shutdown once shutdown has begun.
void register_root(system_core& core, root_link& link);
/// As register_root, but returns false instead of throwing.
bool try_register_root(system_core& core, root_link& link) noexcept;
/// Removes `link` (no-op if it was never registered).
void unregister_root(root_link& link) noexcept;
/// False once the system of a registered root has shut down.
bool registry_alive(const root_link& link) noexcept;

/// The context of a root: a task started by go(), an actor's coroutine
/// handler, or a child of when_all/when_any.
class root_context final : public task_context {
 public:
  /// Sets the task's token and registers its one stop callback.
  void set_token(std::stop_token t) noexcept {
    token = std::move(t);
    stop_cb_.emplace(token, fire_slot{&cancel});
  }

  root_link link;
  std::coroutine_handle<> self;
  task_context* parent = nullptr;  // children: the when_all/when_any parent
  void (*on_abandon)(root_context&) noexcept = nullptr;
  void* abandon_arg = nullptr;

  void abandon() noexcept override {
    if (on_abandon != nullptr) {
      on_abandon(*this);  // may destroy this context
    } else if (self) {
      self.destroy();
    }
  }
  [[nodiscard]] bool system_alive() const noexcept override {
    if (parent != nullptr) return parent->system_alive();
    return registry_alive(link);
  }

 private:
  std::optional<std::stop_callback<fire_slot>> stop_cb_;
};

/// The coroutine type of roots: started explicitly, destroys itself at the end.
class root_task {
 public:
  class promise_type : public promise_context {
   public:
    promise_type() noexcept { ctx = &context; }
    promise_type(const promise_type&) = delete;
    promise_type& operator=(const promise_type&) = delete;
    ~promise_type() {
      unregister_root(context.link);
      if (context.actor != nullptr) context.actor->release();
    }

    root_task get_return_object() noexcept {
      context.self = std::coroutine_handle<promise_type>::from_promise(*this);
      return root_task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() { check_unawaited(); }
    void unhandled_exception() noexcept { std::terminate(); }  // root bodies catch everything

    root_context context;

    class start_job final : public job {
     public:
      explicit start_job(promise_type& p) noexcept : p_(&p) {}
      void run_job() noexcept override {
        task_scope scope(&p_->context);
        const std::uint64_t t0 = ::troupe::detail::trace::on() ? ::troupe::detail::trace::now() : 0;
        std::coroutine_handle<promise_type>::from_promise(*p_).resume();
        if (t0 != 0) ::troupe::detail::trace::slice("task start", nullptr, 0, t0, 0);
      }

     private:
      promise_type* p_;
    };
    start_job start{*this};
  };

  using handle_type = std::coroutine_handle<promise_type>;

  explicit root_task(handle_type h) noexcept : h_(h) {}
  root_task(root_task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  root_task(const root_task&) = delete;
  root_task& operator=(const root_task&) = delete;
  root_task& operator=(root_task&&) = delete;
  /// Destroys a root that was never started.
  ~root_task() {
    if (h_) h_.destroy();
  }

  [[nodiscard]] promise_type& promise() const noexcept { return h_.promise(); }
  /// Hands the frame over to the scheduler (it destroys itself when done).
  void launch() noexcept {
    auto h = std::exchange(h_, {});
    h.promise().context.resume(h.promise().start);
  }
  /// Runs the root now, on this thread, until its first suspension.
  void run_inline() noexcept {
    auto h = std::exchange(h_, {});
    task_scope scope(&h.promise().context);
    h.resume();
  }

 private:
  handle_type h_;
};

}  // namespace troupe::detail
