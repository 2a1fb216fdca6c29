#pragma once
// Helpers shared by the channel tests: those of the actor tests
// (eventually, ms_since, error_of) and a counting value type.

#include <atomic>

#include "../actors/test_util.hpp"

namespace troupe::test {

/// A value type that counts its live instances.
struct counted {
  static inline std::atomic<int> live{0};
  int v = 0;
  explicit counted(int x = 0) noexcept : v(x) { live.fetch_add(1); }
  counted(const counted& o) noexcept : v(o.v) { live.fetch_add(1); }
  counted(counted&& o) noexcept : v(o.v) { live.fetch_add(1); }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) = default;
  ~counted() { live.fetch_sub(1); }
};

}  // namespace troupe::test
