// Supervision on the thread pool, under load ([stress]: run under TSan/ASan).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "supervision_util.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

struct Item {
  int sender;
  int seq;
  bool crash;
};
struct Report {};

/// What every incarnation handled, shared across incarnations.
struct Ledger {
  std::mutex mu;
  std::vector<std::vector<int>> seen = std::vector<std::vector<int>>(4);  // guarded by mu
};

class Flaky : public troupe::actor<Flaky> {
 public:
  explicit Flaky(Ledger* l) : l_(l) {}
  void on(Item m) {
    if (m.crash) throw std::runtime_error("flaky");
    std::lock_guard lk(l_->mu);
    l_->seen[static_cast<std::size_t>(m.sender)].push_back(m.seq);
  }
  int on(Report /*unused*/) { return 0; }

 private:
  Ledger* l_;
};

}  // namespace

TEST_CASE("concurrent senders lose nothing across one_for_one restarts but the crashing messages",
          "[supervisor][stress]") {
  for (unsigned workers : troupe::test::kWorkerSweep) {
    Ledger ledger;
    troupe::system sys(troupe::system_config{workers});
    troupe::supervisor_options o;
    o.max_restarts = 100000;
    auto sup = sys.spawn<troupe::supervisor>(o);
    auto f = troupe::start_child<Flaky>(sup, {}, &ledger);
    constexpr int kPer = 3000;
    std::vector<std::thread> ts;
    for (int s = 0; s < 4; ++s) {
      ts.emplace_back([f, s] {
        for (int i = 0; i < kPer; ++i) f.send(Item{s, i, i % 97 == 13});
      });
    }
    for (auto& t : ts) t.join();
    f.ask(Report{}).get(30s);  // behind every Item of this thread... and of the others:
    REQUIRE(troupe::test::eventually([&] {
      std::lock_guard lk(ledger.mu);
      std::size_t n = 0;
      for (auto& v : ledger.seen) n += v.size();
      return n + sys.stats().dead_letters_by_reason.crashed == 4U * kPer;
    }));
    CAPTURE(workers);
    const auto st = sys.stats();
    std::lock_guard lk(ledger.mu);
    int crashes = 0;
    for (int i = 0; i < kPer; ++i) crashes += (i % 97 == 13) ? 1 : 0;
    REQUIRE(st.dead_letters_by_reason.crashed == 4U * static_cast<unsigned>(crashes));
    REQUIRE(st.restarts == st.dead_letters_by_reason.crashed);
    REQUIRE(st.dead_letters == st.dead_letters_by_reason.crashed);
    for (int s = 0; s < 4; ++s) {
      std::vector<int> want;
      for (int i = 0; i < kPer; ++i) {
        if (i % 97 != 13) want.push_back(i);
      }
      REQUIRE(ledger.seen[static_cast<std::size_t>(s)] == want);  // all, in order
    }
  }
}

TEST_CASE("one_for_all restarts racing with traffic and shutdown never hang",
          "[supervisor][stress]") {
  for (unsigned workers : {1U, 2U, 3U, 7U}) {
    for (int round = 0; round < 10; ++round) {
      Ledger ledger;
      troupe::system sys(troupe::system_config{workers});
      troupe::supervisor_options o;
      o.strategy = round % 2 == 0 ? troupe::strategy::one_for_all : troupe::strategy::rest_for_one;
      o.max_restarts = 1000000;
      auto sup = sys.spawn<troupe::supervisor>(o);
      // The senders flood the children during the whole shutdown, so a
      // graceful stop (after what is queued) may not finish: each child is
      // killed after its (short) timeout. Bounded mailboxes hold the
      // senders back (an unbounded flood would only measure how long it
      // takes to free millions of queued messages).
      troupe::child_options co;
      co.shutdown = 20ms;
      co.spawn = troupe::bounded(256, troupe::overflow::block);
      std::vector<troupe::ref<Flaky>> kids;
      for (int k = 0; k < 4; ++k) kids.push_back(troupe::start_child<Flaky>(sup, co, &ledger));
      std::atomic<bool> go{true};
      std::vector<std::thread> ts;
      for (int s = 0; s < 3; ++s) {
        ts.emplace_back([&, s] {
          int i = 0;
          while (go.load()) {
            kids[static_cast<std::size_t>(i % 4)].send(Item{s, i, i % 50 == 7});
            ++i;
          }
        });
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + round));
      const auto t0 = std::chrono::steady_clock::now();
      const auto report =
          sys.shutdown(round % 3 == 0 ? troupe::shutdown_mode::now : troupe::shutdown_mode::drain);
      const auto took = std::chrono::steady_clock::now() - t0;
      go.store(false);
      for (auto& t : ts) t.join();
      CAPTURE(workers, round);
      REQUIRE(report.actors_stopped == 5);
      REQUIRE(sys.stats().live_actors == 0);
      REQUIRE(took < 10s);  // 4 x 20 ms of timeouts, plus the handlers in progress
      for (auto& k : kids) REQUIRE(k.terminated());
    }
  }
}

TEST_CASE("children added while their supervisor is killed always terminate",
          "[supervisor][stress]") {
  troupe::system sys(troupe::system_config{3});
  for (int round = 0; round < 100; ++round) {
    auto sup = sys.spawn<troupe::supervisor>();
    std::vector<troupe::ref<troupe::test::Target>> kids;
    std::thread killer([sup, round] {
      std::this_thread::sleep_for(std::chrono::microseconds(round % 20));
      sup.kill();
    });
    for (int k = 0; k < 10; ++k) {
      kids.push_back(troupe::start_child<troupe::test::Target>(sup, {}));
    }
    killer.join();
    CAPTURE(round);
    REQUIRE(troupe::test::eventually([&] {
      for (auto& k : kids) {
        if (!k.terminated()) return false;
      }
      return sup.terminated();
    }));
  }
  REQUIRE(troupe::test::eventually([&] { return sys.stats().live_actors == 0; }));
}
