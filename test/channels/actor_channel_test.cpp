// Actors and channels together: channel ends inside messages, and blocking
// channel calls in plain handlers (coroutine handlers without channels are
// tested in test/actors/coroutine_handler_test.cpp).

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <troupe/troupe.hpp>

#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::task;
using troupe::test::error_of;

namespace {

struct Feed {
  troupe::sender<int> out;
  int n;
};
struct Drain {
  troupe::receiver<int> in;
};

// Takes channel ends inside messages.
class Pump : public troupe::actor<Pump> {
 public:
  void on(Feed m) {
    for (int i = 0; i < m.n; ++i) {
      // A buffered channel with room: completes without waiting.
      if (m.out.try_send(i) != troupe::send_result::ok) failed_ = true;
    }
  }
  task<long> on(Drain m) {
    long sum = 0;
    while (auto v = co_await m.in.recv()) sum += *v;
    co_return sum;
  }
  bool on(int /*unused*/) const { return failed_; }

 private:
  bool failed_ = false;
};

struct Push {
  troupe::sender<int> out;
};

class Blocker : public troupe::actor<Blocker> {
 public:
  std::string on(Push m) {
    // A plain handler must not wait on a worker: the send would block.
    return troupe::test::error_of([&] { m.out.send(1); }) == troupe::errc::would_block_worker
               ? "refused"
               : "sent";
  }
};

}  // namespace

TEST_CASE("channel ends travel inside actor messages", "[actors][channels]") {
  troupe::system sys(troupe::system_config{2});
  auto pump = sys.spawn<Pump>();
  auto tx_rx_pair = troupe::make_channel<int>(1000);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;
  pump.send(Feed{tx, 1000});
  tx = troupe::sender<int>();  // the message holds the last sender; it closes when handled
  auto drained = pump.ask(Drain{rx});
  REQUIRE(drained.get(10s) == 999L * 1000L / 2);
  REQUIRE_FALSE(pump.ask(0).get(10s));
}

TEST_CASE("a blocking channel call in a plain actor handler is refused", "[actors][channels]") {
  troupe::system sys(troupe::system_config{2});
  auto b = sys.spawn<Blocker>();
  auto tx_rx_pair = troupe::make_channel<int>(0);
  [[maybe_unused]] auto& tx = tx_rx_pair.first;
  [[maybe_unused]] auto& rx = tx_rx_pair.second;  // rendezvous: no receiver, so it would wait
  REQUIRE(b.ask(Push{tx}).get(10s) == "refused");
}
