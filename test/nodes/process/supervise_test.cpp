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
  void on_start() { monitor(child_); }
  // An abnormal reason (peer lost): the supervisor restarts this owner,
  // whose constructor starts a new child process.
  void on(troupe::down d) { stop(std::move(d.reason)); }
  int on(which_pid /*unused*/) const { return pt::pid_of(child_); }
  void on(pt::Crash c) { child_.send(c); }

 private:
  troupe::ref<pt::Counter> child_;
};

troupe::ref<troupe::supervisor> make_supervisor(troupe::system& sys) {
  return sys.spawn<troupe::supervisor>(troupe::supervisor_options{
      .strategy = troupe::strategy::one_for_one, .max_restarts = 3, .within = 10s});
}

// Polls `pid_of()` until it names a process other than `first` (a restart
// happened), or 10 s pass; errors between incarnations are expected.
template <class PidOf>
int wait_for_new_pid(int first, PidOf pid_of) {
  int now = first;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((now == first || now == 0) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    try {
      now = pid_of();
    } catch (const troupe::error&) {
      // between incarnations
    }
  }
  return now;
}

}  // namespace

TEST_CASE("a supervisor restarts a crashed isolated actor in a new process", "[nodes][process]") {
  troupe::system sys;
  auto sup = make_supervisor(sys);
  troupe::child_options opts;
  opts.name = "owner";
  troupe::ref<counter_owner> owner = troupe::start_child<counter_owner>(sup, opts);
  const int first = owner.ask(which_pid{}).get(30s);
  REQUIRE(first > 0);
  owner.send(pt::Crash{pt::crash_kind::segv});
  const int now = wait_for_new_pid(first, [&] { return owner.ask(which_pid{}).get(10s); });
  CHECK(now != first);
  CHECK(now > 0);
  CHECK(::kill(now, 0) == 0);  // the new child is alive
  CHECK(sys.stats().restarts >= 1);
}

TEST_CASE("start_child with troupe::isolated restarts the child process", "[nodes][process]") {
  troupe::system sys;
  auto sup = make_supervisor(sys);
  troupe::child_options opts;
  opts.name = "counter";
  // The same handle as a pooled actor's; its location names the current child.
  troupe::ref<pt::Counter> c = troupe::start_child<pt::Counter>(sup, opts, troupe::isolated);
  CHECK(c.ask(pt::Get{}).get(30s) == 0);
  const int first = c.location().pid;
  REQUIRE(first > 0);
  CHECK(c.location().where == troupe::location::kind::process);
  REQUIRE(first != ::getpid());
  for (int i = 0; i < 100; ++i) REQUIRE(c.send(pt::Inc{1}) == troupe::send_result::ok);
  CHECK(c.ask(pt::Get{}).get(10s) == 100);  // forwarded as an ask: A's reply
  c.ask(pt::Inc{1}).get(10s);               // void: completes once the child handled it
  CHECK(c.ask(pt::Get{}).get(10s) == 101);
  const std::string echo = c.ask(pt::Echo{"hi"}).get(10s);
  CHECK(echo == "hi from " + std::to_string(first));
  // What cannot cross is refused at the send, as on a child's own ref.
  CHECK_THROWS_WITH(c.send(pt::Unnamed{1}), Catch::Contains("no TROUPE_MESSAGE"));
  CHECK_THROWS_WITH(c.ask(pt::AskOpaque{1}), Catch::Contains("has no codec"));
  // Through a ref to the proxy itself, the proxy refuses it: the ask fails.
  auto direct = sys.spawn<troupe::isolated_proxy<pt::Counter>>(troupe::detached);
  CHECK_THROWS_WITH(direct.ask(pt::AskOpaque{1}).get(30s), Catch::Contains("has no codec"));
  direct.send(pt::Inc{2});
  CHECK(direct.ask(pt::Get{}).get(30s) == 2);
  direct.stop();

  // An ask queued behind the crash fails with the child's reason.
  c.send(pt::Crash{pt::crash_kind::abort});
  auto lost = c.ask(pt::Get{});
  try {
    (void)lost.get(10s);
    FAIL("the ask behind a crash succeeded");
  } catch (const troupe::error& e) {
    INFO(e.what());
    CHECK(e.value() == troupe::errc::peer_lost);
    CHECK(std::string(e.what()).find("SIGABRT") != std::string::npos);
  }

  // The restart runs a new process with fresh state; sends sent meanwhile
  // wait in the proxy's mailbox and reach it.
  const int now = wait_for_new_pid(first, [&] { return c.location().pid; });
  REQUIRE(now != first);
  REQUIRE(now > 0);
  CHECK(::kill(now, 0) == 0);
  c.send(pt::Inc{5});
  CHECK(c.ask(pt::Get{}).get(10s) == 5);
  CHECK(sys.stats().restarts == 1);

  // The proxy's stop (here: the supervisor's) ends its child process, and
  // then the ref's actor, with one down.
  CHECK_FALSE(c.terminated());
  sup.stop();
  const auto gone = std::chrono::steady_clock::now() + 5s;
  while (::kill(now, 0) == 0 && std::chrono::steady_clock::now() < gone)
    std::this_thread::sleep_for(10ms);
  CHECK(::kill(now, 0) != 0);
  CHECK(pt::wait_gone(c, 30s));
  CHECK(c.send(pt::Inc{1}) == troupe::send_result::closed);
}

TEST_CASE("a supervisor restarts an isolated actor whose handler hung", "[nodes][process]") {
  troupe::system sys;
  auto sup = make_supervisor(sys);
  troupe::child_options opts;
  opts.name = "counter";
  troupe::nodes::isolated_options iso;
  iso.handler_timeout = 500ms;
  auto c = troupe::start_child<pt::Counter>(sup, opts, troupe::isolated, iso);
  CHECK(c.ask(pt::Get{}).get(30s) == 0);
  const int first = c.location().pid;
  REQUIRE(first > 0);
  c.send(pt::Crash{pt::crash_kind::spin});
  const int now = wait_for_new_pid(first, [&] { return c.location().pid; });
  CHECK(now != first);
  CHECK(now > 0);
  c.send(pt::Inc{2});
  CHECK(c.ask(pt::Get{}).get(10s) == 2);
  CHECK(sys.stats().restarts == 1);
}

TEST_CASE("an isolated_proxy runs detached, and refuses to start on a pool worker",
          "[nodes][process]") {
  troupe::system sys;
  auto pooled = sys.spawn<troupe::isolated_proxy<pt::Counter>>();
  auto refused = pooled.ask(troupe::nodes::child_pid{});
  try {
    (void)refused.get(10s);
    FAIL("a pooled isolated_proxy started");
  } catch (const troupe::error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find("must run detached") != std::string::npos);
  }
  auto detached = sys.spawn<troupe::isolated_proxy<pt::Counter>>(troupe::detached);
  detached.send(pt::Inc{3});
  CHECK(detached.ask(pt::Get{}).get(30s) == 3);
  CHECK(detached.ask(troupe::nodes::child_pid{}).get(10s) > 0);
}
