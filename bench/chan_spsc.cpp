// smoke: 20000 16 --both
// chan_spsc N CAP [--thread|--coro|--both]: one producer sends 0..N-1 on a
// channel of capacity CAP and closes it; one consumer sums until closed.
// msgs = N. Flavours: `thread` (two OS threads, blocking send/recv) and
// `coro` (two tasks on a system of BENCH_THREADS workers, co_await); the
// flag or BENCH_FLAVOUR picks (default thread). One JSON line per flavour.
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

int emit(const std::string& flavour, long n, long cap, double secs, const result& r) {
  const bool ok = r.count == n && r.sum == n * (n - 1) / 2;
  std::printf(
      "{\"impl\":\"troupe\",\"workload\":\"chan_spsc\",\"n\":%ld,\"cap\":%ld,\"threads\":%u,"
      "\"flavour\":\"%s\",\"time_s\":%.6f,\"msgs\":%ld,\"msgs_per_s\":%.1f,\"check\":\"%s\","
      "\"sum\":%ld,\"peak_rss_kb\":%ld}\n",
      n, cap, bench::threads(), flavour.c_str(), secs, n,
      secs > 0 ? static_cast<double>(n) / secs : 0.0, ok ? "passed" : "failed", r.sum,
      bench::peak_rss_kb());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

double run_thread(long n, long cap, result& r) {
  auto [tx, rx] = troupe::make_channel<long>(static_cast<std::size_t>(cap));
  bench::stopwatch sw;
  std::thread producer([n, tx = std::move(tx)] {
    for (long i = 0; i < n; ++i) tx.send(i);
  });
  std::thread consumer([&r, rx = std::move(rx)] {
    for (long v : rx) {
      r.sum += v;
      ++r.count;
    }
  });
  producer.join();
  consumer.join();
  return sw.seconds();
}

double run_coro(long n, long cap, result& r) {
  troupe::system sys(troupe::system_config{bench::threads()});
  auto [tx, rx] = troupe::make_channel<long>(static_cast<std::size_t>(cap));
  bench::stopwatch sw;
  auto p = sys.go([n, tx = std::move(tx)]() -> troupe::task<> {
    for (long i = 0; i < n; ++i) co_await tx.send(i);
  });
  auto c = sys.go([rx = std::move(rx)]() -> troupe::task<result> {
    result out;
    while (auto v = co_await rx.recv()) {
      out.sum += *v;
      ++out.count;
    }
    co_return out;
  });
  r = c.get();
  const double t = sw.seconds();
  p.get();
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const auto fl = bench::flavours(argc, argv);
  const long n = bench::arg(argc, argv, 1, 10000000);
  const long cap = bench::cap_arg(argc, argv, 2, 1024);
  int rc = 0;
  for (const auto& f : fl) {
    result r;
    const double t = f == "coro" ? run_coro(n, cap, r) : run_thread(n, cap, r);
    rc |= emit(f, n, cap, t, r);
  }
  return rc;
}
