#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <troupe/troupe.hpp>
#include <unordered_set>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

struct Inc {
  int by = 1;
};
struct Get {};
struct Fail {
  std::string why;
};

class Counter : public troupe::actor<Counter> {
 public:
  void on(Inc m) { n_ += m.by; }
  int on(Get /*unused*/) const { return n_; }
  int on(Fail f) { throw std::runtime_error(f.why); }

 private:
  int n_ = 0;
};

struct Item {
  int sender;
  int seq;
};
struct Check {};

// Records per-sender order; any gap or reordering is counted.
class OrderChecker : public troupe::actor<OrderChecker> {
 public:
  explicit OrderChecker(int senders) : next_(static_cast<std::size_t>(senders), 0) {}
  void on(Item m) {
    auto& expect = next_[static_cast<std::size_t>(m.sender)];
    if (m.seq != expect) ++errors_;
    expect = m.seq + 1;
    ++total_;
  }
  std::pair<long, long> on(Check /*unused*/) const { return {total_, errors_}; }

 private:
  std::vector<int> next_;
  long total_ = 0;
  long errors_ = 0;
};

}  // namespace

TEST_CASE("send and ask reach the typed handlers", "[actors]") {
  troupe::system sys;
  auto c = sys.spawn<Counter>();
  c.send(Inc{2});
  c.send(Inc{3});
  REQUIRE(c.ask(Get{}).get(5s) == 5);
  // Counted when the activation ends, which may be just after the reply.
  REQUIRE(troupe::test::eventually([&] { return sys.stats().messages_processed >= 3; }));
}

TEST_CASE("refs are comparable, hashable and copyable", "[actors]") {
  troupe::system sys;
  auto a = sys.spawn<Counter>();
  auto b = sys.spawn<Counter>();
  auto a2 = a;
  REQUIRE(a == a2);
  REQUIRE(a != b);
  REQUIRE(a.id() != b.id());
  std::unordered_set<troupe::ref<Counter>> set{a, a2, b};
  REQUIRE(set.size() == 2);
  troupe::ref<Counter> empty;
  REQUIRE_FALSE(empty);
  REQUIRE_THROWS_AS(empty.send(Inc{}), troupe::error);
}

TEST_CASE("one sender's messages arrive in send order: 4 senders x 100k", "[actors]") {
  for (unsigned workers : {1U, 2U, 7U}) {
    troupe::system sys(troupe::system_config{workers});
    constexpr int kSenders = 4;
    constexpr int kPerSender = 100000;
    auto checker = sys.spawn<OrderChecker>(kSenders);
    std::vector<std::thread> senders;
    for (int s = 0; s < kSenders; ++s) {
      senders.emplace_back([checker, s] {
        for (int i = 0; i < kPerSender; ++i) checker.send(Item{s, i});
      });
    }
    for (auto& t : senders) t.join();
    auto [total, errors] = checker.ask(Check{}).get(30s);
    CAPTURE(workers);
    REQUIRE(total == long{kSenders} * kPerSender);
    REQUIRE(errors == 0);
    REQUIRE(sys.stats().dead_letters == 0);
  }
}

TEST_CASE("asks from many threads at once each get their own answer", "[actors]") {
  struct Echo {
    int v;
  };
  class Echoer : public troupe::actor<Echoer> {
   public:
    int on(Echo e) { return e.v * 2; }
  };
  troupe::system sys(troupe::system_config{3});
  auto e = sys.spawn<Echoer>();
  std::atomic<int> wrong{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const int v = t * 100000 + i;
        if (e.ask(Echo{v}).get(10s) != v * 2) wrong.fetch_add(1);
      }
    });
  }
  for (auto& t : ts) t.join();
  REQUIRE(wrong.load() == 0);
}

TEST_CASE("an exception in a handler fails the actor and its ask", "[actors]") {
  troupe::system sys;
  auto c = sys.spawn<Counter>();
  c.send(Inc{1});
  auto bad = c.ask(Fail{"disk on fire"});
  // Queued behind the failing message: fails with the actor's exit reason.
  auto queued = c.ask(Get{});
  try {
    bad.get(5s);
    FAIL("no exception");
  } catch (const troupe::error& e) {
    REQUIRE(e.value() == troupe::errc::handler_threw);
    const std::string what = e.what();
    REQUIRE(what.find("std::runtime_error") != std::string::npos);
    REQUIRE(what.find("disk on fire") != std::string::npos);
  }
  try {
    queued.get(5s);
    FAIL("no exception");
  } catch (const troupe::error& e) {
    REQUIRE(e.value() == troupe::errc::actor_dead);
    REQUIRE(std::string(e.what()).find("disk on fire") != std::string::npos);
  }
  REQUIRE(troupe::test::eventually([&] { return sys.stats().actor_failures == 1; }));
  REQUIRE(c.terminated());
  // Later sends are counted dead letters.
  const auto dead = sys.stats().dead_letters;
  REQUIRE(c.send(Inc{1}) == troupe::send_result::closed);
  REQUIRE(sys.stats().dead_letters == dead + 1);
}

TEST_CASE("an ask to a dead actor fails in well under 100 ms", "[actors]") {
  troupe::system sys;
  auto c = sys.spawn<Counter>();
  c.stop();
  REQUIRE(troupe::test::eventually([&] { return c.terminated(); }));
  const auto t0 = std::chrono::steady_clock::now();
  auto f = c.ask(Get{});
  REQUIRE(f.ready());  // failed at send time, nothing to wait for
  try {
    f.get(1s);
    FAIL("no exception");
  } catch (const troupe::error& e) {
    REQUIRE(e.value() == troupe::errc::actor_dead);
  }
  REQUIRE(std::chrono::steady_clock::now() - t0 < 100ms);
}

namespace {
struct Events {
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  std::atomic<int> handled{0};
};
struct Work {};
struct StopMe {};
class Hooked : public troupe::actor<Hooked> {
 public:
  explicit Hooked(Events* ev) : ev_(ev) {}
  void on_start() { ev_->started.fetch_add(1); }
  void on_stop() { ev_->stopped.fetch_add(1); }
  void on(Work /*unused*/) {
    if (ev_->started.load() == 1) ev_->handled.fetch_add(1);  // on_start ran first
  }
  void on(StopMe /*unused*/) { stop(); }

 private:
  Events* ev_;
};
}  // namespace

TEST_CASE("on_start runs before the first message and on_stop after the last", "[actors]") {
  Events ev;
  troupe::system sys;
  auto h = sys.spawn<Hooked>(&ev);
  for (int i = 0; i < 10; ++i) h.send(Work{});
  h.stop();  // graceful: the 10 messages are handled first
  REQUIRE(troupe::test::eventually([&] { return ev.stopped.load() == 1; }));
  REQUIRE(ev.started.load() == 1);
  REQUIRE(ev.handled.load() == 10);
}

TEST_CASE("an actor can stop itself and what is queued behind becomes dead letters", "[actors]") {
  Events ev;
  troupe::system sys(troupe::system_config{1});
  auto h = sys.spawn<Hooked>(&ev);
  h.send(StopMe{});
  REQUIRE(troupe::test::eventually([&] { return h.terminated(); }));
  REQUIRE(ev.stopped.load() == 1);
  REQUIRE(h.send(Work{}) == troupe::send_result::closed);
  REQUIRE(ev.handled.load() == 0);
}

TEST_CASE("stop() in on_start ends the actor before any message", "[actors]") {
  struct Ping {};
  class Quitter : public troupe::actor<Quitter> {
   public:
    explicit Quitter(std::atomic<int>* handled) : handled_(handled) {}
    void on_start() { stop(); }
    void on(Ping /*unused*/) { handled_->fetch_add(1); }

   private:
    std::atomic<int>* handled_;
  };
  std::atomic<int> handled{0};
  troupe::system sys(troupe::system_config{2});
  const bool detached = GENERATE(false, true);
  INFO("detached: " << detached);
  auto q = detached ? sys.spawn<Quitter>(troupe::detached, &handled) : sys.spawn<Quitter>(&handled);
  // Nothing is sent: the stop must not wait for a message to take effect.
  REQUIRE(troupe::test::eventually([&] { return q.terminated(); }));
  CHECK(q.send(Ping{}) == troupe::send_result::closed);
  CHECK(handled.load() == 0);
}

TEST_CASE("kill stops an actor after its current handler", "[actors]") {
  struct Slow {};
  class Sleeper : public troupe::actor<Sleeper> {
   public:
    explicit Sleeper(std::atomic<int>* n) : n_(n) {}
    void on(Slow /*unused*/) {
      std::this_thread::sleep_for(20ms);
      n_->fetch_add(1);
    }

   private:
    std::atomic<int>* n_;
  };
  std::atomic<int> n{0};
  troupe::system sys(troupe::system_config{2});
  auto s = sys.spawn<Sleeper>(&n);
  for (int i = 0; i < 100; ++i) s.send(Slow{});
  std::this_thread::sleep_for(30ms);
  s.kill();
  REQUIRE(troupe::test::eventually([&] { return s.terminated(); }, 2s));
  // Dead letters are counted after the mailbox closes; live_actors drops last.
  REQUIRE(troupe::test::eventually([&] { return sys.stats().live_actors == 0; }, 2s));
  REQUIRE(n.load() < 100);
  REQUIRE(sys.stats().dead_letters > 0);
}

TEST_CASE("a detached actor blocking in a handler does not stall the pool", "[actors]") {
  struct Block {
    std::chrono::milliseconds d;
  };
  class Blocker : public troupe::actor<Blocker> {
   public:
    int on(Block b) {
      std::this_thread::sleep_for(b.d);
      return 1;
    }
  };
  troupe::system sys(troupe::system_config{1});
  auto b = sys.spawn<Blocker>(troupe::detached);
  auto blocked = b.ask(Block{300ms});
  // The single pool worker stays free.
  auto c = sys.spawn<Counter>();
  c.send(Inc{5});
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(c.ask(Get{}).get(5s) == 5);
  REQUIRE(std::chrono::steady_clock::now() - t0 < 250ms);
  REQUIRE(blocked.get(5s) == 1);
  // A detached actor may block on futures: it is not a pool thread.
  struct AskOther {
    troupe::ref<Counter> c;
  };
  class Asker : public troupe::actor<Asker> {
   public:
    int on(AskOther a) { return a.c.ask(Get{}).get(5s); }
  };
  auto asker = sys.spawn<Asker>(troupe::detached);
  REQUIRE(asker.ask(AskOther{c}).get(5s) == 5);
}

TEST_CASE("a blocking get on a pool worker is refused, not deadlocked", "[actors]") {
  struct AskSelf {};
  class Selfish : public troupe::actor<Selfish> {
   public:
    std::string on(AskSelf /*unused*/) {
      try {
        self().ask(Get{}).get();
        return "blocked";
      } catch (const troupe::error& e) {
        return e.value() == troupe::errc::would_block_worker ? "refused" : e.what();
      }
    }
    int on(Get /*unused*/) { return 1; }
  };
  troupe::system sys(troupe::system_config{1});
  auto s = sys.spawn<Selfish>();
  REQUIRE(s.ask(AskSelf{}).get(5s) == "refused");
}

TEST_CASE("when_ready runs the continuation inside the actor", "[actors]") {
  struct Start {
    troupe::ref<Counter> c;
  };
  struct Result {};
  class Waiter : public troupe::actor<Waiter> {
   public:
    void on(Start s) {
      when_ready(s.c.ask(Get{}), [this](troupe::future<int> f) { got_ = f.get() + 1; });
    }
    int on(Result /*unused*/) const { return got_; }

   private:
    int got_ = 0;
  };
  troupe::system sys(troupe::system_config{2});
  auto c = sys.spawn<Counter>();
  c.send(Inc{41});
  auto w = sys.spawn<Waiter>();
  w.send(Start{c});
  REQUIRE(troupe::test::eventually([&] { return w.ask(Result{}).get(5s) == 42; }));
}

TEST_CASE("an exception in a constructor propagates from spawn", "[actors]") {
  class Bad : public troupe::actor<Bad> {
   public:
    Bad() { throw std::invalid_argument("no config"); }
    void on(Get /*unused*/) {}
  };
  troupe::system sys;
  REQUIRE_THROWS_AS(sys.spawn<Bad>(), std::invalid_argument);
  REQUIRE(sys.stats().live_actors == 0);
}

TEST_CASE("an exception in on_start fails the actor", "[actors]") {
  class BadStart : public troupe::actor<BadStart> {
   public:
    void on_start() { throw std::runtime_error("start failed"); }
    int on(Get /*unused*/) { return 1; }
  };
  troupe::system sys;
  auto b = sys.spawn<BadStart>();
  REQUIRE_THROWS_AS(b.ask(Get{}).get(5s), troupe::error);
  REQUIRE(troupe::test::eventually([&] { return sys.stats().actor_failures == 1; }));
}

TEST_CASE("100k actors are spawned and stopped", "[actors]") {
  troupe::system sys(troupe::system_config{2});
  std::vector<troupe::ref<Counter>> refs;
  refs.reserve(100000);
  for (int i = 0; i < 100000; ++i) refs.push_back(sys.spawn<Counter>());
  REQUIRE(sys.stats().live_actors == 100000);
  for (auto& r : refs) r.send(Inc{1});
  for (auto& r : refs) r.stop();
  REQUIRE(troupe::test::eventually([&] { return sys.stats().live_actors == 0; }, 30s));
  REQUIRE(sys.stats().messages_processed >= 100000);
  REQUIRE(sys.stats().dead_letters == 0);
}

TEST_CASE("actors spawn actors and exchange messages across all worker counts", "[actors]") {
  struct Fan {
    int depth;
  };
  class Node : public troupe::actor<Node> {
   public:
    explicit Node(std::atomic<long>* leaves) : leaves_(leaves) {}
    void on(Fan f) {
      if (f.depth == 0) {
        leaves_->fetch_add(1);
      } else {
        for (int i = 0; i < 4; ++i) system().spawn<Node>(leaves_).send(Fan{f.depth - 1});
      }
      stop();
    }

   private:
    std::atomic<long>* leaves_;
  };
  for (unsigned workers : troupe::test::kWorkerSweep) {
    std::atomic<long> leaves{0};
    troupe::system sys(troupe::system_config{workers});
    sys.spawn<Node>(&leaves).send(Fan{6});
    CAPTURE(workers);
    REQUIRE(troupe::test::eventually([&] { return leaves.load() == 4096; }, 30s));
    REQUIRE(troupe::test::eventually([&] { return sys.stats().live_actors == 0; }, 30s));
  }
}

TEST_CASE("the throughput batch keeps a flooded actor from starving others", "[actors]") {
  // One worker: a self-feeding actor must not keep the worker forever.
  struct Spin {};
  class Spinner : public troupe::actor<Spinner> {
   public:
    void on(Spin /*unused*/) { self().send(Spin{}); }
  };
  troupe::system sys(troupe::system_config{1, 8});
  auto s = sys.spawn<Spinner>();
  s.send(Spin{});
  auto c = sys.spawn<Counter>();
  c.send(Inc{3});
  REQUIRE(c.ask(Get{}).get(5s) == 3);
  s.kill();
}

TEST_CASE("the troupe logger is named troupe and its level is settable", "[actors]") {
  const auto before = troupe::get_log_level();
  troupe::set_log_level(troupe::log_level::debug);
  REQUIRE(troupe::get_log_level() == troupe::log_level::debug);
  troupe::set_log_level(before);
  REQUIRE(troupe::get_log_level() == before);
}

// CTest also runs this with TROUPE_LOG=debug (test/actors/CMakeLists.txt).
TEST_CASE("the TROUPE_LOG environment variable sets the initial level", "[actors]") {
  const char* env = std::getenv("TROUPE_LOG");  // NOLINT(concurrency-mt-unsafe)
  const auto expected = (env != nullptr && std::string(env) == "debug") ? troupe::log_level::debug
                                                                        : troupe::log_level::warn;
  REQUIRE(troupe::get_log_level() == expected);
}
