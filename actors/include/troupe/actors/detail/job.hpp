#pragma once
// The unit the scheduler runs: an actor activation or a resumed coroutine.

namespace troupe::detail {

class system_core;

/// Something a worker can run. run_job() must not throw; after it returns,
/// the worker never touches the job again (the job may already be running
/// elsewhere or be freed).
class job {
 public:
  virtual void run_job() noexcept = 0;

 protected:
  job() = default;
  job(const job&) = default;
  job& operator=(const job&) = default;
  ~job() = default;
};

/// Makes `j` runnable on `core`'s pool. From a worker of that pool the job
/// goes to the worker's local queue (run next, for message locality);
/// from any other thread it goes to the shared injection queue.
/// @threadsafe
void schedule(system_core& core, job* j) noexcept;

/// As schedule(), but behind the jobs already queued locally (used when an
/// actor used up its throughput batch, so others get their turn).
/// @threadsafe
void schedule_fair(system_core& core, job* j) noexcept;

/// True on a thread of any troupe worker pool (blocking there stalls the
/// pool), or on a thread marked with refuse_blocking_here().
bool on_pool_worker() noexcept;

/// Marks the calling thread as one that must never block on a future or a
/// full mailbox (a runtime's own thread, such as the process backend's I/O
/// thread): on_pool_worker() is true there from now on.
void refuse_blocking_here() noexcept;

}  // namespace troupe::detail
