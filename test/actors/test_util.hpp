#pragma once
// Helpers shared by the actor tests.

#include <chrono>
#include <thread>

namespace troupe::test {

/// Polls `pred` until true or `limit` passes; returns the last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Worker counts swept by the threaded tests (as taskflow does).
inline constexpr unsigned kWorkerSweep[] = {1, 2, 3, 7, 16};

}  // namespace troupe::test
