// The registry of root tasks of one system (internal/task_registry.hpp),
// and the root_link functions of troupe/actors/coro/detail/root.hpp.

#include "internal/task_registry.hpp"

#include <chrono>
#include <memory>
#include <stop_token>
#include <utility>
#include <vector>

#include "internal/core.hpp"
#include "internal/log.hpp"
#include "troupe/actors/error.hpp"

namespace troupe::detail {

namespace {
constexpr auto kStopTimeout = std::chrono::seconds(10);
}  // namespace

bool task_registry::add(root_link& link) noexcept {
  lock_guard lk(mu_);
  if (stopping_) return false;
  link.prev = nullptr;
  link.next = head_;
  if (head_ != nullptr) head_->prev = &link;
  head_ = &link;
  ++live_;
  link.counted = true;
  return true;
}

void task_registry::remove(root_link& link) noexcept {
  bool notify = false;
  {
    lock_guard lk(mu_);
    if (!link.counted) return;
    if (link.prev != nullptr) {
      link.prev->next = link.next;
    } else {
      head_ = link.next;
    }
    if (link.next != nullptr) link.next->prev = link.prev;
    link.counted = false;
    notify = --live_ == 0 && stopping_;
  }
  if (notify) cv_.notify_all();
}

std::size_t task_registry::stop_all(bool wait, std::chrono::nanoseconds timeout) {
  // The sources are copied under the lock (a copy keeps the stop state
  // alive) and stopped outside it: a stop callback may resume a root
  // inline, and a root that finishes unlinks itself, taking the lock.
  std::vector<std::stop_source> sources;
  {
    lock_guard lk(mu_);
    stopping_ = true;
    sources.reserve(live_);
    for (root_link* l = head_; l != nullptr; l = l->next) sources.push_back(l->source);
  }
  for (auto& s : sources) s.request_stop();
  unique_lock lk(mu_);
  if (wait) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (live_ != 0) {
      if (cv_.wait_until(lk.native(), until) == std::cv_status::timeout) break;
    }
  }
  return live_;
}

std::size_t task_registry::live() const {
  lock_guard lk(mu_);
  return live_;
}

void stop_root_tasks(system_core& core) {
  if (core.deterministic) {
    // One thread: the cancelled roots run here, in the run queue.
    core.tasks->stop_all(false, kStopTimeout);
    while (core.det->step()) {
    }
    return;
  }
  if (const std::size_t left = core.tasks->stop_all(true, kStopTimeout); left != 0) {
    logger()->warn(
        "shutdown: {} task(s) did not finish within {} s of cancellation; "
        "they stay suspended",
        left, kStopTimeout.count());
  }
}

// ---- root_link ---------------------------------------------------------------------

bool try_register_root(system_core& core, root_link& link) noexcept {
  link.registry = core.tasks;
  // Also refused between the start of shutdown and its stop_all(): a root
  // never starts once system::shutdown() has begun.
  if (core.shutting_down.load(std::memory_order_seq_cst)) return false;
  return link.registry->add(link);
}

void register_root(system_core& core, root_link& link) {
  if (!try_register_root(core, link)) {
    throw error(errc::system_shutdown, "system::go: the system is shutting down");
  }
}

void unregister_root(root_link& link) noexcept {
  if (!link.registry) return;
  std::shared_ptr<task_registry> reg = std::move(link.registry);
  reg->remove(link);
}

bool registry_alive(const root_link& link) noexcept {
  return link.registry && !link.registry->gone();
}

}  // namespace troupe::detail
