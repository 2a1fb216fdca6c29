// Go-like channel semantics, on plain threads.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <troupe/actors/system.hpp>
#include <troupe/channels/channel.hpp>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::test::error_of;
using troupe::test::eventually;
using troupe::test::ms_since;

TEST_CASE("a buffered channel delivers values in send order", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(8);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  std::thread producer([tx = std::move(tx)] {
    for (int i = 0; i < 1000; ++i) tx.send(i);
  });
  std::vector<int> got;
  for (int v : rx) got.push_back(v);
  producer.join();
  REQUIRE(got.size() == 1000);
  for (int i = 0; i < 1000; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("a rendezvous send waits until a receiver takes the value", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<std::string>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  std::atomic<bool> sent{false};
  std::thread producer([&sent, tx = tx] {
    tx.send("hand-off");
    sent.store(true);
  });
  std::this_thread::sleep_for(50ms);
  REQUIRE_FALSE(sent.load());  // nobody received yet: the sender is still waiting
  REQUIRE(rx.size() == 0);
  std::optional<std::string> v = rx.recv();
  REQUIRE(v == "hand-off");
  REQUIRE(eventually([&] { return sent.load(); }));
  producer.join();
}

TEST_CASE("a rendezvous try_send succeeds only with a receiver waiting", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  REQUIRE(tx.try_send(1) == troupe::send_result::full);
  std::atomic<int> got{-1};
  std::thread consumer([&got, rx = rx] { got.store(*rx.recv()); });
  REQUIRE(eventually([&] { return tx.try_send(42) == troupe::send_result::ok; }));
  consumer.join();
  REQUIRE(got.load() == 42);
}

TEST_CASE("closing wakes every blocked receiver", "[channels]") {
  for (std::size_t cap : {std::size_t{0}, std::size_t{4}}) {
    auto tx_rx_pair = troupe::make_channel<int>(cap);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    constexpr int kReceivers = 6;
    std::atomic<int> ended{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kReceivers; ++i) {
      ts.emplace_back([&ended, rx = rx] {
        if (!rx.recv().has_value()) ended.fetch_add(1);
      });
    }
    std::this_thread::sleep_for(30ms);
    REQUIRE(ended.load() == 0);
    REQUIRE(tx.close());
    for (auto& t : ts) t.join();
    REQUIRE(ended.load() == kReceivers);
  }
}

TEST_CASE("closing fails every blocked sender", "[channels]") {
  for (std::size_t cap : {std::size_t{0}, std::size_t{2}}) {
    auto tx_rx_pair = troupe::make_channel<int>(cap);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    for (std::size_t i = 0; i < cap; ++i) tx.send(static_cast<int>(i));  // now full
    constexpr int kSenders = 5;
    std::atomic<int> failed{0};
    std::atomic<int> wrong{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kSenders; ++i) {
      ts.emplace_back([&, tx = tx] {
        std::string what;
        const auto e = error_of([&] { tx.send(99); }, &what);
        if (e == troupe::errc::channel_closed && what.find("closed") != std::string::npos) {
          failed.fetch_add(1);
        } else {
          wrong.fetch_add(1);
        }
      });
    }
    std::this_thread::sleep_for(30ms);
    REQUIRE(failed.load() == 0);
    REQUIRE(tx.close());
    for (auto& t : ts) t.join();
    REQUIRE(failed.load() == kSenders);
    REQUIRE(wrong.load() == 0);
    // What was buffered before the close is still delivered, then the end.
    std::vector<int> rest;
    for (int v : rx) rest.push_back(v);
    REQUIRE(rest.size() == cap);
  }
}

TEST_CASE("receivers drain what was buffered after close, then see the end", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(16);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  for (int i = 0; i < 10; ++i) tx.send(i);
  REQUIRE(tx.close());
  REQUIRE(rx.closed());
  for (int i = 0; i < 10; ++i) {
    auto r = rx.try_recv();
    REQUIRE(r.status() == troupe::recv_status::ok);
    REQUIRE(*r == i);
  }
  REQUIRE(rx.try_recv().status() == troupe::recv_status::closed);
  REQUIRE_FALSE(rx.recv().has_value());
  REQUIRE(rx.recv_for(10ms).status() == troupe::recv_status::closed);
}

TEST_CASE("a send on a closed channel is an error that says so", "[channels]") {
  for (std::size_t cap : {std::size_t{0}, std::size_t{4}}) {
    auto tx_rx_pair = troupe::make_channel<int>(cap);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    tx.close();
    std::string what;
    REQUIRE(error_of([&] { tx.send(1); }, &what) == troupe::errc::channel_closed);
    REQUIRE(what.find("sender::send") != std::string::npos);
    REQUIRE(what.find("closed") != std::string::npos);
    REQUIRE(tx.try_send(1) == troupe::send_result::closed);
    REQUIRE(tx.send_for(1, 10ms).status() == troupe::send_result::closed);
  }
  auto tx_rx_pair = troupe::make_channel<int>(troupe::unbounded);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  tx.close();
  REQUIRE(error_of([&] { tx.send(1); }) == troupe::errc::channel_closed);
}

TEST_CASE("a send once every receiver is gone is an error naming it", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(4);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  auto rx2 = rx.clone();
  rx = troupe::receiver<int>();
  tx.send(1);  // one receiver left
  rx2 = troupe::receiver<int>();
  REQUIRE(tx.receivers_gone());
  std::string what;
  REQUIRE(error_of([&] { tx.send(2); }, &what) == troupe::errc::channel_closed);
  REQUIRE(what.find("every receiver is gone") != std::string::npos);
}

TEST_CASE("a blocked sender fails when the last receiver goes away", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  std::atomic<int> code{0};
  std::thread sender(
      [&code, tx = tx] { code.store(static_cast<int>(error_of([&] { tx.send(1); }))); });
  std::this_thread::sleep_for(20ms);
  rx = troupe::receiver<int>();
  sender.join();
  REQUIRE(code.load() == static_cast<int>(troupe::errc::channel_closed));
}

TEST_CASE("a second close does nothing and returns false", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(2);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  tx.send(7);
  REQUIRE(tx.close());
  REQUIRE_FALSE(tx.close());
  auto tx2 = tx.clone();
  REQUIRE_FALSE(tx2.close());
  REQUIRE(*rx.recv() == 7);  // the buffered value survives both
  REQUIRE_FALSE(rx.recv().has_value());
}

TEST_CASE("the channel closes when its last sender is destroyed", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(4);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  auto tx2 = tx;
  tx.send(1);
  tx = troupe::sender<int>();
  REQUIRE_FALSE(rx.closed());  // tx2 is still there
  tx2.send(2);
  tx2 = troupe::sender<int>();
  REQUIRE(rx.closed());
  std::vector<int> got;
  for (int v : rx) got.push_back(v);
  REQUIRE(got == std::vector<int>{1, 2});
}

// docs/channels.md "Several producers": each producer owns a clone of the
// sender and drops it when done; the channel closes when the last one goes,
// so no value of a slower producer is lost.
TEST_CASE("several producers each drop their sender; the last one closes the channel",
          "[channels]") {
  constexpr int kProducers = 4;
  constexpr int kEach = 2000;
  auto tx_rx_pair = troupe::make_channel<int>(16);
  auto& tx = tx_rx_pair.first;
  auto& rx = tx_rx_pair.second;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([p, tx = tx.clone()] {
      // Producers finish at different times: the later ones send after the
      // first is done.
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * p));
      for (int i = 0; i < kEach; ++i) tx.send(p * kEach + i);
    });  // the thread's copy of the sender goes when the thread ends
  }
  tx = troupe::sender<int>();  // main's own sender: only the producers' remain
  std::vector<int> got;
  for (int v : rx) got.push_back(v);  // ends when the last producer is done
  for (auto& t : producers) t.join();
  REQUIRE(got.size() == std::size_t{kProducers} * kEach);
  std::sort(got.begin(), got.end());
  for (int i = 0; i < kProducers * kEach; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("close() by one producer ends the channel for the others", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(4);
  auto& tx = tx_rx_pair.first;
  auto& rx = tx_rx_pair.second;
  auto slower = tx.clone();
  tx.send(1);
  REQUIRE(tx.close());  // the first producer is done and closes
  CHECK_THROWS_WITH(slower.send(2), Catch::Contains("closed"));
  std::vector<int> got;
  for (int v : rx) got.push_back(v);
  REQUIRE(got == std::vector<int>{1});
}

TEST_CASE("try_recv on an empty channel and try_send on a full one do not wait", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(2);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  REQUIRE(rx.try_recv().status() == troupe::recv_status::empty);
  REQUIRE_FALSE(rx.try_recv());
  REQUIRE(tx.try_send(1) == troupe::send_result::ok);
  REQUIRE(tx.try_send(2) == troupe::send_result::ok);
  REQUIRE(tx.try_send(3) == troupe::send_result::full);
  REQUIRE(rx.size() == 2);
  REQUIRE(rx.capacity() == 2);
  auto r = rx.try_recv();
  REQUIRE(r);
  REQUIRE(r.value() == 1);
}

TEST_CASE("try_send keeps the value when it does not send", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<std::unique_ptr<int>>(1);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  auto a = std::make_unique<int>(1);
  auto b = std::make_unique<int>(2);
  REQUIRE(tx.try_send(std::move(a)) == troupe::send_result::ok);
  REQUIRE(a == nullptr);
  REQUIRE(tx.try_send(std::move(b)) == troupe::send_result::full);
  REQUIRE(b != nullptr);  // not moved from
  REQUIRE(*b == 2);
}

TEST_CASE("recv_for times out on an empty channel", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(4);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  const auto t0 = troupe::test::clock::now();
  auto r = rx.recv_for(50ms);
  REQUIRE(r.status() == troupe::recv_status::timeout);
  REQUIRE(ms_since(t0) >= 50.0);
  // A value that arrives within the deadline is received.
  std::thread late([tx = tx] {
    std::this_thread::sleep_for(20ms);
    tx.send(5);
  });
  auto r2 = rx.recv_for(5s);
  late.join();
  REQUIRE(r2.status() == troupe::recv_status::ok);
  REQUIRE(*r2 == 5);
}

TEST_CASE("send_for times out on a full channel", "[channels]") {
  for (std::size_t cap : {std::size_t{0}, std::size_t{1}}) {
    auto tx_rx_pair = troupe::make_channel<int>(cap);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    if (cap == 1) tx.send(0);
    const auto t0 = troupe::test::clock::now();
    troupe::send_result s = tx.send_for(1, 40ms);
    REQUIRE(s == troupe::send_result::timeout);
    REQUIRE(ms_since(t0) >= 40.0);
    // The timed-out value was not sent.
    if (cap == 1) {
      REQUIRE(*rx.recv() == 0);
    }
    REQUIRE(rx.try_recv().status() == troupe::recv_status::empty);
  }
}

TEST_CASE("an unbounded channel never makes a sender wait", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(troupe::unbounded);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  for (int i = 0; i < 100000; ++i) REQUIRE(tx.try_send(i) == troupe::send_result::ok);
  REQUIRE(rx.size() == 100000);
  tx.close();
  long sum = 0;
  for (int v : rx) sum += v;
  REQUIRE(sum == 100000L * 99999L / 2);
}

TEST_CASE("a blocked receiver of an unbounded channel wakes on send", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<std::string>(troupe::unbounded);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  std::atomic<bool> ok{false};
  std::thread consumer(
      [&ok, rx = rx] { ok.store(rx.recv().get() == std::optional<std::string>("x")); });
  std::this_thread::sleep_for(20ms);
  tx.send("x");
  consumer.join();
  REQUIRE(ok.load());
}

TEST_CASE("range-for over a receiver ends when the channel is closed and drained", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  std::thread producer([tx = std::move(tx)] {
    for (int i = 1; i <= 5; ++i) tx.send(i);
  });  // the lambda, and with it the last sender, is destroyed when the thread ends
  int sum = 0;
  for (int v : rx) sum += v;
  producer.join();
  REQUIRE(sum == 15);
}

TEST_CASE("values still buffered are destroyed with the channel", "[channels]") {
  using troupe::test::counted;
  const int before = counted::live.load();
  {
    auto tx_rx_pair = troupe::make_channel<counted>(8);
    [[maybe_unused]] auto& tx = tx_rx_pair.first;
    [[maybe_unused]] auto& rx = tx_rx_pair.second;
    for (int i = 0; i < 5; ++i) tx.send(counted(i));
    auto tx2_rx2_pair = troupe::make_channel<counted>(troupe::unbounded);
    [[maybe_unused]] auto& tx2 = tx2_rx2_pair.first;
    [[maybe_unused]] auto& rx2 = tx2_rx2_pair.second;
    for (int i = 0; i < 5; ++i) tx2.send(counted(i));
    REQUIRE(counted::live.load() == before + 10);
  }
  REQUIRE(counted::live.load() == before);
}

TEST_CASE("a wrapped-around ring keeps FIFO order", "[channels]") {
  auto tx_rx_pair = troupe::make_channel<int>(3);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 100; ++round) {
    for (int k = 0; k < 1 + round % 3; ++k)
      REQUIRE(tx.try_send(next_in++) == troupe::send_result::ok);
    while (auto r = rx.try_recv()) REQUIRE(*r == next_out++);
  }
  REQUIRE(next_in == next_out);
}

TEST_CASE("empty handles throw invalid_argument", "[channels]") {
  troupe::sender<int> tx;
  troupe::receiver<int> rx;
  REQUIRE_FALSE(tx);
  REQUIRE(error_of([&] { tx.send(1); }) == troupe::errc::invalid_argument);
  REQUIRE(error_of([&] { (void)rx.try_recv(); }) == troupe::errc::invalid_argument);
}

TEST_CASE("make_channel refuses a capacity it cannot hold, naming it", "[channels]") {
  std::string what;
  const int negative = -1;
  REQUIRE(error_of([&] { troupe::make_channel<int>(static_cast<std::size_t>(negative)); }, &what) ==
          troupe::errc::invalid_argument);
  REQUIRE(what.find("capacity 18446744073709551615") != std::string::npos);
  REQUIRE(what.find("-1 converted") != std::string::npos);
  REQUIRE(error_of([&] { troupe::make_channel<int>((std::size_t{1} << 40) + 1); }, &what) ==
          troupe::errc::invalid_argument);
  REQUIRE(what.find("exceeds the maximum") != std::string::npos);
  // Within the limit but far beyond memory: refused by name, not bad_alloc.
  REQUIRE(error_of([&] { troupe::make_channel<std::array<char, 4096>>(std::size_t{1} << 40); },
                   &what) == troupe::errc::invalid_argument);
  REQUIRE(what.find("too large to allocate") != std::string::npos);
  // The largest sizes that fit still work.
  auto [tx, rx] = troupe::make_channel<int>(1000000);
  REQUIRE(tx.try_send(1) == troupe::send_result::ok);
  REQUIRE(rx.try_recv().value() == 1);
}

TEST_CASE("a traced channel close is an instant of the closing thread", "[channels][trace]") {
  const std::string path = "/tmp/troupe-trace-test-" + std::to_string(::getpid()) + "-close.json";
  troupe::system sys;
  sys.trace_start(path);
  {
    auto tx_rx_pair = troupe::make_channel<int>(4);
    REQUIRE(tx_rx_pair.first.close());
    REQUIRE_FALSE(tx_rx_pair.first.close());  // a second close is no event
  }
  sys.trace_stop();
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::remove(path.c_str());
  const std::string text = ss.str();
  std::size_t n = 0;
  for (auto at = text.find("\"channel close\""); at != std::string::npos;
       at = text.find("\"channel close\"", at + 1)) {
    ++n;
  }
  CHECK(n == 1);
}
