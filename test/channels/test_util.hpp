#pragma once
// Helpers shared by the channel and task tests.
//
// Catch2 v2 is not thread-safe: threads record what they saw in atomics or
// in per-thread slots, and only the main thread asserts.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <troupe/actors/error.hpp>

namespace troupe::test {

using clock = std::chrono::steady_clock;

/// Polls `pred` until true or `limit` passes; returns the last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto until = clock::now() + limit;
  while (!pred()) {
    if (clock::now() > until) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Milliseconds since `t0`.
inline double ms_since(clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

/// Runs `f` and returns the troupe error code it threw (errc{} if none).
template <class F>
troupe::errc error_of(F&& f, std::string* what = nullptr) {
  try {
    f();
  } catch (const troupe::error& e) {
    if (what != nullptr) *what = e.what();
    return e.value();
  }
  return troupe::errc{};
}

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
