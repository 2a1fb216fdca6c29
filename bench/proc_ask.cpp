// smoke: 1000
// proc_ask N: N sequential ask round trips to an isolated actor in a child
// process; reports the median and p99 round trip in microseconds.
// Target: median < 30 us.
#include <algorithm>
#include <troupe/nodes.hpp>
#include <troupe/troupe.hpp>
#include <vector>

#include "bench_util.hpp"

namespace bench_proc {
struct Echo {
  std::int64_t v = 0;
};
TROUPE_MESSAGE(Echo, "bench.proc.echo", v);

class Echoer : public troupe::actor<Echoer> {
 public:
  std::int64_t on(Echo e) const { return e.v + 1; }
};
TROUPE_ISOLATED_ACTOR(Echoer, "bench.proc.echoer");
}  // namespace bench_proc

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;
  const long n = bench::arg(argc, argv, 1, 20000);
  troupe::system sys(troupe::system_config{bench::threads()});
  auto e = troupe::spawn_isolated<bench_proc::Echoer>(sys);
  for (int i = 0; i < 100; ++i) (void)e.ask(bench_proc::Echo{i}).get();  // warm-up
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(n));
  bool ok = true;
  bench::stopwatch sw;
  for (long i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t r = e.ask(bench_proc::Echo{i}).get();
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    ok = ok && r == i + 1;
  }
  const double t = sw.seconds();
  std::sort(us.begin(), us.end());
  const double median = us[us.size() / 2];
  const double p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  return bench::report("proc_ask", n, {}, t, 2.0 * static_cast<double>(n), ok,
                       {{"median_us", median}, {"p99_us", p99}});
}
