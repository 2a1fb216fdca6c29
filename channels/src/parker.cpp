#include "troupe/channels/detail/parker.hpp"

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#else
#include <condition_variable>
#endif

#include "troupe/actors/detail/thread_annotations.hpp"

namespace troupe::detail::chan {

static_assert(sizeof(std::atomic<std::int32_t>) == sizeof(std::int32_t) &&
                  std::atomic<std::int32_t>::is_always_lock_free,
              "the futex word must be a plain 32-bit atomic");

namespace {

#if defined(__linux__)
// A spurious or interrupted return is fine: every caller loops.
void futex_wait(std::atomic<std::int32_t>* word, std::int32_t expected,
                const timespec* rel) noexcept {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  syscall(SYS_futex, reinterpret_cast<std::int32_t*>(word), FUTEX_WAIT_PRIVATE, expected, rel,
          nullptr, 0);
}
void futex_wake(std::atomic<std::int32_t>* word) noexcept {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  syscall(SYS_futex, reinterpret_cast<std::int32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
          0);
}
#endif

// Parkers are pooled and never freed (see parker.hpp).
struct parker_pool {
  troupe::detail::mutex mu;
  std::vector<parker*> free TROUPE_GUARDED_BY(mu);
};
parker_pool& pool() {
  static auto* p = new parker_pool;  // reachable until exit: not a leak
  return *p;
}

struct parker_holder {
  parker* p = nullptr;
  parker_holder() = default;
  parker_holder(const parker_holder&) = delete;
  parker_holder& operator=(const parker_holder&) = delete;
  ~parker_holder() {
    if (p == nullptr) return;
    auto& pl = pool();
    lock_guard lk(pl.mu);
    pl.free.push_back(p);
  }
};
thread_local parker_holder tl_parker;

}  // namespace

parker& this_thread_parker() noexcept {
  if (tl_parker.p == nullptr) {
    auto& pl = pool();
    lock_guard lk(pl.mu);
    if (!pl.free.empty()) {
      tl_parker.p = pl.free.back();
      pl.free.pop_back();
    } else {
      tl_parker.p = new parker;  // NOLINT(cppcoreguidelines-owning-memory): pooled forever
    }
  }
  return *tl_parker.p;
}

#if defined(__linux__)

void parker::park() noexcept {
  // kNotified -> kEmpty (consume) or kEmpty -> kParked.
  if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return;
  for (;;) {
    futex_wait(&state_, kParked, nullptr);
    std::int32_t expected = kNotified;
    if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
      return;
    }
  }
}

bool parker::park_until(clock::time_point deadline) noexcept {
  if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return true;
  const auto left = deadline - clock::now();
  if (left > clock::duration::zero()) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec rel{};
    rel.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    rel.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    futex_wait(&state_, kParked, &rel);
  }
  return state_.exchange(kEmpty, std::memory_order_acquire) == kNotified;
}

void parker::wake_one() noexcept { futex_wake(&state_); }

#else  // portable fallback: a mutex and a condition variable per call site

namespace {
std::mutex g_park_mu;
std::condition_variable g_park_cv;
}  // namespace

void parker::park() noexcept {
  if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return;
  std::unique_lock lk(g_park_mu);
  g_park_cv.wait(lk, [this] { return state_.load(std::memory_order_acquire) == kNotified; });
  state_.store(kEmpty, std::memory_order_relaxed);
}

bool parker::park_until(clock::time_point deadline) noexcept {
  if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return true;
  std::unique_lock lk(g_park_mu);
  g_park_cv.wait_until(lk, deadline,
                       [this] { return state_.load(std::memory_order_acquire) == kNotified; });
  return state_.exchange(kEmpty, std::memory_order_acquire) == kNotified;
}

void parker::wake_one() noexcept {
  { std::lock_guard lk(g_park_mu); }
  g_park_cv.notify_all();
}

#endif

namespace {
// Spinning before parking pays when the partner runs on another core (a
// rendezvous answer comes within microseconds; parking costs two system
// calls and a context switch each way), and hurts when threads outnumber
// cores: a spinner then holds a core its partner needs. So at most one
// thread per core spins, for at most kSpinFor; the others park at once.
// Two threads on two cores then hand values over without sleeping.
std::atomic<int> g_spinners{0};
const int g_max_spinners = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
constexpr auto kSpinFor = std::chrono::microseconds(10);
constexpr int kPausesPerClockRead = 32;
}  // namespace

std::uint32_t thread_waiter::wait(const std::optional<clock::time_point>& deadline) noexcept {
  if (g_spinners.fetch_add(1, std::memory_order_relaxed) < g_max_spinners) {
    clock::time_point spin_end = clock::now() + kSpinFor;
    if (deadline && *deadline < spin_end) spin_end = *deadline;
    do {
      for (int i = 0; i < kPausesPerClockRead; ++i) {
        if (woken_.load(std::memory_order_acquire)) {
          g_spinners.fetch_sub(1, std::memory_order_relaxed);
          return state();
        }
        cpu_relax();
      }
    } while (clock::now() < spin_end);
  }
  g_spinners.fetch_sub(1, std::memory_order_relaxed);
  bool timed = deadline.has_value();
  const clock::time_point until = timed ? *deadline : clock::time_point{};
  for (;;) {
    if (woken_.load(std::memory_order_acquire)) return state();
    if (timed) {
      if (clock::now() >= until) {
        if (try_claim(0, wake_reason::timeout)) return state();
        timed = false;  // someone claimed us first: its wake() is on the way
        continue;
      }
      parker_->park_until(until);
    } else {
      parker_->park();
    }
  }
}

}  // namespace troupe::detail::chan
