#pragma once
// A worker's local run queue: a fixed ring, FIFO for the owner, with
// stealing of half the queue by other workers (the shape of Go's per-P
// runq).
//
// The owner pushes at tail and pops at head; thieves take from head. head
// is advanced by CAS (owner and thieves race for it); tail is written only by
// the owner. Slots are atomics so a thief reading a slot the owner is
// overwriting is not a data race: the thief's CAS on head then fails.
// Memory ordering: the owner publishes a slot with a release store of tail;
// a thief reads tail with acquire, so the job's state is visible to it.

#include <array>
#include <atomic>
#include <cstdint>

#include "troupe/actors/detail/job.hpp"

namespace troupe::detail {

class runq {
 public:
  static constexpr std::uint32_t capacity = 256;

  /// Owner only. False if full (the caller moves work to the global queue).
  bool push(job* j) noexcept {
    const std::uint32_t h = head_.load(std::memory_order_acquire);
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h >= capacity) return false;
    slots_[t % capacity].store(j, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  /// Owner only: takes up to half of the queue out (for overflow to the
  /// global queue). Returns how many were written to `out`.
  std::uint32_t take_half(job** out) noexcept {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);
      const std::uint32_t n = (t - h) / 2;
      if (n == 0) return 0;
      for (std::uint32_t i = 0; i < n; ++i) {
        out[i] = slots_[(h + i) % capacity].load(std::memory_order_relaxed);
      }
      if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
        return n;
      }
    }
  }

  /// Owner only.
  job* pop() noexcept {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      job* j = slots_[h % capacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        return j;
      }
    }
  }

  /// Any thread: moves about half of this queue into `out` (the thief's
  /// own, empty queue) and returns one job to run, or nullptr.
  job* steal_into(runq& out) noexcept {
    const std::uint32_t ot = out.tail_.load(std::memory_order_relaxed);
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      const std::uint32_t t = tail_.load(std::memory_order_acquire);
      const std::uint32_t avail = t - h;
      if (avail == 0) return nullptr;
      if (avail > capacity) continue;  // head read before a burst of pushes: reread
      const std::uint32_t n = avail - avail / 2;
      std::array<job*, capacity> tmp;
      for (std::uint32_t i = 0; i < n; ++i) {
        tmp[i] = slots_[(h + i) % capacity].load(std::memory_order_relaxed);
      }
      if (!head_.compare_exchange_weak(h, h + n, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        continue;
      }
      // tmp[0] is returned; the rest goes to the thief's queue, which is
      // empty (the thief steals only when it has nothing).
      for (std::uint32_t i = 1; i < n; ++i) {
        out.slots_[(ot + i - 1) % capacity].store(tmp[i], std::memory_order_relaxed);
      }
      if (n > 1) out.tail_.store(ot + n - 1, std::memory_order_release);
      return tmp[0];
    }
  }

  /// Any thread; approximate.
  [[nodiscard]] bool empty() const noexcept {
    return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire);
  }

 private:
  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  std::array<std::atomic<job*>, capacity> slots_{};
};

}  // namespace troupe::detail
