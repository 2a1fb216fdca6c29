#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {
struct Tick {
  int n;
};
struct Log {};
class Recorder : public troupe::actor<Recorder> {
 public:
  void on(Tick t) { seen_.push_back(t.n); }
  std::vector<int> on(Log /*unused*/) const { return seen_; }

 private:
  std::vector<int> seen_;
};
}  // namespace

TEST_CASE("send_after timers fire in deadline order", "[timers]") {
  troupe::system sys(troupe::system_config{2});
  auto r = sys.spawn<Recorder>();
  sys.send_after(r, 60ms, Tick{3});
  sys.send_after(r, 20ms, Tick{1});
  sys.send_after(r, 40ms, Tick{2});
  sys.send_after(r, 40ms, Tick{22});  // same deadline: in the order they were set
  REQUIRE(troupe::test::eventually([&] { return r.ask(Log{}).get(5s).size() == 4; }));
  REQUIRE(r.ask(Log{}).get(5s) == std::vector<int>{1, 2, 22, 3});
}

TEST_CASE("a send_after does not fire early", "[timers]") {
  troupe::system sys;
  auto r = sys.spawn<Recorder>();
  const auto t0 = std::chrono::steady_clock::now();
  sys.send_after(r, 50ms, Tick{1});
  REQUIRE(troupe::test::eventually([&] { return !r.ask(Log{}).get(5s).empty(); }));
  REQUIRE(std::chrono::steady_clock::now() - t0 >= 50ms);
}

TEST_CASE("a cancelled timer never fires", "[timers]") {
  troupe::system sys;
  auto r = sys.spawn<Recorder>();
  auto t = sys.send_after(r, 30ms, Tick{1});
  REQUIRE(t.active());
  t.cancel();
  REQUIRE_FALSE(t.active());
  sys.send_after(r, 60ms, Tick{2});
  REQUIRE(troupe::test::eventually([&] { return !r.ask(Log{}).get(5s).empty(); }));
  REQUIRE(r.ask(Log{}).get(5s) == std::vector<int>{2});
}

TEST_CASE("send_every repeats until cancelled", "[timers]") {
  troupe::system sys;
  auto r = sys.spawn<Recorder>();
  auto t = sys.send_every(r, 5ms, Tick{7});
  REQUIRE(troupe::test::eventually([&] { return r.ask(Log{}).get(5s).size() >= 5; }));
  t.cancel();
  // Every send the timer made happened before cancel() returned, so it is
  // queued ahead of this ask: the count is final.
  const auto n = r.ask(Log{}).get(5s).size();
  std::this_thread::sleep_for(40ms);
  REQUIRE(r.ask(Log{}).get(5s).size() == n);
  REQUIRE_FALSE(t.active());
}

TEST_CASE("a periodic timer stops when its target terminates", "[timers]") {
  troupe::system sys;
  auto r = sys.spawn<Recorder>();
  auto t = sys.send_every(r, 2ms, Tick{1});
  r.stop();
  REQUIRE(troupe::test::eventually([&] { return !t.active(); }));
}

TEST_CASE("an actor sets timers to itself", "[timers]") {
  struct Arm {};
  struct Fired {};
  struct Count {};
  class Self : public troupe::actor<Self> {
   public:
    void on(Arm /*unused*/) {
      send_after(5ms, Fired{});
      periodic_ = send_every(3ms, Fired{});
    }
    void on(Fired /*unused*/) {
      if (++n_ == 5) periodic_.cancel();
    }
    int on(Count /*unused*/) const { return n_; }

   private:
    int n_ = 0;
    troupe::timer periodic_;
  };
  troupe::system sys;
  auto s = sys.spawn<Self>();
  s.send(Arm{});
  REQUIRE(troupe::test::eventually([&] { return s.ask(Count{}).get(5s) >= 5; }));
  // The actor cancelled inside its 5th Fired handler; every firing before
  // that is queued ahead of this ask, so the count is final.
  const int n = s.ask(Count{}).get(5s);
  std::this_thread::sleep_for(30ms);
  REQUIRE(s.ask(Count{}).get(5s) == n);
}

TEST_CASE("send_every rejects a non-positive period", "[timers]") {
  troupe::system sys;
  auto r = sys.spawn<Recorder>();
  REQUIRE_THROWS_AS(sys.send_every(r, 0ms, Tick{1}), troupe::error);
}

namespace {
std::atomic<int> g_tick_copies{0};
struct CountedTick {
  CountedTick() = default;
  CountedTick(const CountedTick& /*unused*/) { g_tick_copies.fetch_add(1); }
  CountedTick(CountedTick&&) noexcept = default;
  CountedTick& operator=(const CountedTick&) = default;
  CountedTick& operator=(CountedTick&&) noexcept = default;
  ~CountedTick() = default;
};
struct Hold {
  std::atomic<bool>* gate;
};
struct Count {};
class Gated : public troupe::actor<Gated> {
 public:
  void on(Hold h) {
    while (!h.gate->load()) std::this_thread::yield();
  }
  void on(CountedTick /*unused*/) { ++ticks_; }
  void on(Tick /*unused*/) { ++ticks_; }
  [[nodiscard]] int on(Count /*unused*/) const { return ticks_; }

 private:
  int ticks_ = 0;
};
}  // namespace

TEST_CASE("a tick already queued when cancel() returns is never handled", "[timers]") {
  troupe::system sys(troupe::system_config{2});
  std::atomic<bool> gate{false};
  auto r = sys.spawn<Gated>();
  r.send(Hold{&gate});  // keeps the actor busy while ticks queue behind it
  SECTION("send_after") {
    auto t = sys.send_after(r, 1ms, Tick{1});
    // A one-shot timer is inactive once it fired: its tick is in the mailbox.
    REQUIRE(troupe::test::eventually([&] { return !t.active(); }));
    t.cancel();
  }
  SECTION("send_every") {
    g_tick_copies.store(0);
    auto t = sys.send_every(r, 1ms, CountedTick{});
    // Each tick is a copy of the message: three copies, three ticks queued.
    REQUIRE(troupe::test::eventually([] { return g_tick_copies.load() >= 3; }));
    t.cancel();
  }
  gate.store(true);
  REQUIRE(r.ask(Count{}).get(10s) == 0);
}

TEST_CASE("send_after and send_every refuse an empty ref", "[timers]") {
  troupe::system sys;
  troupe::ref<Recorder> none;
  auto code = [](auto f) {
    try {
      f();
    } catch (const troupe::error& e) {
      return e.value();
    }
    return troupe::errc{};
  };
  REQUIRE(code([&] { sys.send_after(none, 1ms, Tick{1}); }) == troupe::errc::invalid_argument);
  REQUIRE(code([&] { sys.send_every(none, 1ms, Tick{1}); }) == troupe::errc::invalid_argument);
}
