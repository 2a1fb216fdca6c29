// Heavy, racy workloads ([stress]): run repeatedly under TSan and ASan.

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::task;
using troupe::test::error_of;

namespace {

// Every value 0..n-1 seen exactly once; returns the number of mismatches.
int count_mismatches(const std::vector<std::atomic<unsigned char>>& seen) {
  int bad = 0;
  for (const auto& s : seen) bad += s.load(std::memory_order_relaxed) != 1 ? 1 : 0;
  return bad;
}

}  // namespace

TEST_CASE("MPMC 4x4 moves 1M values with no loss and no duplicates (threads)",
          "[channels][stress]") {
  for (std::size_t cap : {std::size_t{0}, std::size_t{1}, std::size_t{64}, std::size_t{1024}}) {
    // Rendezvous hands off every value under the lock: fewer values keep the
    // sanitizer runs short.
    const int n = cap == 0 ? 100000 : 1000000;
    constexpr int kProducers = 4;
    constexpr int kConsumers = 4;
    auto tx_rx_pair = troupe::make_channel<int>(cap);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    std::vector<std::atomic<unsigned char>> seen(static_cast<std::size_t>(n));
    std::atomic<long> received{0};
    std::vector<std::thread> ts;
    for (int p = 0; p < kProducers; ++p) {
      ts.emplace_back([p, n, tx = tx] {
        for (int i = p; i < n; i += kProducers) tx.send(i);
      });
    }
    tx = troupe::sender<int>();
    for (int c = 0; c < kConsumers; ++c) {
      ts.emplace_back([&, rx = rx] {
        for (int v : rx) {
          seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
          received.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    rx = troupe::receiver<int>();
    for (auto& t : ts) t.join();
    INFO("capacity " << cap);
    REQUIRE(received.load() == n);
    REQUIRE(count_mismatches(seen) == 0);
  }
}

TEST_CASE("MPMC 4x4 moves 1M values with no loss and no duplicates (tasks)",
          "[channels][task][stress]") {
  troupe::system sys(troupe::system_config{2});
  for (std::size_t cap : {std::size_t{0}, std::size_t{1}, std::size_t{1024}}) {
    const int n = cap == 0 ? 100000 : 1000000;
    constexpr int kProducers = 4;
    constexpr int kConsumers = 4;
    auto tx_rx_pair = troupe::make_channel<int>(cap);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    std::vector<std::atomic<unsigned char>> seen(static_cast<std::size_t>(n));
    std::vector<troupe::task_handle<long>> hs;
    for (int p = 0; p < kProducers; ++p) {
      hs.push_back(sys.go([p, n, tx = tx]() -> task<long> {
        for (int i = p; i < n; i += kProducers) co_await tx.send(i);
        co_return 0;
      }));
    }
    tx = troupe::sender<int>();
    for (int c = 0; c < kConsumers; ++c) {
      hs.push_back(sys.go([&seen, rx = rx]() -> task<long> {
        long k = 0;
        while (auto v = co_await rx.recv()) {
          seen[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
          ++k;
        }
        co_return k;
      }));
    }
    rx = troupe::receiver<int>();
    long received = 0;
    for (auto& h : hs) received += h.get(120s);
    INFO("capacity " << cap);
    REQUIRE(received == n);
    REQUIRE(count_mismatches(seen) == 0);
  }
}

TEST_CASE("threads and tasks share one channel from both ends", "[channels][task][stress]") {
  troupe::system sys(troupe::system_config{2});
  for (std::size_t cap : {std::size_t{0}, std::size_t{8}}) {
    constexpr int n = 200000;
    auto tx_rx_pair = troupe::make_channel<int>(cap);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    std::vector<std::atomic<unsigned char>> seen(n);
    std::atomic<long> received{0};
    auto consume_task = [&seen, &received, rx = rx]() -> task<> {
      while (auto v = co_await rx.recv()) {
        seen[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
        received.fetch_add(1, std::memory_order_relaxed);
      }
    };
    auto h1 = sys.go(consume_task);
    auto h2 = sys.go(consume_task);
    std::thread consumer([&seen, &received, rx = rx] {
      for (int v : rx) {
        seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
        received.fetch_add(1, std::memory_order_relaxed);
      }
    });
    rx = troupe::receiver<int>();
    auto ptask = sys.go([tx = tx]() -> task<> {
      for (int i = 0; i < n; i += 2) co_await tx.send(i);
    });
    std::thread pthread([tx = tx] {
      for (int i = 1; i < n; i += 2) tx.send(i);
    });
    tx = troupe::sender<int>();
    ptask.get(120s);
    pthread.join();
    h1.get(120s);
    h2.get(120s);
    consumer.join();
    REQUIRE(received.load() == n);
    REQUIRE(count_mismatches(seen) == 0);
  }
}

TEST_CASE("selects on both sides of rendezvous channels hand each value over once",
          "[channels][select][stress]") {
  troupe::system sys(troupe::system_config{3});
  auto a_tx_a_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& a_tx = a_tx_a_rx_pair.first;
  [[maybe_unused]] auto& a_rx = a_tx_a_rx_pair.second;
  auto b_tx_b_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& b_tx = b_tx_b_rx_pair.first;
  [[maybe_unused]] auto& b_rx = b_tx_b_rx_pair.second;
  constexpr int n = 40000;
  std::vector<std::atomic<unsigned char>> seen(n);
  // Senders select over the two channels, so do receivers; two of each
  // side are threads, two are tasks.
  auto send_range = [&a_tx, &b_tx](int lo, int hi) {
    for (int i = lo; i < hi; ++i) troupe::select(a_tx.on(i, [] {}), b_tx.on(i, [] {}));
  };
  auto send_task = [&a_tx, &b_tx](int lo, int hi) -> task<> {
    for (int i = lo; i < hi; ++i) co_await troupe::select(a_tx.on(i, [] {}), b_tx.on(i, [] {}));
  };
  std::atomic<long> received{0};
  auto recv_loop = [&seen, &received, a_rx = a_rx, b_rx = b_rx] {
    auto f = [&](int v) {
      seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
      received.fetch_add(1, std::memory_order_relaxed);
    };
    while (error_of([&] { troupe::select(a_rx.on(f), b_rx.on(f)); }) == troupe::errc{}) {
    }
  };
  auto recv_task = [&seen, &received, a_rx = a_rx, b_rx = b_rx]() -> task<> {
    auto f = [&](int v) {
      seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
      received.fetch_add(1, std::memory_order_relaxed);
    };
    for (;;) {
      try {
        co_await troupe::select(a_rx.on(f), b_rx.on(f));
      } catch (const troupe::error&) {
        co_return;  // both closed
      }
    }
  };
  a_rx = troupe::receiver<int>();
  b_rx = troupe::receiver<int>();
  std::thread r1(recv_loop);
  std::thread r2(recv_loop);
  auto rt1 = sys.go(recv_task);
  auto rt2 = sys.go(recv_task);
  std::thread s1([&] { send_range(0, n / 4); });
  std::thread s2([&] { send_range(n / 4, n / 2); });
  auto st1 = sys.go(send_task(n / 2, 3 * n / 4));
  auto st2 = sys.go(send_task(3 * n / 4, n));
  s1.join();
  s2.join();
  st1.get(120s);
  st2.get(120s);
  a_tx = troupe::sender<int>();
  b_tx = troupe::sender<int>();
  r1.join();
  r2.join();
  rt1.get(120s);
  rt2.get(120s);
  REQUIRE(received.load() == n);
  REQUIRE(count_mismatches(seen) == 0);
}

TEST_CASE("closing races with blocked senders and receivers", "[channels][stress]") {
  troupe::system sys(troupe::system_config{2});
  for (int round = 0; round < 200; ++round) {
    const std::size_t cap = static_cast<std::size_t>(round % 3);
    auto tx_rx_pair = troupe::make_channel<int>(cap);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    std::atomic<long> sent{0};
    std::atomic<long> got{0};
    std::atomic<int> odd{0};
    std::vector<std::thread> ts;
    for (int k = 0; k < 2; ++k) {
      ts.emplace_back([&, tx = tx] {
        for (int i = 0;; ++i) {
          const auto e = error_of([&] { tx.send(i); });
          if (e == troupe::errc::channel_closed) return;
          if (e != troupe::errc{}) odd.fetch_add(1);
          sent.fetch_add(1);
        }
      });
      ts.emplace_back([&, rx = rx] {
        while (rx.recv().get()) got.fetch_add(1);
      });
    }
    auto h = sys.go([&got, rx = rx]() -> task<> {
      while (co_await rx.recv()) got.fetch_add(1);
    });
    rx = troupe::receiver<int>();
    std::this_thread::sleep_for(std::chrono::microseconds(200 + 37 * (round % 11)));
    tx.close();
    for (auto& t : ts) t.join();
    h.get(60s);
    // Every successful send was received (closing never loses a value).
    REQUIRE(odd.load() == 0);
    REQUIRE(got.load() == sent.load());
  }
}

TEST_CASE("cancellation races with wake-ups", "[channels][task][stress]") {
  troupe::system sys(troupe::system_config{2});
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  long delivered = 0;
  long received_total = 0;
  for (int round = 0; round < 1000; ++round) {
    auto h = sys.go([rx = rx]() -> task<int> {
      auto v = co_await rx.recv();
      co_return v ? 1 : 0;
    });
    std::thread canceller([&h, round] {
      if (round % 2 == 0) std::this_thread::yield();
      h.request_stop();
    });
    // Either the task takes the value, or it is cancelled and the value
    // stays for us; it is never both and never lost.
    const troupe::send_result r = tx.send_for(round, 20ms);
    canceller.join();
    int took = 0;
    const auto e = error_of([&] { took = h.get(10s); });
    if (r == troupe::send_result::ok) ++delivered;
    if (e == troupe::errc{}) received_total += took;
    INFO("round " << round);
    REQUIRE((e == troupe::errc{} || e == troupe::errc::cancelled));
    // A value handed off must have been received by the task.
    if (r == troupe::send_result::ok) REQUIRE(e == troupe::errc{});
  }
  REQUIRE(received_total == delivered);
}

TEST_CASE("a select with a default never takes it while one of its channels stays ready",
          "[channels][select][stress]") {
  // A mover walks a value around four channels, pushing into the next one
  // before it pops from the current one, so at every instant at least one
  // channel holds a value. A non-blocking select over all four must
  // therefore always find one (Go's select sees one snapshot of its
  // channels); taking the default would mean it looked at the channels at
  // different instants while the value moved past its scan.
  constexpr int kChannels = 4;
  std::vector<troupe::sender<int>> tx;
  std::vector<troupe::receiver<int>> rx;
  for (int i = 0; i < kChannels; ++i) {
    auto [t, r] = troupe::make_channel<int>(4);
    tx.push_back(std::move(t));
    rx.push_back(std::move(r));
  }
  REQUIRE(tx[0].try_send(0) == troupe::send_result::ok);
  std::atomic<bool> stop{false};
  std::thread mover([&, tx = tx, rx = rx] {
    for (int at = 0; !stop.load(std::memory_order_relaxed); at = (at + 1) % kChannels) {
      const int next = (at + 1) % kChannels;
      while (tx[static_cast<std::size_t>(next)].try_send(next) != troupe::send_result::ok) {
        if (stop.load(std::memory_order_relaxed)) return;
      }
      // The selector may hold the value for a moment (it puts it back).
      while (!rx[static_cast<std::size_t>(at)].try_recv()) {
        if (stop.load(std::memory_order_relaxed)) return;
      }
    }
  });
  int defaults = 0;
  auto put_back = [&](int v) {
    REQUIRE(tx[static_cast<std::size_t>(v)].try_send(v) == troupe::send_result::ok);
  };
  const auto until = std::chrono::steady_clock::now() + 2s;
  for (int i = 0; std::chrono::steady_clock::now() < until || i < 100000; ++i) {
    troupe::select(rx[0].on(put_back), rx[1].on(put_back), rx[2].on(put_back), rx[3].on(put_back),
                   troupe::otherwise([&] { ++defaults; }));
  }
  stop.store(true);
  mover.join();
  REQUIRE(defaults == 0);
}
