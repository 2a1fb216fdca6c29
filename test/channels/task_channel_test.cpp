// troupe::task with channels: channel operations and select inside tasks,
// cancellation of a pending channel await, and shutdown of tasks parked on
// channels.

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "../actors/task_util.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::task;
using namespace troupe::test;  // NOLINT(google-build-using-namespace): add, Echo, error_of, ...

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
    const std::size_t i = co_await troupe::select(
        rx.on([&](int v) { log += "got" + std::to_string(v) + " "; }), troupe::after(1s, [] {}));
    log += std::to_string(i) + " ";
    const std::size_t j =
        co_await troupe::select(rx.on([](int) {}), troupe::after(20ms, [&] { log += "late "; }));
    log += std::to_string(j) + " ";
    const std::size_t k =
        co_await troupe::select(rx.on([](int) {}), troupe::otherwise([&] { log += "default"; }));
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

TEST_CASE(
    "reading an operation that would wait in a task without co_await throws would_block_worker",
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
