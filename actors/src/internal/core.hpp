#pragma once
// system_core: the state behind troupe::system.

#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "internal/det_mode.hpp"
#include "internal/scheduler.hpp"
#include "internal/task_registry.hpp"
#include "internal/timers.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/thread_annotations.hpp"
#include "troupe/actors/system.hpp"

namespace troupe::detail {

/// Every cell not yet freed, in shards; also counts live actors.
/// A cell is linked at spawn and unlinked when its memory is freed, so
/// shutdown can reach idle actors and clear back-pointers of dead ones.
struct registry_shard {
  mutex mu;
  cell* head TROUPE_GUARDED_BY(mu) = nullptr;
  std::atomic<std::int64_t> live{0};  // actors spawned here, not yet terminated
};

/// A dedicated thread for a detached actor.
struct detached_runner {
  std::binary_semaphore wake{0};
  std::thread thread;
};

/// Why a message became a dead letter.
enum class dead_reason : unsigned char { actor_dead, mailbox_full, dropped, crashed };

/// The names of system::registry(). A name maps to one cell; a cell can
/// have several names. Entries hold a reference to their cell and are
/// removed when it terminates (cell_ext::registered says it has some).
struct name_table {
  struct entry {
    cell* c;  // strong reference
  };
  mutex mu;
  std::unordered_map<std::string, entry> names TROUPE_GUARDED_BY(mu);
};

class system_core {
 public:
  static constexpr std::size_t kShards = 16;

  system_core(troupe::system& owner, const system_config& cfg, bool deterministic = false,
              std::uint64_t seed = 0);
  ~system_core();
  system_core(const system_core&) = delete;
  system_core& operator=(const system_core&) = delete;

  troupe::system& owner;
  const bool deterministic;  // a test_system: no threads, virtual time
  const unsigned throughput;
  // Handler batches are timed (actor_info::busy): from the start with
  // system_config::time_handlers, else from the first system::actors().
  std::atomic<bool> time_handlers;
  std::shared_ptr<spdlog::logger> log;
  scheduler sched;
  timer_service timers;

  std::array<registry_shard, kShards> shards;
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::uint64_t> next_monitor_id{1};
  std::atomic<std::uint64_t> spawned{0};
  std::atomic<std::uint64_t> dead_letters{0};  // all reasons
  std::array<std::atomic<std::uint64_t>, 4> dead_by_reason{};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> restarts{0};
  std::atomic<bool> shutting_down{false};
  std::atomic<std::int64_t> spawning{0};              // spawns between prepare and finish
  std::atomic<std::int64_t> last_dead_letter_log{0};  // steady-clock seconds

  // Threads of detached actors that finished, to be joined.
  mutex detached_mu;
  std::vector<std::thread> finished_threads TROUPE_GUARDED_BY(detached_mu);
  std::atomic<std::size_t> detached_running{0};

  // Shutdown waits here for live actors to reach zero.
  std::mutex quiesce_mu;
  std::condition_variable quiesce_cv;

  mutex shutdown_mu;
  bool shut_down TROUPE_GUARDED_BY(shutdown_mu) = false;
  shutdown_report report TROUPE_GUARDED_BY(shutdown_mu);

  // Root tasks, cancelled and waited for at shutdown (stop_root_tasks).
  // Shared with their links: a root left suspended may unregister late.
  std::shared_ptr<task_registry> tasks = std::make_shared<task_registry>();

  name_table names;
  troupe::registry registry_handle;

  // A test_system's deterministic mode; null otherwise.
  const std::unique_ptr<det_mode> det;

  [[nodiscard]] std::size_t shard_for_spawn() const noexcept;
  [[nodiscard]] std::int64_t live() const noexcept;
  void link(cell* c) noexcept;
  void unlink(cell* c) noexcept;
  void on_terminated(cell& c, const exit_reason& why) noexcept;
  /// An incarnation of a supervised actor ended; it stays live.
  void on_incarnation_end(cell& c, const exit_reason& why) noexcept;
  /// A handler, hook or constructor threw: counts and logs the failure;
  /// `crashed` is the message being handled (a dead letter), if any.
  void actor_failed(cell& c, const std::string& what, const message* crashed) noexcept;
  void count_dead_letters(const cell& c, std::uint64_t n, dead_reason why = dead_reason::actor_dead,
                          const message* sample = nullptr) noexcept;
  /// Gives `c` its thread, which waits until `c` is scheduled.
  void start_detached(cell* c);
  void join_finished_threads();
  void notify_quiesce() noexcept;

  /// Makes `j` runnable: on the pool, or in the deterministic run queue.
  void schedule(job* j, bool fair) noexcept;
  /// The clock supervisors use (virtual in a test_system).
  [[nodiscard]] std::chrono::steady_clock::time_point now() const noexcept;

  /// `c` terminated (its mailbox is closed): removes its registry names, if
  /// it has any (registry.cpp).
  void forget_names_of(cell& c, cell_ext& e) noexcept;
};

}  // namespace troupe::detail
