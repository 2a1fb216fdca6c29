#pragma once
// The work-stealing worker pool.
//
// Each worker has a local FIFO ring (runq), a one-job `next` slot, and steals
// from the others when idle; jobs from outside the pool go to a shared
// moodycamel queue. A job scheduled by a worker goes to its `next` slot, so
// a message exchange between two actors stays on one core (the previous
// `next` moves to the ring, where thieves can take it).
//
// Idle workers spin briefly (bounded) looking for work, then park on a
// semaphore. A producer wakes a parked worker only when no worker is
// spinning; a spinner that finds work wakes another if it was the last
// spinner, so parallelism ramps up as work appears. The park/notify
// handshake is a Dekker pattern: the parker publishes itself idle then
// rechecks the queues; the producer publishes work then checks for idle
// workers; seq_cst fences on both sides guarantee one of them sees the other.

#include <atomic>
#include <cstdint>
#include <memory>
#include <semaphore>
#include <thread>
#include <vector>

#include "internal/queue.hpp"
#include "internal/runq.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/thread_annotations.hpp"

namespace troupe::detail {

class scheduler;

struct alignas(64) worker {
  scheduler* owner = nullptr;
  unsigned index = 0;
  runq local;
  std::atomic<job*> next{nullptr};
  std::atomic<std::uint64_t> ticks{0};      // jobs run; thieves read it to see progress
  std::atomic<std::uint64_t> processed{0};  // messages handled (written by owner only)
  std::binary_semaphore wake{0};
  bool spinning = false;                       // owner only
  unsigned next_streak = 0;                    // owner only
  std::uint64_t rng = 0;                       // owner only
  moodycamel::ConsumerToken* token = nullptr;  // owner only
  std::thread thread;
};

class scheduler {
 public:
  explicit scheduler(unsigned workers);
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  void start();
  /// Wakes and joins all workers; jobs still queued are not run.
  void stop();

  void schedule(job* j) noexcept;
  void schedule_fair(job* j) noexcept;

  [[nodiscard]] unsigned size() const noexcept { return static_cast<unsigned>(workers_.size()); }
  [[nodiscard]] std::uint64_t processed() const noexcept;
  /// The worker running on this thread if it belongs to this pool, else null.
  [[nodiscard]] worker* current() const noexcept;

  /// Adds `n` to the handled-message count of the current thread's worker
  /// (or to a shared counter off the pool).
  void count_processed(std::uint64_t n) noexcept;

 private:
  void run(worker& w);
  job* find_work(worker& w);
  job* local_work(worker& w);
  job* steal(worker& w, bool take_next);
  bool park(worker& w);  // false when stopping
  void notify() noexcept;
  void wake_one() noexcept;
  void push_global(job* j) noexcept;
  void push_local(worker& w, job* j) noexcept;
  [[nodiscard]] bool work_visible() const noexcept;

  std::vector<std::unique_ptr<worker>> workers_;
  moodycamel::ConcurrentQueue<job*> global_;
  std::atomic<int> spinning_{0};
  std::atomic<int> idle_{0};
  mutex idle_mu_;
  std::vector<worker*> idle_list_ TROUPE_GUARDED_BY(idle_mu_);
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> offpool_processed_{0};
};

}  // namespace troupe::detail
