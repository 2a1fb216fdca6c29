#pragma once
// Helpers shared by the actor and task tests (test/channels uses them too).
//
// Catch2 v2 is not thread-safe: threads record what they saw in atomics or
// in per-thread slots, and only the main thread asserts.

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

/// Worker counts swept by the threaded tests (as taskflow does).
inline constexpr unsigned kWorkerSweep[] = {1, 2, 3, 7, 16};

}  // namespace troupe::test
