#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {
struct Ball {
  long hits;
};
class Player;
struct Partner {
  troupe::ref<Player> p;
};
// Each ball received is sent back twice: the traffic grows without bound.
class Player : public troupe::actor<Player> {
 public:
  void on(Partner p) { other_ = p.p; }
  void on(Ball b) {
    if (other_) {
      other_.send(Ball{b.hits + 1});
      other_.send(Ball{b.hits + 1});
    }
  }

 private:
  troupe::ref<Player> other_;
};
struct Add {};
struct Total {};
class Sum : public troupe::actor<Sum> {
 public:
  void on(Add /*unused*/) { ++n_; }
  long on(Total /*unused*/) const { return n_; }

 private:
  long n_ = 0;
};
}  // namespace

TEST_CASE("shutdown drains mailboxes by default", "[shutdown]") {
  troupe::system sys(troupe::system_config{2});
  std::vector<troupe::ref<Sum>> sums;
  for (int i = 0; i < 10; ++i) sums.push_back(sys.spawn<Sum>());
  for (int k = 0; k < 1000; ++k) {
    for (auto& s : sums) s.send(Add{});
  }
  const auto report = sys.shutdown();
  REQUIRE(report.actors_stopped == 10);
  REQUIRE(report.undelivered == 0);
  REQUIRE(report.clean());
  REQUIRE(sys.stats().messages_processed == 10000);
  REQUIRE(sys.stats().live_actors == 0);
}

TEST_CASE("shutdown now drops queued messages and reports them", "[shutdown]") {
  struct Slow {};
  class Sleeper : public troupe::actor<Sleeper> {
   public:
    void on(Slow /*unused*/) { std::this_thread::sleep_for(2ms); }
  };
  troupe::system sys(troupe::system_config{1});
  auto s = sys.spawn<Sleeper>();
  for (int i = 0; i < 500; ++i) s.send(Slow{});
  std::this_thread::sleep_for(10ms);
  const auto t0 = std::chrono::steady_clock::now();
  const auto report = sys.shutdown(troupe::shutdown_mode::now);
  REQUIRE(std::chrono::steady_clock::now() - t0 < 500ms);
  REQUIRE(report.undelivered > 0);
  REQUIRE_FALSE(report.clean());
  REQUIRE(report.to_string().find("undelivered") != std::string::npos);
}

TEST_CASE("shutdown completes during ping-pong storms", "[shutdown]") {
  for (unsigned workers : troupe::test::kWorkerSweep) {
    for (auto mode : {troupe::shutdown_mode::drain, troupe::shutdown_mode::now}) {
      troupe::system sys(troupe::system_config{workers});
      for (int pair = 0; pair < 8; ++pair) {
        auto a = sys.spawn<Player>();
        auto b = sys.spawn<Player>();
        a.send(Partner{b});
        b.send(Partner{a});
        a.send(Ball{0});
      }
      std::this_thread::sleep_for(20ms);
      const auto report = sys.shutdown(mode);
      CAPTURE(workers);
      REQUIRE(report.actors_stopped == 16);
      REQUIRE(report.undelivered > 0);  // the storm never ends by itself
      REQUIRE(sys.stats().live_actors == 0);
    }
  }
}

TEST_CASE("spawn after shutdown fails with system_shutdown", "[shutdown]") {
  troupe::system sys;
  sys.shutdown();
  try {
    sys.spawn<Sum>();
    FAIL("no exception");
  } catch (const troupe::error& e) {
    REQUIRE(e.value() == troupe::errc::system_shutdown);
  }
  REQUIRE_THROWS_AS(sys.send_after(troupe::ref<Sum>{}, 1ms, Add{}), troupe::error);
}

TEST_CASE("shutdown is idempotent and reports pending timers", "[shutdown]") {
  troupe::system sys;
  auto s = sys.spawn<Sum>();
  sys.send_after(s, 1h, Add{});
  const auto first = sys.shutdown();
  REQUIRE(first.timers_cancelled == 1);
  const auto second = sys.shutdown();
  REQUIRE(second.timers_cancelled == 1);
  REQUIRE(second.actors_stopped == first.actors_stopped);
}

TEST_CASE("refs outliving the system stay safe to use", "[shutdown]") {
  troupe::ref<Sum> kept;
  {
    troupe::system sys;
    kept = sys.spawn<Sum>();
  }
  REQUIRE(kept.terminated());
  REQUIRE(kept.send(Add{}) == troupe::send_result::closed);
  REQUIRE_THROWS_AS(kept.ask(Total{}).get(), troupe::error);
}

TEST_CASE("shutdown from inside an actor is refused", "[shutdown]") {
  struct Quit {};
  class Quitter : public troupe::actor<Quitter> {
   public:
    bool on(Quit /*unused*/) {
      try {
        system().shutdown();
        return false;
      } catch (const troupe::error& e) {
        return e.value() == troupe::errc::would_block_worker;
      }
    }
  };
  troupe::system sys;
  REQUIRE(sys.spawn<Quitter>().ask(Quit{}).get(5s));
  // A detached actor's own thread is refused too (it would wait for itself).
  REQUIRE(sys.spawn<Quitter>(troupe::detached).ask(Quit{}).get(5s));
}

TEST_CASE("an idle actor is stopped by shutdown and its on_stop runs", "[shutdown]") {
  std::atomic<int> stopped{0};
  class Idle : public troupe::actor<Idle> {
   public:
    explicit Idle(std::atomic<int>* s) : s_(s) {}
    void on(Add /*unused*/) {}
    void on_stop() { s_->fetch_add(1); }

   private:
    std::atomic<int>* s_;
  };
  {
    troupe::system sys;
    for (int i = 0; i < 100; ++i) sys.spawn<Idle>(&stopped);
  }
  REQUIRE(stopped.load() == 100);
}
