// troupe::test_system: one thread, virtual time, seeded order.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <troupe/troupe.hpp>
#include <vector>

#include "supervision_util.hpp"

using namespace std::chrono_literals;
using troupe::test::settle;

namespace {

struct Hit {
  int from;
};
struct Log {};
struct Go {
  int n;
};

/// Records the order in which messages from several senders arrive.
class Recorder : public troupe::actor<Recorder> {
 public:
  void on(Hit h) { order_.push_back(h.from); }
  [[nodiscard]] std::vector<int> on(Log /*unused*/) const { return order_; }

 private:
  std::vector<int> order_;
};

class Sender : public troupe::actor<Sender> {
 public:
  Sender(int id, troupe::ref<Recorder> to) : id_(id), to_(std::move(to)) {}
  void on(Go g) {
    to_.send(Hit{id_});
    if (g.n > 1) self().send(Go{g.n - 1});
  }

 private:
  int id_;
  troupe::ref<Recorder> to_;
};

struct Run {
  std::uint64_t hash;
  std::vector<int> order;
};

Run run(std::uint64_t seed) {
  troupe::test_system sys(seed);
  auto r = sys.spawn<Recorder>();
  std::vector<troupe::ref<Sender>> senders;
  for (int i = 0; i < 4; ++i) senders.push_back(sys.spawn<Sender>(i, r));
  for (auto& s : senders) s.send(Go{5});
  sys.run_until_idle();
  return Run{sys.trace_hash(), settle(sys, r.ask(Log{}))};
}

}  // namespace

TEST_CASE("the same seed gives the same trace, every time", "[test_system]") {
  const Run first = run(42);
  std::set<std::uint64_t> hashes;
  for (int i = 0; i < 100; ++i) {
    const Run again = run(42);
    hashes.insert(again.hash);
    REQUIRE(again.order == first.order);
  }
  REQUIRE(hashes.size() == 1);
  REQUIRE(*hashes.begin() == first.hash);
}

TEST_CASE("different seeds explore different interleavings", "[test_system]") {
  std::set<std::vector<int>> orders;
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const Run r = run(seed);
    orders.insert(r.order);
    hashes.insert(r.hash);
    // Each sender's own messages stay in order whatever the interleaving.
    REQUIRE(r.order.size() == 20);
  }
  REQUIRE(orders.size() > 10);
  REQUIRE(hashes.size() > 10);
}

TEST_CASE("nothing runs until the test drives the system", "[test_system]") {
  troupe::test_system sys(1);
  REQUIRE(sys.workers() == 0);
  auto r = sys.spawn<Recorder>();
  r.send(Hit{1});
  REQUIRE(sys.ready() == 1);
  auto f = r.ask(Log{});
  REQUIRE_FALSE(f.ready());
  REQUIRE(sys.step());
  REQUIRE(sys.run_until_idle() >= 1);
  REQUIRE(f.ready());
  REQUIRE(f.get() == std::vector<int>{1});
  REQUIRE_FALSE(sys.step());
}

TEST_CASE("advance fires timers in deadline order on virtual time", "[test_system]") {
  troupe::test_system sys(2);
  auto r = sys.spawn<Recorder>();
  const auto t0 = sys.now();
  sys.send_after(r, 30s, Hit{3});
  sys.send_after(r, 10s, Hit{1});
  sys.send_after(r, 20s, Hit{2});
  auto tick = sys.send_every(r, 25s, Hit{9});
  sys.advance(15s);
  REQUIRE(settle(sys, r.ask(Log{})) == std::vector<int>{1});
  sys.advance(15s);
  REQUIRE(settle(sys, r.ask(Log{})) == std::vector<int>{1, 2, 9, 3});
  sys.advance(20s);  // 50 s: the periodic one fired again
  REQUIRE(settle(sys, r.ask(Log{})) == std::vector<int>{1, 2, 9, 3, 9});
  tick.cancel();
  REQUIRE(sys.now() - t0 == 50s);
}

TEST_CASE("a test_system records a readable trace", "[test_system]") {
  troupe::test_system sys(3);
  sys.record_trace(true);
  auto r = sys.spawn<Recorder>();
  r.send(Hit{1});
  sys.run_until_idle();
  REQUIRE(sys.trace().size() == 1);
  REQUIRE(sys.trace()[0].actor == r.id());
  REQUIRE(std::string(sys.trace()[0].message_type).find("Hit") != std::string::npos);
  REQUIRE(std::string(sys.trace()[0].actor_type).find("Recorder") != std::string::npos);
  REQUIRE(sys.steps() == 1);
}

TEST_CASE("a test_system shuts down by running itself out, timers included", "[test_system]") {
  troupe::shutdown_report report;
  {
    troupe::test_system sys(4);
    auto sup = sys.spawn<troupe::supervisor>();
    for (int i = 0; i < 3; ++i) troupe::start_child<Recorder>(sup, {});
    auto r = sys.spawn<Recorder>();
    sys.send_after(r, 1h, Hit{1});
    report = sys.shutdown();
    REQUIRE(sys.stats().live_actors == 0);
  }
  REQUIRE(report.actors_stopped == 5);
  REQUIRE(report.timers_cancelled == 1);
}
