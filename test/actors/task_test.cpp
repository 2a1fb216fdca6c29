// troupe::task on the pool: go, awaiting tasks/futures/timers, when_all,
// when_any, cancellation, and shutdown (no channels: see
// test/channels/task_channel_test.cpp for channel operations in tasks).

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "task_util.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::task;
using troupe::test::add;
using troupe::test::Echo;
using troupe::test::error_of;
using troupe::test::eventually;
using troupe::test::ms_since;

namespace {

task<int> fails(std::string why) {
  co_await troupe::sleep_for(1ms);
  throw std::runtime_error(why);
}

task<void> nothing() { co_return; }

task<long> sum_of_many(int n) {
  long s = 0;
  for (int i = 0; i < n; ++i) s += co_await add(i, 0);
  co_return s;
}

}  // namespace

TEST_CASE("go runs a task on the pool and yields its value", "[task]") {
  troupe::system sys(troupe::system_config{2});
  auto h = sys.go([]() -> task<int> { co_return co_await add(20, 22); });
  REQUIRE(h.get(10s) == 42);
  // A task object directly, and a callable taking the stop_token.
  REQUIRE(sys.go(add(1, 2)).get(10s) == 3);
  auto h2 = sys.go([](std::stop_token st) -> task<bool> { co_return st.stop_possible(); });
  REQUIRE(h2.get(10s));
}

TEST_CASE("an exception in a task propagates to its awaiter and to get", "[task]") {
  troupe::system sys(troupe::system_config{2});
  auto h = sys.go([]() -> task<std::string> {
    try {
      co_await fails("boom");
    } catch (const std::runtime_error& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not thrown";
  });
  REQUIRE(h.get(10s) == "caught boom");
  auto h2 = sys.go([]() -> task<int> { co_return co_await fails("up"); });
  REQUIRE_THROWS_WITH(h2.get(10s), "up");
  // troupe errors keep their code across the hand-off.
  auto h3 = sys.go([]() -> task<> {
    co_await troupe::sleep_for(1ms);
    throw troupe::error(troupe::errc::timeout, "inner op");
  });
  std::string what;
  REQUIRE(error_of([&] { h3.get(10s); }, &what) == troupe::errc::timeout);
  REQUIRE(what == "inner op: timed out");
}

TEST_CASE("a million synchronously finishing awaits keep the stack flat", "[task]") {
  troupe::system sys(troupe::system_config{1});
  REQUIRE(sys.go(sum_of_many(1000000)).get(60s) == 1000000L * 999999L / 2);
}

TEST_CASE("a task awaits a future, an ask and another task's handle", "[task]") {
  troupe::system sys(troupe::system_config{2});
  auto echo = sys.spawn<Echo>();
  troupe::promise<int> p;
  auto f = p.get_future();
  auto first = sys.go([]() -> task<int> {
    co_await troupe::sleep_for(10ms);
    co_return 5;
  });
  auto h = sys.go([&echo, f = std::move(f), first = std::move(first)]() mutable -> task<int> {
    const int a = co_await echo.ask(21);
    const int b = co_await f;
    const int c = co_await std::move(first);
    co_return a + b + c;
  });
  std::this_thread::sleep_for(20ms);
  p.set_value(100);
  REQUIRE(h.get(10s) == 42 + 100 + 5);
}

TEST_CASE("sleeping tasks hold no worker", "[task]") {
  troupe::system sys(troupe::system_config{1});
  const auto t0 = troupe::test::clock::now();
  std::vector<troupe::task_handle<void>> hs;
  for (int i = 0; i < 50; ++i) {
    hs.push_back(sys.go([]() -> task<> { co_await troupe::sleep_for(100ms); }));
  }
  for (auto& h : hs) h.get(10s);
  const double ms = ms_since(t0);
  REQUIRE(ms >= 100.0);
  REQUIRE(ms < 1000.0);  // 50 x 100 ms on one worker: they slept concurrently
}

TEST_CASE("when_all of three 100 ms sleeps takes about 100 ms, not 300", "[task]") {
  troupe::system sys(troupe::system_config{2});
  auto nap = [](int v) -> task<int> {
    co_await troupe::sleep_for(100ms);
    co_return v;
  };
  const auto t0 = troupe::test::clock::now();
  auto [a, b, c] = sys.go([&]() -> task<std::tuple<int, int, int>> {
                        co_return co_await troupe::when_all(nap(1), nap(2), nap(3));
                      })
                       .get(10s);
  const double ms = ms_since(t0);
  REQUIRE(a + b + c == 6);
  REQUIRE(ms >= 100.0);
  REQUIRE(ms < 250.0);
  // The vector form, and void tasks.
  auto all = sys.go([&]() -> task<std::vector<int>> {
                  std::vector<task<int>> ts;
                  for (int i = 0; i < 10; ++i) ts.push_back(nap(i));
                  co_return co_await troupe::when_all(std::move(ts));
                })
                 .get(10s);
  REQUIRE(all == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  sys.go([]() -> task<> {
       auto [x, y] = co_await troupe::when_all(nothing(), nothing());
       (void)x;
       (void)y;
     })
      .get(10s);
}

TEST_CASE("when_all rethrows the first failure after cancelling the others", "[task]") {
  troupe::system sys(troupe::system_config{2});
  std::atomic<bool> slow_cancelled{false};
  auto slow = [&]() -> task<int> {
    try {
      co_await troupe::sleep_for(10s);
    } catch (const troupe::error& e) {
      if (e.value() == troupe::errc::cancelled) slow_cancelled.store(true);
      throw;
    }
    co_return 0;
  };
  const auto t0 = troupe::test::clock::now();
  auto h = sys.go([&]() -> task<> { co_await troupe::when_all(slow(), fails("first"), slow()); });
  REQUIRE_THROWS_WITH(h.get(10s), "first");
  REQUIRE(slow_cancelled.load());
  REQUIRE(ms_since(t0) < 5000.0);
}

TEST_CASE("cancelling a when_all parent cancels its children", "[task]") {
  troupe::system sys(troupe::system_config{2});
  std::atomic<int> cancelled{0};
  auto nap = [&]() -> task<int> {
    try {
      co_await troupe::sleep_for(10s);
    } catch (const troupe::error& e) {
      if (e.value() == troupe::errc::cancelled) cancelled.fetch_add(1);
      throw;
    }
    co_return 0;
  };
  auto h = sys.go([&]() -> task<> { co_await troupe::when_all(nap(), nap(), nap()); });
  std::this_thread::sleep_for(30ms);
  const auto t0 = troupe::test::clock::now();
  h.request_stop();
  REQUIRE(error_of([&] { h.get(10s); }) == troupe::errc::cancelled);
  REQUIRE(cancelled.load() == 3);
  REQUIRE(ms_since(t0) < 5000.0);
}

TEST_CASE("when_any yields the first to finish and cancels the rest", "[task]") {
  troupe::system sys(troupe::system_config{2});
  std::atomic<int> cancelled{0};
  auto nap = [&](int ms, int v) -> task<int> {
    try {
      co_await troupe::sleep_for(std::chrono::milliseconds(ms));
    } catch (const troupe::error&) {
      cancelled.fetch_add(1);
      throw;
    }
    co_return v;
  };
  const auto t0 = troupe::test::clock::now();
  auto [index, value] =
      sys.go([&]() -> task<std::pair<std::size_t, std::variant<int, int, int>>> {
           co_return co_await troupe::when_any(nap(5000, 1), nap(20, 2), nap(5000, 3));
         })
          .get(10s);
  REQUIRE(index == 1);
  REQUIRE(std::get<1>(value) == 2);
  REQUIRE(cancelled.load() == 2);
  REQUIRE(ms_since(t0) < 2000.0);
  auto [i2, v2] = sys.go([&]() -> task<std::pair<std::size_t, int>> {
                       std::vector<task<int>> ts;
                       ts.push_back(nap(3000, 7));
                       ts.push_back(nap(10, 8));
                       co_return co_await troupe::when_any(std::move(ts));
                     })
                      .get(10s);
  REQUIRE(i2 == 1);
  REQUIRE(v2 == 8);
}
TEST_CASE("a task sees its stop token and stops cooperatively", "[task]") {
  troupe::system sys(troupe::system_config{2});
  auto h = sys.go([]() -> task<int> {
    auto st = co_await troupe::get_stop_token();
    int rounds = 0;
    while (!st.stop_requested()) {
      ++rounds;
      try {
        co_await troupe::sleep_for(1ms);
      } catch (const troupe::error&) {
        break;  // cancelled while sleeping
      }
    }
    co_return rounds;
  });
  std::this_thread::sleep_for(30ms);
  REQUIRE(h.request_stop());
  REQUIRE(h.get(10s) > 0);
}

namespace {

struct Sink : troupe::actor<Sink> {
  explicit Sink(std::atomic<int>* out) : got(out) {}
  void on(int x) { got->store(x); }
  std::atomic<int>* got;
};

// A coroutine handler that parks until cancelled, then sends to another
// actor: shutdown cancels the roots while every actor still runs, so the
// message is delivered and handled.
struct Parker : troupe::actor<Parker> {
  explicit Parker(troupe::ref<Sink> s) : sink(std::move(s)) {}
  struct Park {
    troupe::future<int> f;
  };
  struct Ping {};
  int on(Ping /*unused*/) { return 1; }
  task<void> on(Park p) {
    try {
      (void)co_await std::move(p.f);
    } catch (const troupe::error& e) {
      if (e.value() != troupe::errc::cancelled) throw;
      // A cancelled task's later awaits throw too; a send does not wait.
      sink.send(42);
    }
  }
  troupe::ref<Sink> sink;
};

}  // namespace

TEST_CASE("shutdown cancels tasks parked on futures and sleeps, then refuses go", "[task]") {
  auto sys = std::make_unique<troupe::system>(troupe::system_config{2});
  std::vector<troupe::promise<int>> nevers(50);  // never fulfilled
  std::atomic<int> started{0};
  std::atomic<int> cancelled{0};
  std::vector<troupe::task_handle<void>> hs;
  for (std::size_t i = 0; i < 50; ++i) {
    hs.push_back(sys->go([&, i, f = nevers[i].get_future()]() mutable -> task<> {
      started.fetch_add(1);
      if (i % 2 == 0) {
        // errc::cancelled, or errc::system_shutdown if the sleep starts
        // after shutdown closed the timers.
        co_await troupe::sleep_for(1h);
      } else {
        try {
          (void)co_await std::move(f);
        } catch (const troupe::error& e) {
          if (e.value() == troupe::errc::cancelled) cancelled.fetch_add(1);
          throw;
        }
      }
    }));
  }
  REQUIRE(eventually([&] { return started.load() == 50; }));
  sys->shutdown();
  // Shutdown returned only after every task had finished.
  REQUIRE(cancelled.load() == 25);
  for (std::size_t i = 0; i < hs.size(); ++i) {
    REQUIRE(hs[i].ready());
    const auto code = error_of([&] { hs[i].get(); });
    if (i % 2 == 0) {
      REQUIRE((code == troupe::errc::cancelled || code == troupe::errc::system_shutdown));
    } else {
      REQUIRE(code == troupe::errc::cancelled);
    }
  }
  REQUIRE(error_of([&] { (void)sys->go(add(1, 1)); }) == troupe::errc::system_shutdown);
  sys.reset();
}

TEST_CASE("shutdown cancels a suspended coroutine handler before it stops the actors",
          "[task][actors]") {
  std::atomic<int> answer{0};
  troupe::promise<int> never;
  {
    troupe::system sys(troupe::system_config{2});
    auto sink = sys.spawn<Sink>(&answer);
    auto parker = sys.spawn<Parker>(sink);
    parker.send(Parker::Park{never.get_future()});
    // Mailbox order: once Ping is answered, the Park handler has run to its
    // first suspension (and registered as a root).
    REQUIRE(parker.ask(Parker::Ping{}).get(10s) == 1);
    sys.shutdown();
  }
  REQUIRE(answer.load() == 42);
}

TEST_CASE("go racing with shutdown either is refused or runs and is cancelled", "[task][stress]") {
  for (int round = 0; round < 20; ++round) {
    auto sys = std::make_unique<troupe::system>(troupe::system_config{2});
    std::vector<std::vector<troupe::task_handle<void>>> handles(2);  // one per starter
    std::atomic<int> launched{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> starters;
    for (std::size_t t = 0; t < 2; ++t) {
      starters.emplace_back([&, t] {
        // Until go() refuses: every go() after shutdown has begun throws.
        for (;;) {
          try {
            handles[t].push_back(sys->go([]() -> task<> { co_await troupe::sleep_for(1h); }));
            launched.fetch_add(1);
          } catch (const troupe::error& e) {
            if (e.value() == troupe::errc::system_shutdown) refused.fetch_add(1);
            return;
          }
        }
      });
    }
    REQUIRE(eventually([&] { return launched.load() >= 10; }));
    sys->shutdown();
    for (auto& th : starters) th.join();
    REQUIRE(refused.load() == 2);
    // Every task that go() accepted had finished when shutdown returned.
    for (auto& hs : handles) {
      for (auto& h : hs) {
        REQUIRE(h.ready());
        const auto code = error_of([&] { h.get(); });
        REQUIRE((code == troupe::errc::cancelled || code == troupe::errc::system_shutdown));
      }
    }
    sys.reset();
  }
}
