// The lifetime of children against their system's: a spawn refused by a
// system that is shutting down starts nothing, and a system's end leaves
// no child process (running or a zombie) and no descriptor behind.

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "process_fixtures.hpp"

using namespace std::chrono_literals;

namespace {

/// Waits (up to 30 s) for the descriptor count to come back to `fds`;
/// true if it did.
bool fds_back_to(std::size_t fds) {
  for (int i = 0; i < 1500 && pt::fd_count() != fds; ++i) std::this_thread::sleep_for(20ms);
  return pt::fd_count() == fds;
}

/// Starts the I/O runtime (its descriptors stay open) before a baseline.
void warm_up() {
  troupe::system sys;
  auto c = troupe::spawn_isolated<pt::Counter>(sys);
  REQUIRE(c.ask(pt::Get{}).get(30s) == 0);
}

}  // namespace

TEST_CASE("a spawn after shutdown began starts no child", "[nodes][process]") {
  warm_up();
  const std::size_t fds = pt::fd_count();
  const std::string fds_list = pt::fd_list();
  for (int i = 0; i < 5; ++i) {
    troupe::system sys;
    sys.shutdown();
    try {
      (void)troupe::spawn_isolated<pt::Counter>(sys);
      FAIL("a spawn after shutdown succeeded");
    } catch (const troupe::error& e) {
      INFO(e.what());
      CHECK(e.value() == troupe::errc::system_shutdown);
    }
    CHECK(pt::no_children_left());
  }
  INFO("fds before: " << fds_list << "\nfds now: " << pt::fd_list());
  CHECK(fds_back_to(fds));
  CHECK(pt::no_children_left());
}

TEST_CASE("a system's end leaves no child and no descriptor behind", "[nodes][process]") {
  warm_up();
  const std::size_t fds = pt::fd_count();
  const std::string fds_list = pt::fd_list();
  std::vector<troupe::future<std::string>> in_flight;
  for (int round = 0; round < 30; ++round) {
    {
      troupe::system sys;
      auto sup = sys.spawn<troupe::supervisor>(troupe::supervisor_options{});
      troupe::child_options opts;
      opts.name = "counter";
      auto proxied = troupe::start_child<pt::Counter>(sup, opts, troupe::isolated);
      auto direct = troupe::spawn_isolated<pt::Counter>(sys);
      // Every other round, the system ends with the proxy's child running
      // (else it may end while the proxy starts it).
      if (round % 2 == 0) REQUIRE(proxied.ask(pt::Get{}).get(30s) == 0);
      for (int i = 0; i < 20; ++i) {
        in_flight.push_back(proxied.ask(pt::Echo{"p"}));
        in_flight.push_back(direct.ask(pt::Echo{"d"}));
      }
    }
    INFO("round " << round);
    REQUIRE(pt::no_children_left());
  }
  for (auto& f : in_flight) {
    // Answered or failed, never left hanging.
    try {
      (void)f.get(30s);
    } catch (const troupe::error& e) {
      CHECK(e.value() != troupe::errc::timeout);
    }
  }
  INFO("fds before: " << fds_list << "\nfds now: " << pt::fd_list());
  CHECK(fds_back_to(fds));
  CHECK(pt::no_children_left());
}
