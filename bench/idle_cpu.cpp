// smoke: 1 50
// idle_cpu SECONDS [MAX_PCT]: after a burst of work, measures the CPU time
// the whole process uses during SECONDS of idleness (workers parked, timer
// thread asleep). Target (GUIDE §4): an idle system uses no CPU. Fails if
// the idle window used more than MAX_PCT percent of one core (default 1; the
// smoke test allows 50, since sanitizer runtimes have busy threads of their
// own, and still catches a spinning worker, which costs 100 per worker).
#include <sys/resource.h>

#include <chrono>
#include <thread>
#include <troupe/troupe.hpp>

#include "bench_util.hpp"

namespace {
struct Poke {};
struct Count {};
class Sink : public troupe::actor<Sink> {
 public:
  void on(Poke /*unused*/) { ++n_; }
  long on(Count /*unused*/) const { return n_; }

 private:
  long n_ = 0;
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto tv = [](timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}
}  // namespace

int main(int argc, char** argv) {
  const long seconds = bench::arg(argc, argv, 1, 5);
  const long max_pct = bench::arg(argc, argv, 2, 1);
  troupe::system sys(troupe::system_config{bench::threads()});
  // A burst, so the workers have been busy and then go idle.
  std::vector<troupe::ref<Sink>> sinks;
  for (int i = 0; i < 100; ++i) sinks.push_back(sys.spawn<Sink>());
  for (int k = 0; k < 1000; ++k) {
    for (auto& s : sinks) s.send(Poke{});
  }
  long total = 0;
  for (auto& s : sinks) total += s.ask(Count{}).get();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // bounded spinning ends
  const double cpu0 = cpu_seconds();
  bench::stopwatch sw;
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double idle_cpu = cpu_seconds() - cpu0;
  const double wall = sw.seconds();
  const bool ok = total == 100000 && idle_cpu <= static_cast<double>(max_pct) / 100.0 * wall;
  return bench::report("idle_cpu", seconds, {}, wall, 0, ok,
                       {{"idle_cpu_s", idle_cpu}, {"cpu_share_pct", 100.0 * idle_cpu / wall}});
}
