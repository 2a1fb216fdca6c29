// Monitors, links and trap_exit (troupe/actors/monitor.hpp).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "internal/ext.hpp"
#include "supervision_util.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::test::Boom;
using troupe::test::Downs;
using troupe::test::Exits;
using troupe::test::LinkTo;
using troupe::test::Ping;
using troupe::test::settle;
using troupe::test::Stop;
using troupe::test::Target;
using troupe::test::Trap;
using troupe::test::Unwatch;
using troupe::test::Watch;
using troupe::test::Watcher;

TEST_CASE("a monitor delivers one down naming the actor and the exception", "[monitor]") {
  troupe::test_system sys(1);
  auto t = sys.spawn<Target>();
  auto w = sys.spawn<Watcher>();
  const auto id = settle(sys, w.ask(Watch{t}));
  t.send(Boom{"disk on fire"});
  t.send(Ping{});  // queued behind the failure: a dead letter
  sys.run_until_idle();
  const auto downs = settle(sys, w.ask(Downs{}));
  REQUIRE(downs.size() == 1);
  REQUIRE(downs[0].who == t);
  REQUIRE(downs[0].who.id() == t.id());
  REQUIRE(downs[0].id == id);
  REQUIRE(downs[0].reason.code == troupe::exit_reason::kind::exception);
  REQUIRE(downs[0].reason.exception_type() == "std::runtime_error");
  REQUIRE(downs[0].reason.what.find("disk on fire") != std::string::npos);
  REQUIRE(std::string(downs[0].who.type_name()).find("Target") != std::string::npos);
  REQUIRE(sys.stats().dead_letters_by_reason.crashed == 1);
  REQUIRE(sys.stats().dead_letters_by_reason.actor_dead == 1);
}

TEST_CASE("a down reports normal stops and kills", "[monitor]") {
  troupe::test_system sys(2);
  auto a = sys.spawn<Target>();
  auto b = sys.spawn<Target>();
  auto w = sys.spawn<Watcher>();
  w.send(Watch{a});
  w.send(Watch{b});
  sys.run_until_idle();
  a.send(Stop{});
  b.kill();
  sys.run_until_idle();
  auto downs = settle(sys, w.ask(Downs{}));
  REQUIRE(downs.size() == 2);
  for (const auto& d : downs) {
    if (d.who == a) {
      REQUIRE(d.reason.code == troupe::exit_reason::kind::normal);
      REQUIRE(d.reason.is_normal());
    } else {
      REQUIRE(d.who == b);
      REQUIRE(d.reason.code == troupe::exit_reason::kind::killed);
    }
  }
}

TEST_CASE("a down for an already-dead actor arrives at once, with its reason", "[monitor]") {
  troupe::test_system sys(3);
  auto t = sys.spawn<Target>();
  t.send(Boom{"gone before"});
  sys.run_until_idle();
  REQUIRE(t.terminated());
  auto w = sys.spawn<Watcher>();
  settle(sys, w.ask(Watch{t}));
  const auto downs = settle(sys, w.ask(Downs{}));
  REQUIRE(downs.size() == 1);
  REQUIRE(downs[0].who == t);
  REQUIRE(downs[0].reason.what.find("gone before") != std::string::npos);
}

TEST_CASE("a down for an already-dead actor also arrives on the thread pool", "[monitor]") {
  troupe::system sys(troupe::system_config{2});
  auto t = sys.spawn<Target>();
  t.send(Stop{});
  REQUIRE(troupe::test::eventually([&] { return t.terminated(); }));
  std::atomic<int> n{0};
  auto w = sys.spawn<Watcher>(&n);
  w.ask(Watch{t}).get(5s);
  REQUIRE(troupe::test::eventually([&] { return n.load() == 1; }));
  std::this_thread::sleep_for(20ms);
  REQUIRE(n.load() == 1);
}

TEST_CASE("demonitor: no down is handled after it returns", "[monitor]") {
  troupe::test_system sys(4);
  auto t = sys.spawn<Target>();
  auto w = sys.spawn<Watcher>();
  const auto id = settle(sys, w.ask(Watch{t}));
  REQUIRE(settle(sys, w.ask(Unwatch{id})));
  REQUIRE_FALSE(settle(sys, w.ask(Unwatch{id})));
  t.send(Boom{});
  sys.run_until_idle();
  REQUIRE(settle(sys, w.ask(Downs{})).empty());
}

namespace {
struct KillAndForget {
  troupe::ref<Target> t;
};
struct KillAndUnlink {
  troupe::ref<Target> t;
};
// Makes the watched actor die while this handler runs, so its notice is
// queued behind the handler, then forgets it.
class Forgetter : public troupe::actor<Forgetter> {
 public:
  bool on(KillAndForget k) {
    const auto id = monitor(k.t);
    k.t.kill();
    while (!k.t.terminated()) std::this_thread::yield();
    return demonitor(id);
  }
  bool on(KillAndUnlink k) {
    link(k.t);
    k.t.kill();
    while (!k.t.terminated()) std::this_thread::yield();
    return unlink(k.t);
  }
  void on(troupe::down /*unused*/) { ++downs_; }
  [[nodiscard]] int on(Downs /*unused*/) const { return downs_; }

 private:
  int downs_ = 0;
};
}  // namespace

TEST_CASE("demonitor after the down was queued suppresses it", "[monitor]") {
  troupe::system sys(troupe::system_config{2});
  auto f = sys.spawn<Forgetter>();
  auto t = sys.spawn<Target>();
  REQUIRE(f.ask(KillAndForget{t}).get(5s));  // the down was queued, and is dropped
  std::this_thread::sleep_for(10ms);
  REQUIRE(f.ask(Downs{}).get(5s) == 0);
}

TEST_CASE("unlink stops propagation, also of an exit already queued", "[monitor]") {
  troupe::system sys(troupe::system_config{2});
  auto f = sys.spawn<Forgetter>();
  auto t = sys.spawn<Target>();
  REQUIRE(f.ask(KillAndUnlink{t}).get(5s));
  std::this_thread::sleep_for(10ms);
  REQUIRE_FALSE(f.terminated());
  REQUIRE(f.ask(Downs{}).get(5s) == 0);
}

TEST_CASE("several monitors on one actor each fire once", "[monitor]") {
  troupe::test_system sys(6);
  auto t = sys.spawn<Target>();
  std::vector<troupe::ref<Watcher>> ws;
  for (int i = 0; i < 5; ++i) ws.push_back(sys.spawn<Watcher>());
  for (auto& w : ws) {
    w.send(Watch{t});
    w.send(Watch{t});  // two monitors from the same watcher: two downs
  }
  sys.run_until_idle();
  t.kill();
  sys.run_until_idle();
  for (auto& w : ws) REQUIRE(settle(sys, w.ask(Downs{})).size() == 2);
}

TEST_CASE("an abnormal exit propagates across a link", "[monitor]") {
  troupe::test_system sys(7);
  auto a = sys.spawn<Target>();
  auto b = sys.spawn<Target>();
  auto w = sys.spawn<Watcher>();
  w.send(Watch{a});
  a.send(LinkTo{b});
  sys.run_until_idle();
  b.send(Boom{"b failed"});
  sys.run_until_idle();
  REQUIRE(a.terminated());
  const auto downs = settle(sys, w.ask(Downs{}));
  REQUIRE(downs.size() == 1);
  REQUIRE(downs[0].reason.code == troupe::exit_reason::kind::linked);
  REQUIRE(downs[0].reason.what.find("b failed") != std::string::npos);
  REQUIRE_FALSE(downs[0].reason.is_normal());
}

TEST_CASE("links are bidirectional", "[monitor]") {
  troupe::test_system sys(8);
  auto a = sys.spawn<Target>();
  auto b = sys.spawn<Target>();
  a.send(LinkTo{b});
  sys.run_until_idle();
  a.send(Boom{});  // the one that linked fails: the other goes too
  sys.run_until_idle();
  REQUIRE(a.terminated());
  REQUIRE(b.terminated());
}

TEST_CASE("a normal exit does not propagate across a link", "[monitor]") {
  troupe::test_system sys(9);
  auto a = sys.spawn<Target>();
  auto b = sys.spawn<Target>();
  a.send(LinkTo{b});
  sys.run_until_idle();
  b.send(Stop{});
  sys.run_until_idle();
  REQUIRE(b.terminated());
  REQUIRE_FALSE(a.terminated());
}

TEST_CASE("an actor that traps exits gets exit_msg instead of dying", "[monitor]") {
  troupe::test_system sys(10);
  auto w = sys.spawn<Watcher>();
  auto b = sys.spawn<Target>();
  auto c = sys.spawn<Target>();
  w.send(Trap{true});
  w.send(LinkTo{b});
  w.send(LinkTo{c});
  sys.run_until_idle();
  b.send(Boom{"trapped"});
  c.send(Stop{});  // a normal exit is delivered to a trapping actor too
  sys.run_until_idle();
  REQUIRE_FALSE(w.terminated());
  const auto exits = settle(sys, w.ask(Exits{}));
  REQUIRE(exits.size() == 2);
  int abnormal = 0;
  for (const auto& e : exits) {
    if (e.from == b) {
      ++abnormal;
      REQUIRE(e.reason.code == troupe::exit_reason::kind::exception);
      REQUIRE(e.reason.what.find("trapped") != std::string::npos);
    } else {
      REQUIRE(e.from == c);
      REQUIRE(e.reason.is_normal());
    }
  }
  REQUIRE(abnormal == 1);
}

TEST_CASE("linking to a dead actor delivers its exit at once", "[monitor]") {
  troupe::test_system sys(12);
  auto b = sys.spawn<Target>();
  b.kill();
  sys.run_until_idle();
  auto a = sys.spawn<Target>();
  a.send(LinkTo{b});
  sys.run_until_idle();
  REQUIRE(a.terminated());
  auto w = sys.spawn<Watcher>();
  w.send(Watch{a});
  sys.run_until_idle();
  const auto downs = settle(sys, w.ask(Downs{}));
  REQUIRE(downs.size() == 1);
  REQUIRE(downs[0].reason.code == troupe::exit_reason::kind::linked);
  REQUIRE(downs[0].reason.what.find("killed") != std::string::npos);
}

TEST_CASE("an idle actor that is not watched has no extension block", "[monitor]") {
  troupe::test_system sys(13);
  auto t = sys.spawn<Target>();
  REQUIRE(t.cell_ptr()->ext() == nullptr);
  auto w = sys.spawn<Watcher>();
  w.send(Watch{t});
  sys.run_until_idle();
  REQUIRE(t.cell_ptr()->ext() != nullptr);  // allocated on first use
  // docs/design.md, "Memory layout of an actor".
  REQUIRE(sizeof(troupe::detail::cell) <= 120);
}

TEST_CASE("monitors attached while the target terminates each get exactly one down",
          "[monitor][stress]") {
  for (unsigned workers : troupe::test::kWorkerSweep) {
    troupe::system sys(troupe::system_config{workers});
    for (int round = 0; round < 30; ++round) {
      auto t = sys.spawn<Target>();
      std::atomic<int> downs{0};
      constexpr int kWatchers = 20;
      std::vector<troupe::ref<Watcher>> ws;
      for (int i = 0; i < kWatchers; ++i) ws.push_back(sys.spawn<Watcher>(&downs));
      std::thread killer([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(round * 10));
        t.kill();
      });
      for (auto& w : ws) w.send(Watch{t});
      killer.join();
      CAPTURE(workers, round);
      REQUIRE(troupe::test::eventually([&] { return downs.load() == kWatchers; }));
      std::this_thread::sleep_for(2ms);
      REQUIRE(downs.load() == kWatchers);
    }
  }
}

TEST_CASE("links made while peers fail never lose or duplicate an exit", "[monitor][stress]") {
  troupe::system sys(troupe::system_config{3});
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> downs{0};
    auto w = sys.spawn<Watcher>(&downs);
    auto a = sys.spawn<Target>();
    auto b = sys.spawn<Target>();
    w.ask(Watch{a}).get(5s);
    w.ask(Watch{b}).get(5s);
    a.send(LinkTo{b});
    b.send(Boom{});  // races with the link: either way a ends (linked, or link to dead b)
    CAPTURE(round);
    REQUIRE(troupe::test::eventually([&] { return downs.load() == 2; }));
    const auto d = w.ask(Downs{}).get(5s);
    REQUIRE(d.size() == 2);
    for (const auto& x : d) {
      if (x.who == a) REQUIRE(x.reason.code == troupe::exit_reason::kind::linked);
    }
  }
}
