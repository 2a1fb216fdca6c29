// troupe::select on plain threads.

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <troupe/channels/select.hpp>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::test::error_of;
using troupe::test::ms_since;

TEST_CASE("select runs the arm whose channel is ready", "[channels][select]") {
  auto tx1_rx1_pair = troupe::make_channel<int>(1);
  [[maybe_unused]] auto& tx1 = tx1_rx1_pair.first;
  [[maybe_unused]] auto& rx1 = tx1_rx1_pair.second;
  auto tx2_rx2_pair = troupe::make_channel<std::string>(1);
  [[maybe_unused]] auto& tx2 = tx2_rx2_pair.first;
  [[maybe_unused]] auto& rx2 = tx2_rx2_pair.second;
  tx2.send("two");
  int got1 = 0;
  std::string got2;
  const std::size_t i = troupe::select(rx1.on([&](int v) { got1 = v; }),
                                       rx2.on([&](std::string s) { got2 = std::move(s); }));
  REQUIRE(i == 1);
  REQUIRE(got1 == 0);
  REQUIRE(got2 == "two");
}

TEST_CASE("select with a default arm returns at once when nothing is ready", "[channels][select]") {
  auto tx_rx_pair = troupe::make_channel<int>(1);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  bool defaulted = false;
  const auto t0 = troupe::test::clock::now();
  const std::size_t i =
      troupe::select(rx.on([](int) {}), troupe::otherwise([&] { defaulted = true; }));
  REQUIRE(i == 1);
  REQUIRE(defaulted);
  REQUIRE(ms_since(t0) < 50.0);
  // With a value there, the channel arm wins over the default.
  tx.send(3);
  int got = 0;
  REQUIRE(troupe::select(rx.on([&](int v) { got = v; }), troupe::otherwise([] {})) == 0);
  REQUIRE(got == 3);
}

TEST_CASE("select with a timeout arm runs it when nothing comes in time", "[channels][select]") {
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  bool timed_out = false;
  const auto t0 = troupe::test::clock::now();
  const std::size_t i =
      troupe::select(rx.on([](int) {}), troupe::after(60ms, [&] { timed_out = true; }));
  REQUIRE(i == 1);
  REQUIRE(timed_out);
  REQUIRE(ms_since(t0) >= 60.0);
}

TEST_CASE("select wakes when a value arrives on any arm", "[channels][select]") {
  auto tx1_rx1_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx1 = tx1_rx1_pair.first;
  [[maybe_unused]] auto& rx1 = tx1_rx1_pair.second;
  auto tx2_rx2_pair = troupe::make_channel<int>(4);
  [[maybe_unused]] auto& tx2 = tx2_rx2_pair.first;
  [[maybe_unused]] auto& rx2 = tx2_rx2_pair.second;
  std::thread late([tx2 = tx2] {
    std::this_thread::sleep_for(30ms);
    tx2.send(22);
  });
  int got = 0;
  const std::size_t i = troupe::select(rx1.on([&](int v) { got = v; }),
                                       rx2.on([&](int v) { got = v; }), troupe::after(10s, [] {}));
  late.join();
  REQUIRE(i == 1);
  REQUIRE(got == 22);
}

TEST_CASE("select sends on the arm that has room", "[channels][select]") {
  auto tx1_rx1_pair = troupe::make_channel<int>(1);
  [[maybe_unused]] auto& tx1 = tx1_rx1_pair.first;
  [[maybe_unused]] auto& rx1 = tx1_rx1_pair.second;
  auto tx2_rx2_pair = troupe::make_channel<int>(1);
  [[maybe_unused]] auto& tx2 = tx2_rx2_pair.first;
  [[maybe_unused]] auto& rx2 = tx2_rx2_pair.second;
  tx1.send(0);  // full
  bool sent = false;
  const std::size_t i = troupe::select(tx1.on(1, [] {}), tx2.on(2, [&] { sent = true; }));
  REQUIRE(i == 1);
  REQUIRE(sent);
  REQUIRE(*rx2.recv() == 2);
  REQUIRE(*rx1.recv() == 0);
  REQUIRE(rx1.try_recv().status() == troupe::recv_status::empty);  // 1 was not sent
}

TEST_CASE("a select send on a rendezvous channel hands off to a receiver", "[channels][select]") {
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  auto tx_other_rx_other_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx_other = tx_other_rx_other_pair.first;
  [[maybe_unused]] auto& rx_other = tx_other_rx_other_pair.second;
  std::atomic<int> got{0};
  std::thread consumer([&got, rx = rx] { got.store(*rx.recv()); });
  const std::size_t i = troupe::select(tx.on(77, [] {}), rx_other.on([](int) {}));
  consumer.join();
  REQUIRE(i == 0);
  REQUIRE(got.load() == 77);
}

TEST_CASE("select picks uniformly among ready arms (fixed seed)", "[channels][select]") {
  // Both channels always have a value: over many selects each arm wins
  // about half of the time. The seed makes the counts repeatable.
  troupe::seed_select(12345);
  auto tx1_rx1_pair = troupe::make_channel<int>(troupe::unbounded);
  [[maybe_unused]] auto& tx1 = tx1_rx1_pair.first;
  [[maybe_unused]] auto& rx1 = tx1_rx1_pair.second;
  auto tx2_rx2_pair = troupe::make_channel<int>(troupe::unbounded);
  [[maybe_unused]] auto& tx2 = tx2_rx2_pair.first;
  [[maybe_unused]] auto& rx2 = tx2_rx2_pair.second;
  auto tx3_rx3_pair = troupe::make_channel<int>(troupe::unbounded);
  [[maybe_unused]] auto& tx3 = tx3_rx3_pair.first;
  [[maybe_unused]] auto& rx3 = tx3_rx3_pair.second;
  constexpr int kRounds = 30000;
  for (int i = 0; i < kRounds; ++i) {
    tx1.send(1);
    tx2.send(2);
    tx3.send(3);
  }
  int wins[3] = {0, 0, 0};
  for (int i = 0; i < kRounds; ++i) {
    const std::size_t k =
        troupe::select(rx1.on([](int) {}), rx2.on([](int) {}), rx3.on([](int) {}));
    ++wins[k];
  }
  for (int w : wins) {
    REQUIRE(w > kRounds / 3 - kRounds / 20);
    REQUIRE(w < kRounds / 3 + kRounds / 20);
  }
  // Repeatable: the same seed gives the same sequence of picks.
  auto picks = [&](std::uint64_t seed) {
    troupe::seed_select(seed);
    std::vector<std::size_t> out;
    for (int i = 0; i < 64; ++i) {
      tx1.send(1);
      tx2.send(2);
      out.push_back(troupe::select(rx1.on([](int) {}), rx2.on([](int) {})));
    }
    return out;
  };
  REQUIRE(picks(7) == picks(7));
}

TEST_CASE("a select receive arm taking optional sees the close", "[channels][select]") {
  auto tx_rx_pair = troupe::make_channel<int>(2);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  tx.send(1);
  tx.close();
  std::vector<std::optional<int>> seen;
  for (int k = 0; k < 2; ++k) {
    troupe::select(rx.on([&](std::optional<int> v) { seen.push_back(v); }));
  }
  REQUIRE(seen.size() == 2);
  REQUIRE(seen[0] == 1);
  REQUIRE_FALSE(seen[1].has_value());
}

TEST_CASE("select skips closed arms and fails when every channel is closed", "[channels][select]") {
  auto tx1_rx1_pair = troupe::make_channel<int>(1);
  [[maybe_unused]] auto& tx1 = tx1_rx1_pair.first;
  [[maybe_unused]] auto& rx1 = tx1_rx1_pair.second;
  auto tx2_rx2_pair = troupe::make_channel<int>(1);
  [[maybe_unused]] auto& tx2 = tx2_rx2_pair.first;
  [[maybe_unused]] auto& rx2 = tx2_rx2_pair.second;
  tx1.close();
  tx2.send(5);
  int got = 0;
  REQUIRE(troupe::select(rx1.on([](int) {}), rx2.on([&](int v) { got = v; })) == 1);
  REQUIRE(got == 5);
  tx2.close();
  std::string what;
  REQUIRE(error_of([&] { troupe::select(rx1.on([](int) {}), rx2.on([](int) {})); }, &what) ==
          troupe::errc::channel_closed);
  REQUIRE(what.find("every channel is closed") != std::string::npos);
  // A timeout arm does not change it: nothing but the timeout could fire.
  REQUIRE(error_of([&] { troupe::select(rx1.on([](int) {}), troupe::after(10ms, [] {})); }) ==
          troupe::errc::channel_closed);
}

TEST_CASE("a select blocked on a channel wakes when it is closed", "[channels][select]") {
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  std::thread closer([tx = tx] {
    std::this_thread::sleep_for(20ms);
    tx.close();
  });
  bool ended = false;
  troupe::select(rx.on([&](std::optional<int> v) { ended = !v.has_value(); }));
  closer.join();
  REQUIRE(ended);
}

TEST_CASE("a select send arm on a closed channel throws", "[channels][select]") {
  auto tx_rx_pair = troupe::make_channel<int>(1);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  tx.close();
  REQUIRE(error_of([&] { troupe::select(tx.on(1, [] {})); }) == troupe::errc::channel_closed);
}

TEST_CASE("a select with only a timeout arm sleeps", "[channels][select]") {
  const auto t0 = troupe::test::clock::now();
  REQUIRE(troupe::select(troupe::after(20ms, [] {})) == 0);
  REQUIRE(ms_since(t0) >= 20.0);
}

TEST_CASE("each rendezvous value is taken by exactly one select", "[channels][select]") {
  // Two selecting receivers race for values on two rendezvous channels fed
  // by two senders: every value arrives exactly once.
  auto tx1_rx1_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx1 = tx1_rx1_pair.first;
  [[maybe_unused]] auto& rx1 = tx1_rx1_pair.second;
  auto tx2_rx2_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx2 = tx2_rx2_pair.first;
  [[maybe_unused]] auto& rx2 = tx2_rx2_pair.second;
  constexpr int kPer = 2000;
  std::vector<std::atomic<int>> seen(2 * kPer);
  std::atomic<int> total{0};
  // A closed channel's arm is skipped; once both are closed, select throws.
  auto consume = [&, a = rx1, b = rx2] {
    auto f = [&](int v) {
      seen[static_cast<std::size_t>(v)].fetch_add(1);
      total.fetch_add(1);
    };
    while (error_of([&] { troupe::select(a.on(f), b.on(f)); }) == troupe::errc{}) {
    }
  };
  std::thread c1(consume);
  std::thread c2(consume);
  std::thread p1([tx = std::move(tx1)] {
    for (int i = 0; i < kPer; ++i) tx.send(i);
  });
  std::thread p2([tx = std::move(tx2)] {
    for (int i = kPer; i < 2 * kPer; ++i) tx.send(i);
  });
  p1.join();
  p2.join();
  c1.join();
  c2.join();
  REQUIRE(total.load() == 2 * kPer);
  int wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1 ? 1 : 0;
  REQUIRE(wrong == 0);
}

TEST_CASE("a select with after ends on closed channels instead of timing out forever",
          "[channels][select]") {
  auto [tx, rx] = troupe::make_channel<int>(1);
  int timeouts = 0;
  auto wait_once = [&, rx = rx] {
    troupe::select(rx.on([](int /*unused*/) {}),
                   troupe::after(std::chrono::hours(1), [&] { ++timeouts; }));
  };
  SECTION("closed before the select") {
    tx.close();
    std::string what;
    REQUIRE(error_of(wait_once, &what) == troupe::errc::channel_closed);
    REQUIRE(what.find("every channel is closed") != std::string::npos);
  }
  SECTION("closed while the select waits") {
    std::atomic<int> code{-1};
    std::thread waiter([&] { code.store(static_cast<int>(error_of(wait_once))); });
    std::this_thread::sleep_for(20ms);  // usually parked by now; either way it must end
    tx.close();
    waiter.join();
    REQUIRE(code.load() == static_cast<int>(troupe::errc::channel_closed));
  }
  SECTION("the optional<T> idiom sees the close inside the loop") {
    REQUIRE(tx.try_send(7) == troupe::send_result::ok);
    tx.close();
    std::vector<int> got;
    for (bool open = true; open;) {
      troupe::select(rx.on([&](std::optional<int> v) {
        if (v) {
          got.push_back(*v);
        } else {
          open = false;
        }
      }),
                     troupe::after(std::chrono::hours(1), [&] { ++timeouts; }));
    }
    REQUIRE(got == std::vector<int>{7});
  }
  REQUIRE(timeouts == 0);
}

TEST_CASE("a select with only an after arm still sleeps", "[channels][select]") {
  bool fired = false;
  REQUIRE(troupe::select(troupe::after(1ms, [&] { fired = true; })) == 0);
  REQUIRE(fired);
}
