// Shared benchmark convention for the CAF 0.17 peers: positional integer
// arguments, BENCH_THREADS -> scheduler.max-threads (work-stealing policy),
// a steady-clock timer around the workload only, RSS from /proc/self/status,
// and exactly one JSON line on stdout (exit status 1 if the check failed).
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bench {

inline int threads() {
  int t = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* s = std::getenv("BENCH_THREADS"); s != nullptr && *s) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (*end != '\0' || v < 1) {
      std::fprintf(stderr, "bad BENCH_THREADS=%s\n", s);
      std::exit(2);
    }
    t = static_cast<int>(v);
  }
  return t < 1 ? 1 : t;
}

inline std::vector<long long> args(int argc, char** argv, const char* usage,
                                   std::initializer_list<long long> defaults) {
  std::vector<long long> out(defaults);
  if (static_cast<size_t>(argc - 1) > out.size()) {
    std::fprintf(stderr, "usage: %s %s\n", argv[0], usage);
    std::exit(2);
  }
  for (int i = 1; i < argc; ++i) {
    char* end = nullptr;
    long long v = std::strtoll(argv[i], &end, 10);
    if (*end != '\0' || v < 0) {
      std::fprintf(stderr, "usage: %s %s (bad argument '%s')\n", argv[0], usage, argv[i]);
      std::exit(2);
    }
    out[static_cast<size_t>(i - 1)] = v;
  }
  return out;
}

// A "VmRSS"/"VmHWM" style field of /proc/self/status, in KiB.
inline long long proc_status_kb(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  long long v = 0;
  size_t len = std::strlen(field);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, len) == 0 && line[len] == ':') {
      v = std::atoll(line + len + 1);
      break;
    }
  }
  std::fclose(f);
  return v;
}

// Idiomatic CAF configuration: default work-stealing scheduler, default
// max-throughput, BENCH_THREADS worker threads.
inline void configure(caf::actor_system_config& cfg, int nthreads) {
  cfg.set("scheduler.policy", caf::atom("stealing"));
  cfg.set("scheduler.max-threads", nthreads);
}

struct timer {
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

using kv = std::pair<std::string, std::string>;

inline kv p(const std::string& k, long long v) { return {k, std::to_string(v)}; }
inline kv pd(const std::string& k, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return {k, buf};
}

// Prints the JSON line and terminates the process without tearing the actor
// system down (teardown is not part of any measurement).
[[noreturn]] inline void emit(const char* workload, long long n, const std::vector<kv>& params,
                              int nthreads, double secs, long long msgs, bool ok,
                              const std::vector<kv>& extra = {}) {
  std::string s = "{\"impl\":\"caf\",\"workload\":\"";
  s += workload;
  s += "\",\"n\":" + std::to_string(n);
  for (auto& [k, v] : params) s += ",\"" + k + "\":" + v;
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      ",\"threads\":%d,\"time_s\":%.6f,\"msgs\":%lld,\"msgs_per_s\":%.1f,\"check\":\"%s\"",
      nthreads, secs, msgs, secs > 0 ? static_cast<double>(msgs) / secs : 0.0,
      ok ? "passed" : "failed");
  s += buf;
  bool has_rss = false;
  for (auto& [k, v] : extra) {
    if (k == "peak_rss_kb") has_rss = true;
    s += ",\"" + k + "\":" + v;
  }
  if (!has_rss) s += ",\"peak_rss_kb\":" + std::to_string(proc_status_kb("VmHWM"));
  s += "}\n";
  std::fputs(s.c_str(), stdout);
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(ok ? 0 : 1);
}

}  // namespace bench
