// A supervisor restarts an isolated actor: the child process is owned by a
// local actor that monitors it and exits with the child's down reason, so
// the supervisor's restart of the owner starts a new child process.

#include <signal.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "process_fixtures.hpp"

using namespace std::chrono_literals;

namespace {

struct which_pid {};

class counter_owner : public troupe::actor<counter_owner> {
 public:
  counter_owner() : child_(troupe::spawn_isolated<pt::Counter>(system())) {}
  void on_start() { monitor(child_.addr()); }
  // An abnormal reason (peer lost): the supervisor restarts this owner,
  // whose constructor starts a new child process.
  void on(troupe::down d) { stop(std::move(d.reason)); }
  int on(which_pid /*unused*/) const { return child_.pid(); }
  void on(pt::Crash c) { child_.send(c); }

 private:
  troupe::isolated_ref<pt::Counter> child_;
};

}  // namespace

TEST_CASE("a supervisor restarts a crashed isolated actor in a new process", "[nodes][process]") {
  troupe::system sys;
  auto sup = sys.spawn<troupe::supervisor>(troupe::supervisor_options{
      .strategy = troupe::strategy::one_for_one, .max_restarts = 3, .within = 10s});
  troupe::child_options opts;
  opts.name = "owner";
  troupe::ref<counter_owner> owner = troupe::start_child<counter_owner>(sup, opts);
  const int first = owner.ask(which_pid{}).get(30s);
  REQUIRE(first > 0);
  owner.send(pt::Crash{pt::crash_kind::segv});
  int now = first;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (now == first && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    try {
      now = owner.ask(which_pid{}).get(10s);
    } catch (const troupe::error&) {
      // between incarnations
    }
  }
  CHECK(now != first);
  CHECK(now > 0);
  CHECK(::kill(now, 0) == 0);  // the new child is alive
  CHECK(sys.stats().restarts >= 1);
}
