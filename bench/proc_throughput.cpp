// smoke: 10000
// proc_throughput N: the parent sends N small messages one way to an
// isolated actor in a child process (frames coalesced into large writes),
// then one ask checks that all N arrived. Target: >= 1M msg/s.
#include <troupe/nodes.hpp>
#include <troupe/troupe.hpp>

#include "bench_util.hpp"

namespace bench_proc {
struct Tick {
  std::int64_t v = 0;
  TROUPE_FIELDS(v);
};
TROUPE_MESSAGE(Tick, "bench.proc.tick");
struct Count {};
TROUPE_MESSAGE(Count, "bench.proc.count");

class Sink : public troupe::actor<Sink> {
 public:
  void on(Tick t) {
    ++n_;
    sum_ += t.v;
  }
  std::int64_t on(Count /*unused*/) const { return n_; }

 private:
  std::int64_t n_ = 0;
  std::int64_t sum_ = 0;
};
TROUPE_ISOLATED_ACTOR(Sink, "bench.proc.sink");
}  // namespace bench_proc

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;
  const long n = bench::arg(argc, argv, 1, 2000000);
  troupe::system sys(troupe::system_config{bench::threads()});
  auto sink = troupe::spawn_isolated<bench_proc::Sink>(sys);
  (void)sink.ask(bench_proc::Count{}).get();  // the child is up
  bench::stopwatch sw;
  for (long i = 0; i < n; ++i) sink.send(bench_proc::Tick{i});
  const std::int64_t got = sink.ask(bench_proc::Count{}).get();
  const double t = sw.seconds();
  return bench::report("proc_throughput", n, {}, t, static_cast<double>(n), got == n);
}
