// smoke: 1000 10
// skynet N FANOUT: a tree of actors with N leaves; each node spawns FANOUT
// children until size 1, leaves report their number, parents sum. Checks the
// sum N(N-1)/2 and reports peak memory per actor.
#include <memory>
#include <troupe/troupe.hpp>

#include "bench_util.hpp"

namespace {
struct Result {
  long v;
};
class Node : public troupe::actor<Node> {
 public:
  Node(troupe::ref<Node> parent, long num, long size, long fanout,
       std::shared_ptr<troupe::promise<long>> root)
      : parent_(std::move(parent)),
        num_(num),
        size_(size),
        fanout_(fanout),
        root_(std::move(root)) {}
  void on_start() {
    if (size_ == 1) {
      report(num_);
      return;
    }
    const long sub = size_ / fanout_;
    for (long i = 0; i < fanout_; ++i) {
      system().spawn<Node>(self(), num_ + i * sub, sub, fanout_, nullptr);
    }
  }
  void on(Result r) {
    sum_ += r.v;
    if (++got_ == fanout_) report(sum_);
  }

 private:
  void report(long v) {
    if (root_ != nullptr) {
      root_->set_value(v);
    } else {
      parent_.send(Result{v});
    }
    stop();
  }
  troupe::ref<Node> parent_;
  long num_, size_, fanout_;
  std::shared_ptr<troupe::promise<long>> root_;  // the root's only; outlives set_value()
  long sum_ = 0;
  long got_ = 0;
};
}  // namespace

int main(int argc, char** argv) {
  const long n = bench::arg(argc, argv, 1, 1000000);
  const long fanout = bench::arg(argc, argv, 2, 10);
  long leaves = 1;
  long actors = 1;
  while (leaves < n) {
    leaves *= fanout;
    actors += leaves;
  }
  if (leaves != n) {
    std::fprintf(stderr, "skynet: N must be a power of FANOUT\n");
    return 2;
  }
  const long rss0 = bench::rss_kb();
  troupe::system sys(troupe::system_config{bench::threads()});
  auto root = std::make_shared<troupe::promise<long>>();
  auto result = root->get_future();
  bench::stopwatch sw;
  sys.spawn<Node>(troupe::ref<Node>{}, 0, n, fanout, root);
  const long sum = result.get();
  const double t = sw.seconds();
  const long peak = bench::peak_rss_kb();
  const double bytes_per_actor =
      static_cast<double>(peak - rss0) * 1024.0 / static_cast<double>(actors);
  // Messages: one Result per non-root actor.
  return bench::report("skynet", n, {{"fanout", static_cast<double>(fanout)}}, t,
                       static_cast<double>(actors - 1), sum == n * (n - 1) / 2,
                       {{"actors", static_cast<double>(actors)},
                        {"peak_rss_kb", static_cast<double>(peak)},
                        {"bytes_per_actor", bytes_per_actor}});
}
