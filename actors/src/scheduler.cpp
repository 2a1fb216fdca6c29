#include "internal/scheduler.hpp"

#include <algorithm>
#include <chrono>

#include "troupe/actors/detail/cpu_relax.hpp"
#include "troupe/actors/detail/trace.hpp"

namespace troupe::detail {
namespace {

thread_local worker* tl_worker = nullptr;

// Spinning: rounds of steal attempts before parking, with a short pause
// between rounds. Bounded: an idle pool parks within a few tens of µs.
constexpr int kSpinRounds = 16;
constexpr int kPausesPerRound = 64;
// A thief takes another worker's `next` job only if that worker ran no job
// for this long (it is stuck in a long handler), so message ping-pong
// between two actors is not torn across cores.
constexpr auto kNextStealDelay = std::chrono::microseconds(5);
// After this many jobs in a row taken from `next`, the worker serves its
// ring first, so a ping-pong pair cannot starve the other actors queued there.
constexpr unsigned kMaxNextStreak = 32;
// Every this many jobs the worker looks at the global queue first.
constexpr std::uint64_t kGlobalCheckInterval = 61;

std::uint64_t xorshift(std::uint64_t& s) noexcept {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

// A thread that must not block (marked by refuse_blocking_here).
thread_local bool tl_refuse_blocking = false;

}  // namespace

bool on_pool_worker() noexcept { return tl_worker != nullptr || tl_refuse_blocking; }
void refuse_blocking_here() noexcept { tl_refuse_blocking = true; }

}  // namespace troupe::detail

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TROUPE_ACTORS_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TROUPE_ACTORS_TSAN 1
#endif
#ifdef TROUPE_ACTORS_TSAN
// moodycamel::ConcurrentQueue hands a block back to its producer with relaxed
// loads followed by std::atomic_thread_fence(acquire) (Block::is_empty), and
// ThreadSanitizer does not model fences, so it reports the reuse of a slot as
// a race (upstream cameron314/concurrentqueue issue #254). The suppression
// covers accesses inside the queue only; troupe's own data published through
// it is synchronized by the queue's release/acquire on tailIndex, which TSan
// sees. (A program that defines this hook itself must add this line.)
extern "C" const char* __tsan_default_suppressions() {
  return "race:moodycamel::ConcurrentQueue\n";
}
#endif

namespace troupe::detail {

scheduler::scheduler(unsigned n) : global_(1024) {
  workers_.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<worker>();
    w->owner = this;
    w->index = i;
    w->rng = 0x9E3779B97F4A7C15ULL * (i + 1);
    workers_.push_back(std::move(w));
  }
  idle_list_.reserve(n);
}

scheduler::~scheduler() { stop(); }

void scheduler::start() {
  for (auto& w : workers_) {
    worker* wp = w.get();
    wp->thread = std::thread([this, wp] { run(*wp); });
  }
}

void scheduler::stop() {
  {
    lock_guard lk(idle_mu_);
    stopping_.store(true, std::memory_order_seq_cst);
    for (worker* w : idle_list_) w->wake.release();
    idle_list_.clear();
    idle_.store(0, std::memory_order_relaxed);
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

worker* scheduler::current() const noexcept {
  worker* w = tl_worker;
  return (w != nullptr && w->owner == this) ? w : nullptr;
}

std::uint64_t scheduler::processed() const noexcept {
  std::uint64_t n = offpool_processed_.load(std::memory_order_relaxed);
  for (const auto& w : workers_) n += w->processed.load(std::memory_order_relaxed);
  return n;
}

void scheduler::count_processed(std::uint64_t n) noexcept {
  if (worker* w = current()) {
    w->processed.store(w->processed.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  } else {
    offpool_processed_.fetch_add(n, std::memory_order_relaxed);
  }
}

void scheduler::run(worker& w) {
  tl_worker = &w;
  trace::name_thread("worker " + std::to_string(w.index));
  moodycamel::ConsumerToken token(global_);
  w.token = &token;
  while (job* j = find_work(w)) {
    j->run_job();
    w.ticks.store(w.ticks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  w.token = nullptr;
  tl_worker = nullptr;
}

job* scheduler::local_work(worker& w) {
  job* j = nullptr;
  if (w.ticks.load(std::memory_order_relaxed) % kGlobalCheckInterval == 0 &&
      global_.try_dequeue(*w.token, j)) {
    return j;
  }
  if ((j = w.next.exchange(nullptr, std::memory_order_acquire)) != nullptr) {
    if (++w.next_streak > kMaxNextStreak && !w.local.empty()) {
      w.next_streak = 0;
      push_local(w, j);
      j = w.local.pop();
    }
    return j;
  }
  w.next_streak = 0;
  if ((j = w.local.pop()) != nullptr) return j;
  // Take a batch from the global queue: one to run, the rest into the ring.
  job* batch[32];
  const std::size_t n = global_.try_dequeue_bulk(*w.token, batch, 32);
  if (n == 0) return nullptr;
  for (std::size_t i = 1; i < n; ++i) push_local(w, batch[i]);
  if (n > 1) notify();
  return batch[0];
}

job* scheduler::steal(worker& w, bool take_next) {
  const auto n = static_cast<unsigned>(workers_.size());
  const auto start = static_cast<unsigned>(xorshift(w.rng) % n);
  for (unsigned i = 0; i < n; ++i) {
    worker& v = *workers_[(start + i) % n];
    if (&v == &w) continue;
    if (job* j = v.local.steal_into(w.local)) return j;
    if (take_next && v.next.load(std::memory_order_relaxed) != nullptr) {
      const std::uint64_t t0 = v.ticks.load(std::memory_order_relaxed);
      const auto until = std::chrono::steady_clock::now() + kNextStealDelay;
      while (std::chrono::steady_clock::now() < until) cpu_relax();
      if (v.ticks.load(std::memory_order_relaxed) == t0) {
        if (job* j = v.next.exchange(nullptr, std::memory_order_acquire)) return j;
      }
    }
  }
  return nullptr;
}

job* scheduler::find_work(worker& w) {
  for (;;) {
    if (job* j = local_work(w)) {
      if (w.spinning) {
        w.spinning = false;
        // The last spinner found work: there may be more, so bring in help.
        if (spinning_.fetch_sub(1, std::memory_order_seq_cst) == 1) notify();
      }
      return j;
    }
    if (stopping_.load(std::memory_order_acquire)) return nullptr;

    if (!w.spinning) {
      // At most half of the busy workers spin (as Go does), to bound waste.
      const int busy = static_cast<int>(workers_.size()) - idle_.load(std::memory_order_relaxed);
      if (2 * spinning_.load(std::memory_order_relaxed) < busy) {
        w.spinning = true;
        spinning_.fetch_add(1, std::memory_order_seq_cst);
      }
    }
    if (w.spinning) {
      for (int round = 0; round < kSpinRounds; ++round) {
        job* j = steal(w, round == kSpinRounds - 1);
        if (j == nullptr) j = local_work(w);
        if (j != nullptr) {
          w.spinning = false;
          if (spinning_.fetch_sub(1, std::memory_order_seq_cst) == 1) notify();
          return j;
        }
        if (stopping_.load(std::memory_order_acquire)) break;
        for (int p = 0; p < kPausesPerRound; ++p) cpu_relax();
      }
      w.spinning = false;
      spinning_.fetch_sub(1, std::memory_order_seq_cst);
    }
    if (!park(w)) return nullptr;
  }
}

bool scheduler::park(worker& w) {
  {
    lock_guard lk(idle_mu_);
    if (stopping_.load(std::memory_order_relaxed)) return false;
    idle_list_.push_back(&w);
    idle_.fetch_add(1, std::memory_order_seq_cst);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (work_visible()) {
    bool removed = false;
    {
      lock_guard lk(idle_mu_);
      auto it = std::find(idle_list_.begin(), idle_list_.end(), &w);
      if (it != idle_list_.end()) {
        idle_list_.erase(it);
        idle_.fetch_sub(1, std::memory_order_seq_cst);
        removed = true;
      }
    }
    if (removed) return !stopping_.load(std::memory_order_acquire);
    // A waker already took us off the list; its release() is on the way.
  }
  w.wake.acquire();
  if (stopping_.load(std::memory_order_acquire)) return false;
  // wake_one() counted us as spinning on our behalf.
  w.spinning = true;
  return true;
}

bool scheduler::work_visible() const noexcept {
  if (global_.size_approx() != 0) return true;
  for (const auto& v : workers_) {
    if (!v->local.empty() || v->next.load(std::memory_order_relaxed) != nullptr) return true;
  }
  return false;
}

void scheduler::notify() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (spinning_.load(std::memory_order_relaxed) == 0 && idle_.load(std::memory_order_relaxed) > 0) {
    wake_one();
  }
}

void scheduler::wake_one() noexcept {
  int expected = 0;
  // Only one waker at a time: the woken worker spins, and a spinner that
  // finds work wakes the next one.
  if (!spinning_.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) return;
  worker* v = nullptr;
  {
    lock_guard lk(idle_mu_);
    if (!idle_list_.empty()) {
      v = idle_list_.back();
      idle_list_.pop_back();
      idle_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  if (v == nullptr) {
    spinning_.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  v->wake.release();
}

void scheduler::push_global(job* j) noexcept {
  // enqueue allocates only when the queue grows; on allocation failure
  // there is no way to run the job, which would lose messages silently.
  if (!global_.enqueue(j)) std::terminate();
}

void scheduler::push_local(worker& w, job* j) noexcept {
  if (w.local.push(j)) return;
  // Ring full: move half of it, and j, to the global queue.
  job* batch[runq::capacity / 2 + 1];
  const std::uint32_t n = w.local.take_half(batch);
  batch[n] = j;
  if (!global_.enqueue_bulk(batch, n + 1)) std::terminate();
}

void scheduler::schedule(job* j) noexcept {
  if (worker* w = current()) {
    if (job* prev = w->next.exchange(j, std::memory_order_acq_rel)) push_local(*w, prev);
  } else {
    push_global(j);
  }
  notify();
}

void scheduler::schedule_fair(job* j) noexcept {
  if (worker* w = current()) {
    push_local(*w, j);
  } else {
    push_global(j);
  }
  notify();
}

}  // namespace troupe::detail
