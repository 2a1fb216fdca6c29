#pragma once
// Shared by troupe's benchmark programs: the suite's conventions (sizes as
// positional integers, BENCH_THREADS, one JSON line, exit 1 on a failed
// self-check), timing and memory readings.

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bench {

/// Positional integer argument `i` (1-based), or `def` when absent.
inline long arg(int argc, char** argv, int i, long def) {
  if (argc <= i) return def;
  char* end = nullptr;
  const long v = std::strtol(argv[i], &end, 10);
  if (end == argv[i] || *end != '\0' || v <= 0) {
    std::fprintf(stderr, "%s: argument %d must be a positive integer, got '%s'\n", argv[0], i,
                 argv[i]);
    std::exit(2);
  }
  return v;
}

/// Non-negative integer argument `i` (a channel capacity: 0 is a
/// rendezvous), or `def` when absent.
inline long cap_arg(int argc, char** argv, int i, long def) {
  if (argc <= i) return def;
  char* end = nullptr;
  const long v = std::strtol(argv[i], &end, 10);
  if (end == argv[i] || *end != '\0' || v < 0) {
    std::fprintf(stderr, "%s: CAP must be a non-negative integer, got '%s'\n", argv[0], argv[i]);
    std::exit(2);
  }
  return v;
}

/// The channel benchmarks' flavours: removes --thread, --coro or --both
/// from argv (BENCH_FLAVOUR gives the default) and returns the flavours to
/// run, "thread" (OS threads, blocking calls) and/or "coro" (tasks).
inline std::vector<std::string> flavours(int& argc, char** argv) {
  std::string f;
  if (const char* e = std::getenv("BENCH_FLAVOUR")) f = e;  // NOLINT(concurrency-mt-unsafe)
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).rfind("--", 0) == 0) {
      f = argv[i] + 2;
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  if (f == "both") return {"thread", "coro"};
  if (f == "coro") return {"coro"};
  if (f.empty() || f == "thread") return {"thread"};
  std::fprintf(stderr, "unknown flavour '%s' (thread, coro or both)\n", f.c_str());
  std::exit(2);
}

/// Worker threads from BENCH_THREADS (default 2).
inline unsigned threads() {
  const char* e = std::getenv("BENCH_THREADS");  // NOLINT(concurrency-mt-unsafe)
  if (e == nullptr || *e == '\0') return 2;
  const long v = std::strtol(e, nullptr, 10);
  return v > 0 ? static_cast<unsigned>(v) : 2U;
}

/// Peak resident set size of this process so far, in KiB.
inline long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/// Current resident set size in KiB (from /proc/self/statm).
inline long rss_kb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  f >> pages >> resident;
  return resident * 4;
}

class stopwatch {
 public:
  stopwatch() : t0_(std::chrono::steady_clock::now()) {}
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};

/// Prints the JSON line and returns the exit code (0 passed, 1 failed).
/// `extra` holds further numeric fields, in order.
inline int report(const char* workload, long n,
                  const std::vector<std::pair<std::string, double>>& params, double time_s,
                  double msgs, bool ok,
                  const std::vector<std::pair<std::string, double>>& extra = {}) {
  std::printf("{\"impl\":\"troupe\",\"workload\":\"%s\",\"n\":%ld", workload, n);
  for (const auto& [k, v] : params) std::printf(",\"%s\":%.0f", k.c_str(), v);
  std::printf(",\"threads\":%u,\"time_s\":%.6f,\"msgs\":%.0f,\"msgs_per_s\":%.1f", threads(),
              time_s, msgs, time_s > 0 ? msgs / time_s : 0.0);
  for (const auto& [k, v] : extra) std::printf(",\"%s\":%.1f", k.c_str(), v);
  std::printf(",\"check\":\"%s\"}\n", ok ? "passed" : "failed");
  std::fflush(stdout);
  return ok ? 0 : 1;
}

}  // namespace bench
