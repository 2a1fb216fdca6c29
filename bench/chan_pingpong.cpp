// smoke: 2000 --both
// chan_pingpong N [--thread|--coro|--both]: two parties exchange N round
// trips over two rendezvous (capacity 0) channels; msgs = 2N. Flavours as
// in chan_spsc: `thread` runs two OS threads, `coro` two tasks on
// BENCH_THREADS workers.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <troupe/troupe.hpp>
#include <utility>
#include <vector>

#include "bench_util.hpp"

namespace {

int emit(const std::string& flavour, long n, double secs, long last) {
  const bool ok = last == n;
  std::printf(
      "{\"impl\":\"troupe\",\"workload\":\"chan_pingpong\",\"n\":%ld,\"threads\":%u,"
      "\"flavour\":\"%s\",\"time_s\":%.6f,\"msgs\":%ld,\"msgs_per_s\":%.1f,\"check\":\"%s\","
      "\"round_trip_us\":%.3f,\"peak_rss_kb\":%ld}\n",
      n, bench::threads(), flavour.c_str(), secs, 2 * n,
      secs > 0 ? 2.0 * static_cast<double>(n) / secs : 0.0, ok ? "passed" : "failed",
      n > 0 ? secs * 1e6 / static_cast<double>(n) : 0.0, bench::peak_rss_kb());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

double run_thread(long n, long& last) {
  auto [ping_tx, ping_rx] = troupe::make_channel<long>(0);
  auto [pong_tx, pong_rx] = troupe::make_channel<long>(0);
  std::thread ponger([ping_rx = std::move(ping_rx), pong_tx = std::move(pong_tx)] {
    for (long v : ping_rx) pong_tx.send(v + 1);
  });
  bench::stopwatch sw;
  std::thread pinger([n, &last, ping_tx = std::move(ping_tx), pong_rx = std::move(pong_rx)] {
    long v = 0;
    for (long i = 0; i < n; ++i) {
      ping_tx.send(v);
      v = *pong_rx.recv();
    }
    last = v;
  });
  pinger.join();
  const double t = sw.seconds();
  ponger.join();
  return t;
}

double run_coro(long n, long& last) {
  troupe::system sys(troupe::system_config{bench::threads()});
  auto [ping_tx, ping_rx] = troupe::make_channel<long>(0);
  auto [pong_tx, pong_rx] = troupe::make_channel<long>(0);
  auto ponger =
      sys.go([ping_rx = std::move(ping_rx), pong_tx = std::move(pong_tx)]() -> troupe::task<> {
        while (auto v = co_await ping_rx.recv()) co_await pong_tx.send(*v + 1);
      });
  bench::stopwatch sw;
  auto pinger = sys.go(
      [n, ping_tx = std::move(ping_tx), pong_rx = std::move(pong_rx)]() -> troupe::task<long> {
        long v = 0;
        for (long i = 0; i < n; ++i) {
          co_await ping_tx.send(v);
          v = *co_await pong_rx.recv();
        }
        co_return v;
      });
  last = pinger.get();
  const double t = sw.seconds();
  ponger.get();
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const auto fl = bench::flavours(argc, argv);
  const long n = bench::arg(argc, argv, 1, 1000000);
  int rc = 0;
  for (const auto& f : fl) {
    long last = -1;
    const double t = f == "coro" ? run_coro(n, last) : run_thread(n, last);
    rc |= emit(f, n, t, last);
  }
  return rc;
}
