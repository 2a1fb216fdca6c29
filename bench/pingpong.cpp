// smoke: 1000
// pingpong N: two actors exchange N round trips (2N messages).
#include <troupe/troupe.hpp>

#include "bench_util.hpp"

namespace {
struct Ball {
  long left;
};
class Ponger;
class Pinger : public troupe::actor<Pinger> {
 public:
  explicit Pinger(troupe::promise<long> done) : done_(std::move(done)) {}
  void on(troupe::ref<Ponger> p) { peer_ = std::move(p); }
  void on(Ball b);

 private:
  troupe::promise<long> done_;
  troupe::ref<Ponger> peer_;
  long rounds_ = 0;
};
class Ponger : public troupe::actor<Ponger> {
 public:
  void on(troupe::ref<Pinger> p) { peer_ = std::move(p); }
  void on(Ball b) { peer_.send(b); }

 private:
  troupe::ref<Pinger> peer_;
};
void Pinger::on(Ball b) {
  ++rounds_;
  if (b.left == 0) {
    done_.set_value(rounds_);
    return;
  }
  peer_.send(Ball{b.left - 1});
}
}  // namespace

int main(int argc, char** argv) {
  const long n = bench::arg(argc, argv, 1, 1000000);
  troupe::system sys(troupe::system_config{bench::threads()});
  troupe::promise<long> done;
  auto result = done.get_future();
  auto ping = sys.spawn<Pinger>(std::move(done));
  auto pong = sys.spawn<Ponger>();
  ping.send(pong);
  pong.send(ping);
  bench::stopwatch sw;
  pong.send(Ball{n - 1});
  const long rounds = result.get();
  const double t = sw.seconds();
  return bench::report("pingpong", n, {}, t, 2.0 * static_cast<double>(n), rounds == n);
}
