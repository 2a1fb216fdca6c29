#pragma once
// task_registry: the root tasks of one system (system::go(), coroutine
// handlers), owned by its system_core. System shutdown cancels every
// registered root and waits for them while the pool still runs, before it
// stops the actors (stop_all()); registrations after that are refused.
//
// The roots' links share ownership (root_link::registry): a root that was
// left suspended at shutdown may unregister after the system is gone.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>

#include "troupe/actors/coro/detail/root.hpp"
#include "troupe/actors/detail/thread_annotations.hpp"

namespace troupe::detail {

class task_registry {
 public:
  task_registry() = default;
  task_registry(const task_registry&) = delete;
  task_registry& operator=(const task_registry&) = delete;

  /// Links `link`; false (and not linked) once stop_all() has begun.
  /// @threadsafe
  bool add(root_link& link) noexcept;
  /// Unlinks `link` (a no-op if add() refused it). @threadsafe
  void remove(root_link& link) noexcept;

  /// Refuses every later add(), requests stop on every linked root, and
  /// waits up to `timeout` for all of them to unlink (no wait if `wait` is
  /// false: a test_system runs them on the calling thread). Returns how
  /// many are still linked.
  std::size_t stop_all(bool wait, std::chrono::nanoseconds timeout);
  /// The roots still linked.
  [[nodiscard]] std::size_t live() const;

  /// The system has shut down: late resumes of suspended roots are dropped.
  void mark_gone() noexcept { gone_.store(true, std::memory_order_release); }
  [[nodiscard]] bool gone() const noexcept { return gone_.load(std::memory_order_acquire); }

 private:
  mutable mutex mu_;
  std::condition_variable cv_;
  // The links' prev/next are guarded by mu_ too (not expressible).
  root_link* head_ TROUPE_GUARDED_BY(mu_) = nullptr;
  std::size_t live_ TROUPE_GUARDED_BY(mu_) = 0;
  bool stopping_ TROUPE_GUARDED_BY(mu_) = false;
  std::atomic<bool> gone_{false};
};

class system_core;

/// From system::shutdown(), before it stops the actors: cancels the roots
/// of `core` and waits for them (up to 10 s, then they stay suspended and
/// a warning is logged).
void stop_root_tasks(system_core& core);

}  // namespace troupe::detail
