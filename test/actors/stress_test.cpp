// Stress tests: run under TSan and ASan by the test command ([stress] label).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <random>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {
struct Hop {
  int left;
};
class Relay : public troupe::actor<Relay> {
 public:
  explicit Relay(std::atomic<long>* done) : done_(done) {}
  void on(troupe::ref<Relay> next) { next_ = next; }
  void on(Hop h) {
    if (h.left == 0) {
      done_->fetch_add(1);
    } else {
      next_.send(Hop{h.left - 1});
    }
  }

 private:
  std::atomic<long>* done_;
  troupe::ref<Relay> next_;
};
struct Poke {};
struct Count {};
class Tally : public troupe::actor<Tally> {
 public:
  void on(Poke /*unused*/) { ++n_; }
  long on(Count /*unused*/) const { return n_; }

 private:
  long n_ = 0;
};
}  // namespace

TEST_CASE("many tokens circling a ring are all delivered", "[actors][stress]") {
  for (unsigned workers : troupe::test::kWorkerSweep) {
    std::atomic<long> done{0};
    troupe::system sys(troupe::system_config{workers});
    constexpr int kRing = 100;
    std::vector<troupe::ref<Relay>> ring;
    for (int i = 0; i < kRing; ++i) ring.push_back(sys.spawn<Relay>(&done));
    for (int i = 0; i < kRing; ++i)
      ring[static_cast<std::size_t>(i)].send(ring[static_cast<std::size_t>((i + 1) % kRing)]);
    constexpr int kTokens = 200;
    for (int t = 0; t < kTokens; ++t) ring[static_cast<std::size_t>(t % kRing)].send(Hop{500});
    CAPTURE(workers);
    REQUIRE(troupe::test::eventually([&] { return done.load() == kTokens; }, 60s));
    REQUIRE(sys.stats().dead_letters == 0);
  }
}

TEST_CASE("senders racing with kill never crash or lose count of messages", "[actors][stress]") {
  troupe::system sys(troupe::system_config{3});
  for (int round = 0; round < 50; ++round) {
    auto t = sys.spawn<Tally>();
    std::atomic<long> ok{0};
    std::atomic<long> dead{0};
    std::vector<std::thread> ts;
    for (int s = 0; s < 3; ++s) {
      ts.emplace_back([&] {
        for (int i = 0; i < 2000; ++i) {
          if (t.send(Poke{}) == troupe::send_result::ok) {
            ok.fetch_add(1);
          } else {
            dead.fetch_add(1);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::microseconds(round * 20));
    t.kill();
    for (auto& th : ts) th.join();
    REQUIRE(troupe::test::eventually([&] { return t.terminated(); }));
    REQUIRE(ok.load() + dead.load() == 6000);
  }
  // Every send was handled, or counted as a dead letter (refused at send
  // time, or dropped from the mailbox by the kill).
  sys.shutdown();
  const auto s = sys.stats();
  REQUIRE(s.messages_processed + s.dead_letters == 50U * 6000U);
}

TEST_CASE("accepted messages are handled or counted, never lost", "[actors][stress]") {
  troupe::system sys(troupe::system_config{2});
  auto t = sys.spawn<Tally>();
  std::atomic<long> ok{0};
  std::vector<std::thread> ts;
  for (int s = 0; s < 4; ++s) {
    ts.emplace_back([&] {
      for (int i = 0; i < 50000; ++i) {
        if (t.send(Poke{}) == troupe::send_result::ok) ok.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(5ms);
  t.stop();
  for (auto& th : ts) th.join();
  // live_actors drops after the mailbox's leftovers were counted.
  REQUIRE(troupe::test::eventually([&] { return sys.stats().live_actors == 0; }));
  const auto s = sys.stats();
  // Refused sends are dead letters too; accepted ones were handled or
  // dropped (and counted) when the actor stopped.
  REQUIRE(s.messages_processed + s.dead_letters == 200000U);
  REQUIRE(static_cast<long>(s.messages_processed) <= ok.load());
}

TEST_CASE("spawning from many threads while shutting down never hangs", "[actors][stress]") {
  // Detached too: shutdown may stop an actor whose spawn is still linking it.
  const bool detached = GENERATE(false, true);
  INFO("detached: " << detached);
  for (int round = 0; round < 20; ++round) {
    troupe::system sys(troupe::system_config{2});
    std::atomic<bool> go{true};
    std::vector<std::thread> ts;
    for (int s = 0; s < 3; ++s) {
      ts.emplace_back([&] {
        while (go.load()) {
          try {
            (detached ? sys.spawn<Tally>(troupe::detached) : sys.spawn<Tally>()).send(Poke{});
          } catch (const troupe::error& e) {
            if (e.value() == troupe::errc::system_shutdown) break;
            throw;
          }
        }
      });
    }
    std::this_thread::sleep_for(2ms);
    sys.shutdown();
    go.store(false);
    for (auto& th : ts) th.join();
    REQUIRE(sys.stats().live_actors == 0);
  }
}

TEST_CASE("an idle pool parks its workers", "[actors][stress]") {
  troupe::system sys(troupe::system_config{2});
  auto t = sys.spawn<Tally>();
  for (int i = 0; i < 1000; ++i) t.send(Poke{});
  REQUIRE(t.ask(Count{}).get(5s) == 1000);
  std::this_thread::sleep_for(50ms);  // spinning is bounded well below this
  const auto cpu0 = std::clock();
  std::this_thread::sleep_for(300ms);
  const auto used = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  // Two spinning workers would burn ~0.6 s of CPU here.
  REQUIRE(used < 0.05);
}

TEST_CASE("an actor woken from idle by another thread sees its previous run's writes",
          "[actors][stress]") {
  // The actor's state is a plain vector; each message appends to it. Senders
  // on several plain threads pause between sends so the actor goes idle and
  // is woken, and run next, by different threads. Under ThreadSanitizer this
  // checks that waking an idle actor orders its previous run before the next.
  class Appender : public troupe::actor<Appender> {
   public:
    void on(int v) { seen_.push_back(v); }
    std::size_t on(Count /*unused*/) const { return seen_.size(); }

   private:
    std::vector<int> seen_;
  };
  troupe::system sys(troupe::system_config{2});
  auto a = sys.spawn<Appender>();
  std::vector<std::thread> ts;
  for (int s = 0; s < 3; ++s) {
    ts.emplace_back([a, s] {
      for (int i = 0; i < 300; ++i) {
        a.send(s * 1000 + i);
        if (i % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
  }
  for (auto& t : ts) t.join();
  REQUIRE(a.ask(Count{}).get(10s) == 900U);
}

TEST_CASE("refs dropped on other threads while their system is destroyed", "[actors][stress]") {
  // The last reference of each cell is dropped by another thread while
  // ~system unlinks the cells: exactly one of them must unlink each cell,
  // and the system must not go while a cell is unlinking itself.
  for (int round = 0; round < 10; ++round) {
    std::optional<troupe::system> sys(std::in_place, troupe::system_config{2});
    std::vector<troupe::ref<Tally>> refs;
    for (int i = 0; i < 4096; ++i) refs.push_back(sys->spawn<Tally>());
    sys->shutdown();  // every actor has stopped: only the refs keep their cells
    std::atomic<bool> go{false};
    std::thread dropper([&] {
      while (!go.load()) std::this_thread::yield();
      while (!refs.empty()) refs.pop_back();
    });
    go.store(true);
    sys.reset();  // unlinks the cells the dropper has not freed yet
    dropper.join();
  }
}
