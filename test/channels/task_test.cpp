// troupe::task on the pool: go, awaiting tasks/futures/timers, when_all,
// when_any, cancellation, and channel operations inside tasks.

#include <troupe/troupe.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::task;
using troupe::test::error_of;
using troupe::test::eventually;
using troupe::test::ms_since;

namespace {

task<int> add(int a, int b) { co_return a + b; }

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

struct Echo : troupe::actor<Echo> {
  int on(int x) { return x * 2; }
};

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
                      }).get(10s);
  const double ms = ms_since(t0);
  REQUIRE(a + b + c == 6);
  REQUIRE(ms >= 100.0);
  REQUIRE(ms < 250.0);
  // The vector form, and void tasks.
  auto all = sys.go([&]() -> task<std::vector<int>> {
                  std::vector<task<int>> ts;
                  for (int i = 0; i < 10; ++i) ts.push_back(nap(i));
                  co_return co_await troupe::when_all(std::move(ts));
                }).get(10s);
  REQUIRE(all == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  sys.go([]() -> task<> {
       auto [x, y] = co_await troupe::when_all(nothing(), nothing());
       (void)x;
       (void)y;
     }).get(10s);
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
  auto [index, value] = sys.go([&]() -> task<std::pair<std::size_t, std::variant<int, int, int>>> {
                             co_return co_await troupe::when_any(nap(5000, 1), nap(20, 2),
                                                                 nap(5000, 3));
                           }).get(10s);
  REQUIRE(index == 1);
  REQUIRE(std::get<1>(value) == 2);
  REQUIRE(cancelled.load() == 2);
  REQUIRE(ms_since(t0) < 2000.0);
  auto [i2, v2] = sys.go([&]() -> task<std::pair<std::size_t, int>> {
                       std::vector<task<int>> ts;
                       ts.push_back(nap(3000, 7));
                       ts.push_back(nap(10, 8));
                       co_return co_await troupe::when_any(std::move(ts));
                     }).get(10s);
  REQUIRE(i2 == 1);
  REQUIRE(v2 == 8);
}

TEST_CASE("a cancelled task wakes from any pending await with errc::cancelled", "[task]") {
  troupe::system sys(troupe::system_config{2});
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  auto ftx_frx_pair = troupe::make_channel<int>(1);
  [[maybe_unused]] auto& ftx = ftx_frx_pair.first;
  [[maybe_unused]] auto& frx = ftx_frx_pair.second;
  ftx.send(0);  // full
  troupe::promise<int> never;
  auto never_f = never.get_future();
  std::vector<troupe::task_handle<void>> hs;
  std::atomic<int> started{0};
  hs.push_back(sys.go([&started, rx = rx]() -> task<> {
    started.fetch_add(1);
    (void)co_await rx.recv();
  }));
  hs.push_back(sys.go([&started, ftx = ftx]() -> task<> {
    started.fetch_add(1);
    co_await ftx.send(1);
  }));
  hs.push_back(sys.go([&started]() -> task<> {
    started.fetch_add(1);
    co_await troupe::sleep_for(1h);
  }));
  hs.push_back(sys.go([&started, f = std::move(never_f)]() mutable -> task<> {
    started.fetch_add(1);
    (void)co_await f;
  }));
  hs.push_back(sys.go([&started, rx = rx, ftx = ftx]() -> task<> {
    started.fetch_add(1);
    co_await troupe::select(rx.on([](int) {}), ftx.on(2, [] {}), troupe::after(1h, [] {}));
  }));
  REQUIRE(eventually([&] { return started.load() == 5; }));
  std::this_thread::sleep_for(20ms);
  for (auto& h : hs) REQUIRE_FALSE(h.ready());
  const auto t0 = troupe::test::clock::now();
  for (auto& h : hs) h.request_stop();
  for (auto& h : hs) {
    std::string what;
    REQUIRE(error_of([&] { h.get(10s); }, &what) == troupe::errc::cancelled);
    REQUIRE(what.find("cancelled") != std::string::npos);
  }
  REQUIRE(ms_since(t0) < 2000.0);
  // The channels are intact: nothing was sent or taken by the cancelled ops.
  REQUIRE(*frx.recv() == 0);
  REQUIRE(frx.try_recv().status() == troupe::recv_status::empty);
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

TEST_CASE("channel operations in tasks: order, hand-off, close", "[task][channels]") {
  troupe::system sys(troupe::system_config{2});
  for (std::size_t cap : {std::size_t{0}, std::size_t{1}, std::size_t{16}}) {
    auto tx_rx_pair = troupe::make_channel<int>(cap);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    auto producer = sys.go([tx = std::move(tx)]() -> task<> {
      for (int i = 0; i < 1000; ++i) co_await tx.send(i);
    });  // dropping the callable (and tx) closes the channel
    auto consumer = sys.go([rx = rx]() -> task<std::vector<int>> {
      std::vector<int> got;
      while (auto v = co_await rx.recv()) got.push_back(*v);
      co_return got;
    });
    producer.get(10s);
    auto got = consumer.get(10s);
    REQUIRE(got.size() == 1000);
    bool ordered = true;
    for (int i = 0; i < 1000; ++i) ordered = ordered && got[static_cast<std::size_t>(i)] == i;
    REQUIRE(ordered);
  }
}

TEST_CASE("a task and a thread talk over rendezvous channels", "[task][channels]") {
  troupe::system sys(troupe::system_config{2});
  auto ping_tx_ping_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& ping_tx = ping_tx_ping_rx_pair.first;
  [[maybe_unused]] auto& ping_rx = ping_tx_ping_rx_pair.second;
  auto pong_tx_pong_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& pong_tx = pong_tx_pong_rx_pair.first;
  [[maybe_unused]] auto& pong_rx = pong_tx_pong_rx_pair.second;
  auto h = sys.go([ping_rx = ping_rx, pong_tx = pong_tx]() -> task<int> {
    int n = 0;
    while (auto v = co_await ping_rx.recv()) {
      co_await pong_tx.send(*v + 1);
      ++n;
    }
    co_return n;
  });
  int v = 0;
  for (int i = 0; i < 1000; ++i) {
    ping_tx.send(v);
    v = *pong_rx.recv();
  }
  ping_tx.close();
  REQUIRE(v == 1000);
  REQUIRE(h.get(10s) == 1000);
}

TEST_CASE("timed channel operations and select in tasks", "[task][channels]") {
  troupe::system sys(troupe::system_config{2});
  auto tx_rx_pair = troupe::make_channel<int>(1);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  auto h = sys.go([tx = tx, rx = rx]() -> task<std::string> {
    std::string log;
    auto r = co_await rx.recv_for(30ms);
    log += r.status() == troupe::recv_status::timeout ? "timeout " : "? ";
    co_await tx.send(1);
    auto s = co_await tx.send_for(2, 30ms);
    log += s == troupe::send_result::timeout ? "full " : "? ";
    const std::size_t i =
        co_await troupe::select(rx.on([&](int v) { log += "got" + std::to_string(v) + " "; }),
                                troupe::after(1s, [] {}));
    log += std::to_string(i) + " ";
    const std::size_t j = co_await troupe::select(rx.on([](int) {}),
                                                  troupe::after(20ms, [&] { log += "late "; }));
    log += std::to_string(j) + " ";
    const std::size_t k = co_await troupe::select(rx.on([](int) {}),
                                                  troupe::otherwise([&] { log += "default"; }));
    (void)k;
    co_return log;
  });
  REQUIRE(h.get(10s) == "timeout full got1 0 late 1 default");
}

TEST_CASE("10k tasks parked on channels run on 2 workers, blocking none", "[task][channels]") {
  troupe::system sys(troupe::system_config{2});
  constexpr int kTasks = 10000;
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  auto done_tx_done_rx_pair = troupe::make_channel<long>(troupe::unbounded);
  [[maybe_unused]] auto& done_tx = done_tx_done_rx_pair.first;
  [[maybe_unused]] auto& done_rx = done_tx_done_rx_pair.second;
  std::atomic<int> parked{0};
  std::vector<troupe::task_handle<void>> hs;
  hs.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    hs.push_back(sys.go([&parked, rx = rx, done_tx = done_tx]() -> task<> {
      parked.fetch_add(1);
      auto v = co_await rx.recv();
      co_await done_tx.send(*v);
    }));
  }
  REQUIRE(eventually([&] { return parked.load() == kTasks; }));
  // All 10k are suspended, yet the 2 workers are free: an actor still
  // answers and a fresh task still runs.
  auto echo = sys.spawn<Echo>();
  REQUIRE(echo.ask(4).get(5s) == 8);
  REQUIRE(sys.go(add(2, 3)).get(5s) == 5);
  for (int i = 0; i < kTasks; ++i) tx.send(i);
  long sum = 0;
  for (int i = 0; i < kTasks; ++i) sum += *done_rx.recv();
  REQUIRE(sum == static_cast<long>(kTasks) * (kTasks - 1) / 2);
  for (auto& h : hs) h.get(10s);
}

TEST_CASE("reading an operation that would wait in a task without co_await throws would_block_worker",
          "[task][channels]") {
  troupe::system sys(troupe::system_config{2});
  auto [tx, rx] = troupe::make_channel<int>(1);
  auto h = sys.go([tx = tx, rx = rx]() -> task<std::string> {
    std::string log;
    tx.send(1);  // room: completes without waiting, no co_await needed
    log += error_of([&] { (void)tx.send_for(2, 1s).status(); }) == troupe::errc::would_block_worker
               ? "send "
               : "? ";
    log += rx.recv().get() == 1 ? "recv " : "? ";
    log += error_of([&] { (void)rx.recv().get(); }) == troupe::errc::would_block_worker ? "recv2"
                                                                                          : "?";
    co_return log;
  });
  REQUIRE(h.get(10s) == "send recv recv2");
}

TEST_CASE("an operation that had to wait, dropped in a task without co_await, fails the task",
          "[task][channels]") {
  troupe::system sys(troupe::system_config{2});
  auto [tx, rx] = troupe::make_channel<int>(0);
  // Dropped, then the task returns: the return fails it.
  auto dropped_send = sys.go([tx = tx]() -> task<int> {
    tx.send(1);  // a rendezvous with no receiver: pending, never awaited
    co_return 1;
  });
  REQUIRE(error_of([&] { dropped_send.get(10s); }) == troupe::errc::would_block_worker);
  // Dropped, then the task waits on a channel: that wait fails it.
  auto dropped_select = sys.go([rx = rx]() -> task<void> {
    troupe::select(rx.on([](int) {}));  // pending, never awaited
    co_await rx.recv();                 // throws before waiting
  });
  REQUIRE(error_of([&] { dropped_select.get(10s); }) == troupe::errc::would_block_worker);
  // Dropped inside a nested task: the failure reaches the awaiting task.
  auto nested = sys.go([rx = rx]() -> task<std::string> {
    auto inner = [rx]() -> task<void> {
      (void)rx.recv();  // pending, never awaited
      co_return;
    };
    try {
      co_await inner();
    } catch (const troupe::error& e) {
      co_return e.value() == troupe::errc::would_block_worker ? std::string("inner failed")
                                                              : std::string(e.what());
    }
    co_return std::string("no failure");
  });
  REQUIRE(nested.get(10s) == "inner failed");
}

TEST_CASE("shutdown cancels running tasks and go afterwards throws system_shutdown", "[task]") {
  auto sys = std::make_unique<troupe::system>(troupe::system_config{2});
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  std::atomic<int> cancelled{0};
  std::vector<troupe::task_handle<void>> hs;
  for (int i = 0; i < 100; ++i) {
    hs.push_back(sys->go([&cancelled, rx = rx]() -> task<> {
      try {
        (void)co_await rx.recv();
      } catch (const troupe::error& e) {
        if (e.value() == troupe::errc::cancelled) cancelled.fetch_add(1);
        throw;
      }
    }));
  }
  REQUIRE(eventually([&] { return rx.size() == 0; }));
  std::this_thread::sleep_for(20ms);
  sys->shutdown();
  REQUIRE(cancelled.load() == 100);
  for (auto& h : hs) REQUIRE(error_of([&] { h.get(1s); }) == troupe::errc::cancelled);
  REQUIRE(error_of([&] { (void)sys->go(add(1, 1)); }) == troupe::errc::system_shutdown);
  sys.reset();
}
