#pragma once
// system_core: the state behind troupe::system.

#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "internal/scheduler.hpp"
#include "internal/timers.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/system.hpp"

namespace troupe::detail {

/// Every cell not yet freed, in shards; also counts live actors.
/// A cell is linked at spawn and unlinked when its memory is freed, so
/// shutdown can reach idle actors and clear back-pointers of dead ones.
struct registry_shard {
  std::mutex mu;
  cell* head = nullptr;                 // guarded by mu
  std::atomic<std::int64_t> live{0};    // actors spawned here, not yet terminated
};

/// A dedicated thread for a detached actor.
struct detached_runner {
  std::binary_semaphore wake{0};
  std::thread thread;
};

class system_core {
 public:
  static constexpr std::size_t kShards = 16;

  system_core(troupe::system& owner, const system_config& cfg);
  ~system_core();
  system_core(const system_core&) = delete;
  system_core& operator=(const system_core&) = delete;

  troupe::system& owner;
  const unsigned throughput;
  std::shared_ptr<spdlog::logger> log;
  scheduler sched;
  timer_service timers;

  std::array<registry_shard, kShards> shards;
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::uint64_t> spawned{0};
  std::atomic<std::uint64_t> dead_letters{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<bool> shutting_down{false};
  std::atomic<std::int64_t> spawning{0};  // spawns between prepare and finish
  std::atomic<std::int64_t> last_dead_letter_log{0};  // steady-clock seconds

  // Threads of detached actors that finished, to be joined.
  std::mutex detached_mu;
  std::vector<std::thread> finished_threads;   // guarded by detached_mu
  std::atomic<std::size_t> detached_running{0};

  // Shutdown waits here for live actors to reach zero.
  std::mutex quiesce_mu;
  std::condition_variable quiesce_cv;

  bool shut_down = false;            // guarded by shutdown_mu
  shutdown_report report;            // guarded by shutdown_mu
  std::mutex shutdown_mu;

  [[nodiscard]] std::size_t shard_for_spawn() const noexcept;
  [[nodiscard]] std::int64_t live() const noexcept;
  void link(cell* c) noexcept;
  void unlink(cell* c) noexcept;
  void on_terminated(cell& c, const exit_reason& why) noexcept;
  void count_dead_letters(const cell& c, std::uint64_t n) noexcept;
  void start_detached(cell* c, bool schedule_now);
  void join_finished_threads();
  void notify_quiesce() noexcept;
};

}  // namespace troupe::detail
