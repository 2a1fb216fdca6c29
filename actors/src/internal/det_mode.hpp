#pragma once
// det_mode: the deterministic mode of a test_system. One thread runs every
// job, choosing the next ready one with a seeded generator, on a virtual
// clock (timer_service in manual mode); every handled message is folded
// into a trace hash, and optionally recorded.

#include <cstdint>
#include <vector>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/thread_annotations.hpp"
#include "troupe/actors/test_system.hpp"

namespace troupe::detail {

class det_mode {
 public:
  explicit det_mode(std::uint64_t seed) noexcept;

  /// Makes `j` ready (a schedule in a test_system).
  void push(job* j) noexcept;
  /// Runs one ready job, chosen by the seeded generator; false if none.
  bool step() noexcept;
  /// Number of ready jobs.
  [[nodiscard]] std::size_t ready() noexcept;
  /// `c` is about to handle `m`: counts a step and folds it into the hash.
  void on_message(const cell& c, const message& m) noexcept;

  const std::uint64_t seed;
  // Test thread only.
  std::uint64_t trace_hash = 0xcbf29ce484222325ULL;  // FNV-1a over the trace
  std::uint64_t steps = 0;
  bool record_trace = false;
  std::vector<trace_event> trace;

 private:
  mutex mu_;  // only for accidental use from another thread
  std::vector<job*> ready_ TROUPE_GUARDED_BY(mu_);
  std::uint64_t rng_ TROUPE_GUARDED_BY(mu_);
};

}  // namespace troupe::detail
