// smoke: 10000
// counting N: a producer actor sends N increments to one counting actor, then
// asks for the count (a Report message carrying a promise). Checks count == N.
#include <memory>
#include <troupe/troupe.hpp>

#include "bench_util.hpp"

namespace {
struct Incr {};
struct Report {
  std::shared_ptr<troupe::promise<long>> result;  // outlives set_value()
};
class Counter : public troupe::actor<Counter> {
 public:
  void on(Incr /*unused*/) { ++count_; }
  void on(Report r) { r.result->set_value(count_); }

 private:
  long count_ = 0;
};
struct Produce {
  long n;
  troupe::ref<Counter> to;
  std::shared_ptr<troupe::promise<long>> result;
};
class Producer : public troupe::actor<Producer> {
 public:
  void on(Produce p) {
    for (long i = 0; i < p.n; ++i) p.to.send(Incr{});
    p.to.send(Report{p.result});
  }
};
}  // namespace

int main(int argc, char** argv) {
  const long n = bench::arg(argc, argv, 1, 10000000);
  troupe::system sys(troupe::system_config{bench::threads()});
  auto result = std::make_shared<troupe::promise<long>>();
  auto count = result->get_future();
  auto counter = sys.spawn<Counter>();
  auto producer = sys.spawn<Producer>();
  bench::stopwatch sw;
  producer.send(Produce{n, counter, result});
  const long got = count.get();
  const double t = sw.seconds();
  return bench::report("counting", n, {}, t, static_cast<double>(n), got == n,
                       {{"count", static_cast<double>(got)}});
}
