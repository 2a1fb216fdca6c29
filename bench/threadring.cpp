// smoke: 10000 503
// threadring N RING: RING actors in a ring pass a token N hops. The token
// starts at actor 0 with value N; each hop decrements it and forwards it to
// (i+1) % RING; the actor that receives 0 wins. Checks winner == N % RING.
#include <memory>
#include <troupe/troupe.hpp>
#include <vector>

#include "bench_util.hpp"

namespace {
class Member;
struct Next {
  troupe::ref<Member> next;
};
class Member : public troupe::actor<Member> {
 public:
  Member(long id, std::shared_ptr<troupe::promise<long>> winner)
      : id_(id), winner_(std::move(winner)) {}
  void on(Next n) { next_ = std::move(n.next); }
  void on(long token) {
    if (token == 0) {
      winner_->set_value(id_);
    } else {
      next_.send(token - 1);
    }
  }

 private:
  long id_;
  // Shared: the promise must outlive the set_value() call that completes it.
  std::shared_ptr<troupe::promise<long>> winner_;
  troupe::ref<Member> next_;
};
}  // namespace

int main(int argc, char** argv) {
  const long n = bench::arg(argc, argv, 1, 10000000);
  const long ring = bench::arg(argc, argv, 2, 503);
  troupe::system sys(troupe::system_config{bench::threads()});
  auto winner = std::make_shared<troupe::promise<long>>();
  auto result = winner->get_future();
  std::vector<troupe::ref<Member>> members;
  for (long i = 0; i < ring; ++i) members.push_back(sys.spawn<Member>(i, winner));
  for (long i = 0; i < ring; ++i) {
    members[static_cast<std::size_t>(i)].send(
        Next{members[static_cast<std::size_t>((i + 1) % ring)]});
  }
  bench::stopwatch sw;
  members[0].send(n);
  const long w = result.get();
  const double t = sw.seconds();
  return bench::report("threadring", n, {{"ring", static_cast<double>(ring)}}, t,
                       static_cast<double>(n), w == n % ring, {{"winner", static_cast<double>(w)}});
}
