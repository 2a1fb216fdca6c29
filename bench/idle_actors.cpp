// smoke: 1000
// idle_actors N: spawns N idle actors (one int of state each) and reports the
// resident memory they cost, per actor. Target (GUIDE §4): at most 256 bytes.
#include <troupe/troupe.hpp>
#include <vector>

#include "bench_util.hpp"

namespace {
struct Poke {};
class Idle : public troupe::actor<Idle> {
 public:
  void on(Poke /*unused*/) { ++n_; }

 private:
  int n_ = 0;
};
}  // namespace

int main(int argc, char** argv) {
  const long n = bench::arg(argc, argv, 1, 1000000);
  troupe::system sys(troupe::system_config{bench::threads()});
  std::vector<troupe::ref<Idle>> refs;
  refs.reserve(static_cast<std::size_t>(n));
  const long rss0 = bench::rss_kb();
  bench::stopwatch sw;
  for (long i = 0; i < n; ++i) refs.push_back(sys.spawn<Idle>());
  const double t = sw.seconds();
  const long rss1 = bench::rss_kb();
  // Includes the 8-byte ref per actor that this program keeps (the vector's
  // pages become resident as it fills).
  const double per_actor = static_cast<double>(rss1 - rss0) * 1024.0 / static_cast<double>(n);
  const bool ok = sys.stats().live_actors == static_cast<std::size_t>(n);
  return bench::report("idle_actors", n, {}, t, static_cast<double>(n), ok,
                       {{"bytes_per_actor", per_actor}, {"rss_kb", static_cast<double>(rss1)}});
}
