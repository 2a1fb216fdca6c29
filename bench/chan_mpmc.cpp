// smoke: 20000 4 4 16 --both
// chan_mpmc N PRODUCERS CONSUMERS CAP [--thread|--coro|--both]: PRODUCERS
// send disjoint slices of 0..N-1 (N/PRODUCERS each, the last one the
// remainder) on one channel of capacity CAP, which closes when the last
// producer is done; CONSUMERS receive until it is closed. msgs = N.
// Flavours as in chan_spsc: `thread` runs one OS thread per producer and
// consumer, `coro` one task each on BENCH_THREADS workers.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <troupe/troupe.hpp>
#include <utility>
#include <vector>

#include "bench_util.hpp"

namespace {

struct result {
  long count = 0;
  long sum = 0;
};

int emit(const std::string& flavour, long n, long np, long nc, long cap, double secs,
         const result& r) {
  const bool ok = r.count == n && r.sum == n * (n - 1) / 2;
  std::printf(
      "{\"impl\":\"troupe\",\"workload\":\"chan_mpmc\",\"n\":%ld,\"producers\":%ld,"
      "\"consumers\":%ld,\"cap\":%ld,\"threads\":%u,\"flavour\":\"%s\",\"time_s\":%.6f,"
      "\"msgs\":%ld,\"msgs_per_s\":%.1f,\"check\":\"%s\",\"sum\":%ld,\"peak_rss_kb\":%ld}\n",
      n, np, nc, cap, bench::threads(), flavour.c_str(), secs, n,
      secs > 0 ? static_cast<double>(n) / secs : 0.0, ok ? "passed" : "failed", r.sum,
      bench::peak_rss_kb());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

std::pair<long, long> slice(long n, long np, long p) {
  const long chunk = n / np;
  const long lo = p * chunk;
  return {lo, p == np - 1 ? n : lo + chunk};
}

double run_thread(long n, long np, long nc, long cap, result& total) {
  auto [tx, rx] = troupe::make_channel<long>(static_cast<std::size_t>(cap));
  std::vector<result> parts(static_cast<std::size_t>(nc));
  bench::stopwatch sw;
  std::vector<std::thread> ts;
  for (long p = 0; p < np; ++p) {
    ts.emplace_back([range = slice(n, np, p), tx = tx] {
      for (long i = range.first; i < range.second; ++i) tx.send(i);
    });
  }
  tx = troupe::sender<long>();  // the producers hold the only senders now
  for (long c = 0; c < nc; ++c) {
    ts.emplace_back([&out = parts[static_cast<std::size_t>(c)], rx = rx] {
      for (long v : rx) {
        out.sum += v;
        ++out.count;
      }
    });
  }
  rx = troupe::receiver<long>();
  for (auto& t : ts) t.join();
  const double secs = sw.seconds();
  for (const auto& r : parts) {
    total.count += r.count;
    total.sum += r.sum;
  }
  return secs;
}

double run_coro(long n, long np, long nc, long cap, result& total) {
  troupe::system sys(troupe::system_config{bench::threads()});
  auto [tx, rx] = troupe::make_channel<long>(static_cast<std::size_t>(cap));
  bench::stopwatch sw;
  std::vector<troupe::task_handle<void>> producers;
  for (long p = 0; p < np; ++p) {
    producers.push_back(sys.go([range = slice(n, np, p), tx = tx]() -> troupe::task<> {
      for (long i = range.first; i < range.second; ++i) co_await tx.send(i);
    }));
  }
  tx = troupe::sender<long>();
  std::vector<troupe::task_handle<result>> consumers;
  for (long c = 0; c < nc; ++c) {
    consumers.push_back(sys.go([rx = rx]() -> troupe::task<result> {
      result out;
      while (auto v = co_await rx.recv()) {
        out.sum += *v;
        ++out.count;
      }
      co_return out;
    }));
  }
  rx = troupe::receiver<long>();
  for (auto& h : consumers) {
    const result r = h.get();
    total.count += r.count;
    total.sum += r.sum;
  }
  const double secs = sw.seconds();
  for (auto& h : producers) h.get();
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  const auto fl = bench::flavours(argc, argv);
  const long n = bench::arg(argc, argv, 1, 10000000);
  const long np = bench::arg(argc, argv, 2, 4);
  const long nc = bench::arg(argc, argv, 3, 4);
  const long cap = bench::cap_arg(argc, argv, 4, 1024);
  int rc = 0;
  for (const auto& f : fl) {
    result r;
    const double t = f == "coro" ? run_coro(n, np, nc, cap, r) : run_thread(n, np, nc, cap, r);
    rc |= emit(f, n, np, nc, cap, t, r);
  }
  return rc;
}
