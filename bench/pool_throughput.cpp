// smoke: 200
// pool_throughput N: N tasks (a small CPU-bound function) through a
// process_pool of BENCH_THREADS workers with map (chunks of 64), against
// the same work on as many threads; reports both rates.
#include <atomic>
#include <cstdint>
#include <numeric>
#include <thread>
#include <troupe/nodes.hpp>
#include <troupe/troupe.hpp>
#include <vector>

#include "bench_util.hpp"

namespace bench_pool {
std::int64_t work(std::int64_t x) {
  std::uint64_t h = static_cast<std::uint64_t>(x) * 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 2000; ++i) h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ULL;
  return static_cast<std::int64_t>(h >> 1);
}
TROUPE_POOL_FUNCTION(work);
}  // namespace bench_pool

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;
  const long n = bench::arg(argc, argv, 1, 200000);
  const unsigned workers = bench::threads();
  troupe::system sys(troupe::system_config{workers});
  std::vector<std::int64_t> in(static_cast<std::size_t>(n));
  std::iota(in.begin(), in.end(), 0);

  // Threads first, while no worker process exists and the system is idle:
  // the baseline does not compete with the pool's processes.
  std::vector<std::int64_t> expect(in.size());
  bench::stopwatch sw2;
  std::vector<std::thread> ts;
  for (unsigned w = 0; w < workers; ++w) {
    ts.emplace_back([&, w] {  // contiguous halves: no false sharing on `expect`
      const std::size_t lo = in.size() * w / workers;
      const std::size_t hi = in.size() * (w + 1) / workers;
      for (std::size_t i = lo; i < hi; ++i) expect[i] = bench_pool::work(in[i]);
    });
  }
  for (auto& th : ts) th.join();
  const double t_threads = sw2.seconds();

  troupe::process_pool pool(sys, workers);
  (void)pool.apply(bench_pool::work, 1);  // the workers are up
  bench::stopwatch sw;
  const std::vector<std::int64_t> out = pool.map(bench_pool::work, in, 64);
  const double t_pool = sw.seconds();

  const bool ok = out == expect;
  return bench::report("pool_throughput", n, {{"chunksize", 64}}, t_pool, static_cast<double>(n),
                       ok,
                       {{"threads_tasks_per_s", static_cast<double>(n) / t_threads},
                        {"pool_vs_threads", t_threads / t_pool}});
}
