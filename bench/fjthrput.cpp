// smoke: 1000 8
// fjthrput N ACTORS: fork-join throughput. A driver sends N messages to each
// of ACTORS actors (round-robin); each message costs a sin() and an add.
// Each actor then reports its count and accumulator; checks every count == N
// and the accumulated sum. BENCH_FLAVOUR=bounded runs Go's shape of the same
// program: mailboxes bounded to 1024 (overflow::block) and a coroutine
// driver whose `co_await send` waits for room instead of running ahead.
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <troupe/troupe.hpp>
#include <utility>
#include <vector>

#include "bench_util.hpp"

namespace {
struct Work {
  double theta;
};
struct Result {
  long count;
  double acc;
};
struct Collect {
  std::shared_ptr<troupe::promise<Result>> out;  // outlives set_value()
};
class Worker : public troupe::actor<Worker> {
 public:
  void on(Work w) {
    const double s = std::sin(w.theta);
    acc_ += s * s;
    ++count_;
  }
  void on(Collect c) { c.out->set_value(Result{count_, acc_}); }

 private:
  long count_ = 0;
  double acc_ = 0;
};
struct Drive {
  long n;
  std::vector<troupe::ref<Worker>>* workers;
  std::vector<std::shared_ptr<troupe::promise<Result>>>* results;
};
class Driver : public troupe::actor<Driver> {
 public:
  void on(Drive d) {
    for (long i = 0; i < d.n; ++i) {
      for (auto& w : *d.workers) w.send(Work{37.2});
    }
    for (std::size_t i = 0; i < d.workers->size(); ++i) {
      (*d.workers)[i].send(Collect{(*d.results)[i]});
    }
  }
};
// The same driver with back-pressure: every send waits (suspends, never
// blocks the worker) while the worker's bounded mailbox is full.
class BoundedDriver : public troupe::actor<BoundedDriver> {
 public:
  troupe::task<void> on(Drive d) {
    for (long i = 0; i < d.n; ++i) {
      for (auto& w : *d.workers) co_await w.send(Work{37.2});
    }
    for (std::size_t i = 0; i < d.workers->size(); ++i) {
      // A named message, not a temporary: g++ 12 destroys an aggregate
      // temporary with a non-trivial member (the shared_ptr) twice when it
      // is made inside a co_await expression (see docs/design.md, "Known
      // compiler faults").
      Collect c{(*d.results)[i]};
      co_await (*d.workers)[i].send(std::move(c));
    }
  }
};
}  // namespace

int main(int argc, char** argv) {
  const long n = bench::arg(argc, argv, 1, 100000);
  const long actors = bench::arg(argc, argv, 2, 60);
  troupe::system sys(troupe::system_config{bench::threads()});
  std::vector<troupe::ref<Worker>> workers;
  std::vector<std::shared_ptr<troupe::promise<Result>>> results;
  std::vector<troupe::future<Result>> futures;
  for (long i = 0; i < actors; ++i) {
    results.push_back(std::make_shared<troupe::promise<Result>>());
    futures.push_back(results.back()->get_future());
  }
  const char* fl = std::getenv("BENCH_FLAVOUR");  // NOLINT(concurrency-mt-unsafe)
  const bool bounded = fl != nullptr && std::string(fl) == "bounded";
  for (long i = 0; i < actors; ++i) {
    workers.push_back(bounded ? sys.spawn<Worker>(troupe::bounded(1024, troupe::overflow::block))
                              : sys.spawn<Worker>());
  }
  bench::stopwatch sw;
  if (bounded) {
    sys.spawn<BoundedDriver>().send(Drive{n, &workers, &results});
  } else {
    sys.spawn<Driver>().send(Drive{n, &workers, &results});
  }
  bool ok = true;
  double sum = 0;
  for (auto& f : futures) {
    const Result r = f.get();
    ok = ok && r.count == n;
    sum += r.acc;
  }
  const double t = sw.seconds();
  const double s = std::sin(37.2);
  const double expect = static_cast<double>(n * actors) * s * s;
  ok = ok && std::fabs(sum - expect) < 1e-6 * expect + 1e-9;
  std::vector<std::pair<std::string, double>> params{{"actors", static_cast<double>(actors)}};
  if (bounded) params.emplace_back("mailbox_capacity", 1024);
  return bench::report("fjthrput", n, params, t, static_cast<double>(n * actors), ok);
}
