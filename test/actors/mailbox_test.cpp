// Bounded mailboxes and dead letters (troupe/actors/mailbox.hpp).
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <troupe/actors/task.hpp>
#include <troupe/troupe.hpp>
#include <vector>

#include "supervision_util.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::test::settle;

namespace {

struct Text {
  std::string s;
};
struct Num {
  int v;
};
struct Seen {};

class Sink : public troupe::actor<Sink> {
 public:
  explicit Sink(std::atomic<bool>* gate = nullptr) : gate_(gate) {}
  void on(Text t) { seen_.push_back(t.s); }
  int on(Num n) {
    while (gate_ != nullptr && !gate_->load()) std::this_thread::sleep_for(100us);
    nums_.push_back(n.v);
    return n.v;
  }
  [[nodiscard]] std::vector<int> on(Seen /*unused*/) const { return nums_; }
  [[nodiscard]] std::vector<std::string> on(troupe::test::Downs /*unused*/) const { return seen_; }

 private:
  std::atomic<bool>* gate_;
  std::vector<std::string> seen_;
  std::vector<int> nums_;
};

}  // namespace

TEST_CASE("a full mailbox with overflow::fail refuses sends and leaves the message untouched",
          "[mailbox]") {
  troupe::test_system sys(1);
  auto s = sys.spawn<Sink>(troupe::bounded(3, troupe::overflow::fail));
  for (int i = 0; i < 3; ++i) REQUIRE(s.send(Num{i}) == troupe::send_result::ok);
  Text t{"keep me"};
  REQUIRE(s.send(std::move(t)) == troupe::send_result::full);
  REQUIRE(t.s == "keep me");  // not moved from: it can be sent again
  auto refused = s.ask(Num{99});
  REQUIRE(refused.ready());
  try {
    refused.get();
    FAIL("no exception");
  } catch (const troupe::error& e) {
    REQUIRE(e.value() == troupe::errc::mailbox_full);
    REQUIRE(std::string(e.what()).find("capacity 3") != std::string::npos);
  }
  REQUIRE(sys.stats().dead_letters_by_reason.mailbox_full == 2);
  sys.run_until_idle();
  REQUIRE(s.send(std::move(t)) == troupe::send_result::ok);
  REQUIRE(settle(sys, s.ask(Seen{})) == std::vector<int>{0, 1, 2});
  REQUIRE(settle(sys, s.ask(troupe::test::Downs{})) == std::vector<std::string>{"keep me"});
}

TEST_CASE("an ask with an lvalue message on a bounded mailbox copies it", "[mailbox]") {
  // ask(m) with a named message instantiates the bounded path with a
  // reference type (it did not compile before).
  troupe::test_system sys(1);
  auto s = sys.spawn<Sink>(troupe::bounded(4, troupe::overflow::fail));
  const Num n{7};
  auto f = s.ask(n);
  Num m{8};
  auto g = s.ask(m);
  REQUIRE(settle(sys, std::move(f)) == 7);
  REQUIRE(settle(sys, std::move(g)) == 8);
  REQUIRE(m.v == 8);
}

TEST_CASE("overflow::drop_newest discards the new message and counts it", "[mailbox]") {
  troupe::test_system sys(2);
  auto s = sys.spawn<Sink>(troupe::bounded(2, troupe::overflow::drop_newest));
  for (int i = 0; i < 5; ++i) s.send(Num{i});
  REQUIRE(sys.stats().dead_letters_by_reason.dropped == 3);
  REQUIRE(sys.stats().dead_letters == 3);
  sys.run_until_idle();
  REQUIRE(settle(sys, s.ask(Seen{})) == std::vector<int>{0, 1});
}

TEST_CASE("overflow::drop_oldest makes room by dropping the oldest message", "[mailbox]") {
  troupe::test_system sys(3);
  auto s = sys.spawn<Sink>(troupe::bounded(3, troupe::overflow::drop_oldest));
  auto first = s.ask(Num{0});  // will be dropped: its ask fails
  for (int i = 1; i < 6; ++i) REQUIRE(s.send(Num{i}) == troupe::send_result::ok);
  REQUIRE(first.ready());
  REQUIRE_THROWS_AS(first.get(), troupe::error);
  REQUIRE(sys.stats().dead_letters_by_reason.dropped == 3);
  sys.run_until_idle();
  REQUIRE(settle(sys, s.ask(Seen{})) == std::vector<int>{3, 4, 5});
}

namespace {
struct Await {
  troupe::future<int> f;
};
// A coroutine handler suspended on a future the test completes.
class Awaiter : public troupe::actor<Awaiter> {
 public:
  troupe::task<int> on(Await a) { co_return co_await std::move(a.f) + 1; }
  void on(Num /*unused*/) {}
};
}  // namespace

TEST_CASE("overflow::drop_oldest never drops a coroutine handler's resume", "[mailbox]") {
  troupe::test_system sys(5);
  auto a = sys.spawn<Awaiter>(troupe::bounded(2, troupe::overflow::drop_oldest));
  troupe::promise<int> p;
  auto result = a.ask(Await{p.get_future()});
  sys.run_until_idle();  // the handler is suspended on the future
  REQUIRE_FALSE(result.ready());
  p.set_value(41);  // queues the resume; nothing runs yet
  // Three sends into capacity 2: one is dropped, and it must be a Num.
  for (int i = 0; i < 3; ++i) REQUIRE(a.send(Num{i}) == troupe::send_result::ok);
  REQUIRE(sys.stats().dead_letters_by_reason.dropped == 1);
  sys.run_until_idle();
  REQUIRE(result.ready());
  REQUIRE(result.get() == 42);
}

TEST_CASE("runtime messages get into a full mailbox", "[mailbox]") {
  // A watcher whose bounded mailbox is full still gets its down.
  troupe::test_system sys(4);
  auto t = sys.spawn<troupe::test::Target>();
  auto w = sys.spawn<troupe::test::Watcher>(troupe::bounded(1, troupe::overflow::fail));
  w.send(troupe::test::Watch{t});
  sys.run_until_idle();
  REQUIRE(w.send(troupe::test::Trap{false}) == troupe::send_result::ok);
  REQUIRE(w.send(troupe::test::Trap{false}) == troupe::send_result::full);
  t.kill();
  sys.run_until_idle();
  REQUIRE(settle(sys, w.ask(troupe::test::Downs{})).size() == 1);
}

TEST_CASE("overflow::block in a test_system refuses instead of blocking", "[mailbox]") {
  troupe::test_system sys(5);
  auto s = sys.spawn<Sink>(troupe::bounded(1, troupe::overflow::block));
  REQUIRE(s.send(Num{1}) == troupe::send_result::ok);
  REQUIRE(s.send(Num{2}) == troupe::send_result::full);
  REQUIRE(s.try_send(Num{2}) == troupe::send_result::full);
}

TEST_CASE("a spawn with a policy but no capacity is refused", "[mailbox]") {
  troupe::test_system sys(6);
  troupe::spawn_options o;
  o.policy = troupe::overflow::block;
  REQUIRE_THROWS_AS(sys.spawn<Sink>(o), troupe::error);
  REQUIRE(sys.stats().live_actors == 0);
}

TEST_CASE("overflow::block blocks a plain thread until there is room", "[mailbox]") {
  std::atomic<bool> gate{false};
  troupe::system sys(troupe::system_config{2});
  auto s = sys.spawn<Sink>(troupe::bounded(2, troupe::overflow::block), &gate);
  std::atomic<int> sent{0};
  std::thread producer([&] {
    for (int i = 0; i < 50; ++i) {
      if (s.send(Num{i}) == troupe::send_result::ok) sent.fetch_add(1);
    }
  });
  // The sink holds one message in its handler, two wait in the mailbox; the
  // producer blocks on the fourth.
  REQUIRE(troupe::test::eventually([&] { return sent.load() == 3; }));
  std::this_thread::sleep_for(50ms);
  REQUIRE(sent.load() == 3);
  gate.store(true);
  producer.join();
  REQUIRE(sent.load() == 50);
  std::vector<int> want(50);
  for (int i = 0; i < 50; ++i) want[static_cast<std::size_t>(i)] = i;
  REQUIRE(s.ask(Seen{}).get(5s) == want);
  REQUIRE(sys.stats().dead_letters == 0);
}

TEST_CASE("a sender blocked on a full mailbox wakes with closed when the actor dies", "[mailbox]") {
  std::atomic<bool> gate{false};
  troupe::system sys(troupe::system_config{2});
  auto s = sys.spawn<Sink>(troupe::bounded(1, troupe::overflow::block), &gate);
  std::atomic<int> results[4] = {{0}, {0}, {0}, {0}};  // by send_result
  std::atomic<int> done{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        results[static_cast<int>(s.send(Num{i}).value())].fetch_add(1);
      }
      done.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(30ms);
  REQUIRE(done.load() == 0);  // blocked
  s.kill();                   // takes effect when the gated handler returns
  gate.store(true);
  for (auto& t : ts) t.join();
  constexpr auto ok = static_cast<int>(troupe::send_result::ok);
  constexpr auto closed = static_cast<int>(troupe::send_result::closed);
  REQUIRE(results[ok].load() + results[closed].load() == 12);
  REQUIRE(results[closed].load() > 0);
}

TEST_CASE("a handler on a pool thread is refused by a full block mailbox, never blocked",
          "[mailbox]") {
  struct Push {
    troupe::ref<Sink> to;
  };
  class Pusher : public troupe::actor<Pusher> {
   public:
    std::vector<troupe::send_result> on(Push p) {
      std::vector<troupe::send_result> out;
      for (int i = 0; i < 4; ++i) out.push_back(p.to.send(Num{i}));
      return out;
    }
  };
  std::atomic<bool> gate{false};
  troupe::system sys(troupe::system_config{1});  // one worker: blocking it would deadlock
  auto sink = sys.spawn<Sink>(troupe::bounded(2, troupe::overflow::block), &gate);
  auto p = sys.spawn<Pusher>();
  const auto r = p.ask(Push{sink}).get(5s);
  using troupe::send_result;
  REQUIRE(r == std::vector<send_result>{send_result::ok, send_result::ok, send_result::full,
                                        send_result::full});
  REQUIRE(sys.stats().dead_letters_by_reason.mailbox_full == 2);
  gate.store(true);
}

TEST_CASE("co_await ref.send(m) suspends a task until the mailbox has room", "[mailbox]") {
  std::atomic<bool> gate{false};
  troupe::system sys(troupe::system_config{2});
  auto s = sys.spawn<Sink>(troupe::bounded(2, troupe::overflow::block), &gate);
  std::atomic<int> sent{0};
  auto h = sys.go([&sent, s]() -> troupe::task<int> {
    int ok = 0;
    for (int i = 0; i < 40; ++i) {
      if (co_await s.send(Num{i}) == troupe::send_result::ok) ++ok;
      sent.fetch_add(1);
    }
    co_return ok;
  });
  REQUIRE(troupe::test::eventually([&] { return sent.load() >= 2; }));
  std::this_thread::sleep_for(30ms);
  REQUIRE(sent.load() <= 3);  // suspended, not refused
  gate.store(true);
  REQUIRE(h.get(10s) == 40);
  std::vector<int> want(40);
  for (int i = 0; i < 40; ++i) want[static_cast<std::size_t>(i)] = i;
  REQUIRE(s.ask(Seen{}).get(5s) == want);
  REQUIRE(sys.stats().dead_letters == 0);
}

TEST_CASE("co_await ref.send(m) yields closed when the actor dies while it waits", "[mailbox]") {
  std::atomic<bool> gate{false};
  troupe::system sys(troupe::system_config{2});
  auto s = sys.spawn<Sink>(troupe::bounded(1, troupe::overflow::block), &gate);
  auto h = sys.go([s]() -> troupe::task<int> {
    int dead = 0;
    for (int i = 0; i < 5; ++i) {
      if (co_await s.send(Num{i}) == troupe::send_result::closed) ++dead;
    }
    co_return dead;
  });
  std::this_thread::sleep_for(30ms);
  s.kill();
  gate.store(true);
  REQUIRE(h.get(10s) >= 1);
}

TEST_CASE("send_every skips a tick on a full mailbox instead of blocking the timer thread",
          "[mailbox]") {
  std::atomic<bool> gate{false};
  troupe::system sys(troupe::system_config{2});
  auto s = sys.spawn<Sink>(troupe::bounded(1, troupe::overflow::block), &gate);
  auto t = sys.send_every(s, 1ms, Num{7});
  auto other = sys.spawn<Sink>();
  sys.send_after(other, 20ms, Text{"timer thread alive"});
  REQUIRE(troupe::test::eventually(
      [&] { return other.ask(troupe::test::Downs{}).get(5s).size() == 1; }));
  t.cancel();
  gate.store(true);
}

TEST_CASE("dead letters are counted per reason", "[mailbox]") {
  troupe::test_system sys(7);
  auto full = sys.spawn<Sink>(troupe::bounded(1, troupe::overflow::fail));
  auto drop = sys.spawn<Sink>(troupe::bounded(1, troupe::overflow::drop_newest));
  auto dead = sys.spawn<Sink>();
  auto crash = sys.spawn<troupe::test::Target>();
  full.send(Num{1});
  full.send(Num{2});  // mailbox_full
  drop.send(Num{1});
  drop.send(Num{2});  // dropped
  dead.kill();
  sys.run_until_idle();
  dead.send(Num{1});                 // actor_dead
  crash.send(troupe::test::Boom{});  // crashed
  sys.run_until_idle();
  const auto s = sys.stats();
  REQUIRE(s.dead_letters_by_reason.mailbox_full == 1);
  REQUIRE(s.dead_letters_by_reason.dropped == 1);
  REQUIRE(s.dead_letters_by_reason.actor_dead == 1);
  REQUIRE(s.dead_letters_by_reason.crashed == 1);
  REQUIRE(s.dead_letters == 4);
  REQUIRE(s.dead_letters_by_reason.total() == 4);
}

TEST_CASE("dead letters are logged as a rate-limited sample", "[mailbox]") {
  troupe::test_system sys(8);
  auto dead = sys.spawn<Sink>();
  dead.kill();
  sys.run_until_idle();
  // Capture the "troupe" logger (nothing else logs: one thread drives sys).
  // It is registered with spdlog on first use.
  const auto saved_level = troupe::get_log_level();
  auto logger = spdlog::get("troupe");
  REQUIRE(logger != nullptr);
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(captured);
  logger->sinks().push_back(sink);
  troupe::set_log_level(troupe::log_level::info);
  for (int i = 0; i < 1000; ++i) dead.send(Num{i});
  troupe::set_log_level(saved_level);
  logger->sinks().pop_back();
  REQUIRE(sys.stats().dead_letters_by_reason.actor_dead == 1000);
  const std::string text = captured.str();
  std::size_t lines = 0;
  for (std::size_t at = text.find("dead letter"); at != std::string::npos;
       at = text.find("dead letter", at + 1)) {
    ++lines;
  }
  // At most one line a second: the 1000 sends take far less than 2 s.
  REQUIRE(lines >= 1);
  REQUIRE(lines <= 2);
  REQUIRE_THAT(text, Catch::Contains("dead letter (actor dead)") && Catch::Contains("Num") &&
                         Catch::Contains("Sink"));
}

TEST_CASE("bounded mailboxes keep each sender's order under back-pressure", "[mailbox][stress]") {
  struct Item {
    int sender;
    int seq;
  };
  struct Check {};
  class Order : public troupe::actor<Order> {
   public:
    void on(Item m) {
      auto& expect = next_[static_cast<std::size_t>(m.sender)];
      if (m.seq != expect) ++errors_;
      expect = m.seq + 1;
      ++total_;
    }
    std::pair<long, long> on(Check /*unused*/) const { return {total_, errors_}; }

   private:
    std::vector<int> next_ = std::vector<int>(4, 0);
    long total_ = 0;
    long errors_ = 0;
  };
  for (unsigned workers : troupe::test::kWorkerSweep) {
    troupe::system sys(troupe::system_config{workers});
    auto o = sys.spawn<Order>(troupe::bounded(4, troupe::overflow::block));
    std::vector<std::thread> ts;
    for (int s = 0; s < 4; ++s) {
      ts.emplace_back([o, s] {
        for (int i = 0; i < 20000; ++i) o.send(Item{s, i});
      });
    }
    for (auto& t : ts) t.join();
    auto [total, errors] = o.ask(Check{}).get(30s);
    CAPTURE(workers);
    REQUIRE(total == 80000);
    REQUIRE(errors == 0);
    REQUIRE(sys.stats().dead_letters == 0);
  }
}

TEST_CASE("blocked senders racing with kill never hang or lose count", "[mailbox][stress]") {
  troupe::system sys(troupe::system_config{3});
  for (int round = 0; round < 40; ++round) {
    auto s = sys.spawn<Sink>(troupe::bounded(3, troupe::overflow::block));
    std::atomic<long> ok{0};
    std::atomic<long> dead{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 3; ++t) {
      ts.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) {
          if (s.send(Num{i}) == troupe::send_result::ok) {
            ok.fetch_add(1);
          } else {
            dead.fetch_add(1);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::microseconds(round * 25));
    s.kill();
    for (auto& t : ts) t.join();
    CAPTURE(round);
    REQUIRE(ok.load() + dead.load() == 3000);
  }
  sys.shutdown();
  const auto st = sys.stats();
  REQUIRE(st.messages_processed + st.dead_letters == 40U * 3000U);
}
