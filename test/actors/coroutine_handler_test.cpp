// Coroutine handlers in actors: ask on a task<R> handler, the reentrancy
// rule, failures, an actor stopping while a handler is suspended, and
// when_all inside a handler.

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <troupe/actors.hpp>
#include <troupe/actors/task.hpp>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::task;
using troupe::test::error_of;
using troupe::test::eventually;

namespace {

struct Slow {
  int id;
};
struct Fast {
  int id;
};
struct Log {};
struct Boom {};

// The rule: while a coroutine handler is suspended, the actor handles its
// other messages; the rest of the handler then runs as a message of the
// actor. Handler code never overlaps (checked with `inside_`).
class Recorder : public troupe::actor<Recorder> {
 public:
  task<int> on(Slow m) {
    enter();
    log_.push_back("slow" + std::to_string(m.id) + " start");
    leave();
    co_await troupe::sleep_for(50ms);
    enter();
    log_.push_back("slow" + std::to_string(m.id) + " end");
    leave();
    co_return m.id * 10;
  }
  void on(Fast m) {
    enter();
    log_.push_back("fast" + std::to_string(m.id));
    leave();
  }
  std::vector<std::string> on(Log /*unused*/) const { return log_; }
  task<void> on(Boom /*unused*/) {
    co_await troupe::sleep_for(1ms);
    throw std::runtime_error("coroutine handler failed");
  }
  [[nodiscard]] int overlaps() const { return overlaps_.load(); }

 private:
  void enter() {
    if (inside_.exchange(true)) overlaps_.fetch_add(1);
  }
  void leave() { inside_.store(false); }
  std::vector<std::string> log_;
  std::atomic<bool> inside_{false};
  std::atomic<int> overlaps_{0};
};

struct Both {};

// when_all inside a coroutine handler: the children run inside the actor,
// interleaved at their awaits, never in parallel.
class Gatherer : public troupe::actor<Gatherer> {
 public:
  task<int> on(Both /*unused*/) {
    auto [a, b] = co_await troupe::when_all(step(1), step(2));
    co_return a + b + static_cast<int>(trace_.size());
  }
  std::string on(int /*unused*/) const { return trace_; }
  [[nodiscard]] int overlaps() const { return overlaps_.load(); }

 private:
  task<int> step(int id) {
    for (int i = 0; i < 3; ++i) {
      if (inside_.exchange(true)) overlaps_.fetch_add(1);
      trace_ += std::to_string(id);
      inside_.store(false);
      co_await troupe::sleep_for(5ms);
    }
    co_return id * 100;
  }
  std::string trace_;
  std::atomic<bool> inside_{false};
  std::atomic<int> overlaps_{0};
};

}  // namespace

TEST_CASE("ask on a coroutine handler yields the coroutine's result", "[actors][task]") {
  troupe::system sys(troupe::system_config{2});
  auto r = sys.spawn<Recorder>();
  troupe::future<int> f = r.ask(Slow{4});  // future<int>, not future<task<int>>
  REQUIRE(f.get(10s) == 40);
  // ... and it can be awaited from a task.
  auto h = sys.go([r]() -> task<int> { co_return co_await r.ask(Slow{5}); });
  REQUIRE(h.get(10s) == 50);
}

TEST_CASE("an actor handles other messages while a coroutine handler is suspended",
          "[actors][task]") {
  troupe::system sys(troupe::system_config{4});
  auto r = sys.spawn<Recorder>();
  auto slow = r.ask(Slow{1});
  for (int i = 0; i < 3; ++i) r.send(Fast{i});
  REQUIRE(slow.get(10s) == 10);
  const auto log = r.ask(Log{}).get(10s);
  const std::vector<std::string> expected{"slow1 start", "fast0", "fast1", "fast2", "slow1 end"};
  REQUIRE(log == expected);
  // Many interleaved coroutine and plain handlers never overlap.
  std::vector<troupe::future<int>> fs;
  for (int i = 0; i < 200; ++i) {
    fs.push_back(r.ask(Slow{i}));
    r.send(Fast{i});
  }
  for (auto& f : fs) f.get(10s);
  REQUIRE(troupe::detail::object_of<Recorder>(*r.cell_ptr()).overlaps() == 0);
}

TEST_CASE("an exception in a coroutine handler fails the ask and the actor", "[actors][task]") {
  troupe::system sys(troupe::system_config{2});
  auto r = sys.spawn<Recorder>();
  auto f = r.ask(Boom{});
  REQUIRE(error_of([&] { f.get(10s); }) == troupe::errc::handler_threw);
  REQUIRE(eventually([&] { return r.terminated(); }));
  REQUIRE(sys.stats().actor_failures >= 1);
}

TEST_CASE("an ask on a coroutine handler fails when the actor stops while it is suspended",
          "[actors][task]") {
  troupe::system sys(troupe::system_config{2});
  auto r = sys.spawn<Recorder>();
  auto f = r.ask(Slow{1});
  std::this_thread::sleep_for(10ms);  // the handler is suspended in its sleep
  r.kill();
  REQUIRE(error_of([&] { f.get(10s); }) == troupe::errc::actor_dead);
}

TEST_CASE("when_all in a coroutine handler runs its children inside the actor", "[actors][task]") {
  troupe::system sys(troupe::system_config{4});
  auto g = sys.spawn<Gatherer>();
  REQUIRE(g.ask(Both{}).get(10s) == 300 + 6);
  const std::string trace = g.ask(0).get(10s);
  REQUIRE(trace.size() == 6);
  REQUIRE(std::count(trace.begin(), trace.end(), '1') == 3);
  REQUIRE(troupe::detail::object_of<Gatherer>(*g.cell_ptr()).overlaps() == 0);
}
