// process_pool: apply, apply_async, map, exceptions from workers, a worker
// killed mid-task.

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "process_fixtures.hpp"

using namespace std::chrono_literals;

namespace {

struct failure {
  troupe::errc code{};
  std::string what = "no error";
};

// The error a pool task failed with (waits up to 30 s).
template <class R>
failure failure_of(troupe::pool_result<R>& r) {
  try {
    (void)r.get(30s);
  } catch (const troupe::error& e) {
    return {e.value(), e.what()};
  }
  return {};
}

}  // namespace

TEST_CASE("process_pool apply and apply_async run in worker processes", "[nodes][pool]") {
  troupe::system sys;
  troupe::process_pool pool(sys, 2);
  CHECK(pool.apply(pt::add, 3, 4) == 7);
  auto r = pool.apply_async(pt::add, 20, 22);
  CHECK(r.get(10s) == 42);
  auto pid = pool.apply_async(pt::my_pid, 0);
  CHECK(pid.wait(10s));
  CHECK(pid.ready());
  CHECK(pid.successful());
  CHECK(pid.get() != ::getpid());
}

TEST_CASE("process_pool map keeps the order with any chunk size", "[nodes][pool]") {
  troupe::system sys;
  troupe::process_pool pool(sys, 2);
  std::vector<long> in(1000);
  std::iota(in.begin(), in.end(), 0L);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
    const std::vector<long> out = pool.map(pt::square, in, chunk);
    REQUIRE(out.size() == in.size());
    bool all = true;
    for (std::size_t i = 0; i < in.size(); ++i) all = all && out[i] == in[i] * in[i];
    CHECK(all);
  }
}

TEST_CASE("process_pool imap streams the results in order", "[nodes][pool]") {
  troupe::system sys;
  troupe::process_pool pool(sys, 2);
  std::vector<long> in(500);
  std::iota(in.begin(), in.end(), 0L);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{16}, std::size_t{0}}) {
    std::vector<long> out;
    for (long v : pool.imap(pt::square, in, chunk)) out.push_back(v);
    REQUIRE(out.size() == in.size());
    bool all = true;
    for (std::size_t i = 0; i < in.size(); ++i) all = all && out[i] == in[i] * in[i];
    CHECK(all);
  }
  // An empty range is an empty stream.
  auto none = pool.imap(pt::square, std::vector<long>{}, 4);
  CHECK(none.begin() == none.end());
  // A failed chunk throws its error when iteration reaches it.
  std::vector<std::string> words{"a", "b", "c"};
  auto failing = pool.imap(pt::fail_with, words, 2);
  CHECK_THROWS_AS(failing.begin(), troupe::error);
}

TEST_CASE("an exception in a pool worker comes back with its type and message", "[nodes][pool]") {
  troupe::system sys;
  troupe::process_pool pool(sys, 1);
  auto r = pool.apply_async(pt::fail_with, std::string("bad input"));
  CHECK(r.wait(10s));
  CHECK_FALSE(r.successful());
  try {
    (void)r.get();
    FAIL("no error");
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::handler_threw);
    const std::string what = e.what();
    CHECK(what.find("std::invalid_argument") != std::string::npos);
    CHECK(what.find("bad input") != std::string::npos);
  }
  CHECK(pool.apply(pt::add, 1, 1) == 2);  // the worker lives on
}

TEST_CASE("an unregistered pool function is refused by name", "[nodes][pool]") {
  troupe::system sys;
  troupe::process_pool pool(sys, 1);
  try {
    (void)pool.apply(pt::not_registered, 1);
    FAIL("no error");
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::invalid_argument);
    CHECK(std::string(e.what()).find("TROUPE_POOL_FUNCTION") != std::string::npos);
  }
}

TEST_CASE("a pool worker killed mid-task fails that task and is replaced", "[nodes][pool]") {
  troupe::system sys;
  troupe::process_pool pool(sys, 1);
  const int old_pid = pool.pids().at(0);
  auto doomed = pool.apply_async(pt::die_after, 50);
  auto queued = pool.apply_async(pt::add, 1, 2);  // behind it in the same worker
  try {
    (void)doomed.get(10s);
    FAIL("no error");
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::peer_lost);
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("killed by signal 9 (SIGKILL)") != std::string::npos);
  }
  try {
    (void)queued.get(10s);
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::peer_lost);
  }
  // A new worker takes its place.
  CHECK(pool.apply_async(pt::add, 2, 3).get(10s) == 5);
  CHECK(pool.replacements() == 1);
  CHECK(pool.pids().at(0) != old_pid);
}

TEST_CASE("a pool result larger than a frame fails that task, the worker lives on",
          "[nodes][pool]") {
  troupe::system sys;
  troupe::nodes::isolated_options o;
  o.max_frame = std::size_t{64} << 10;
  troupe::process_pool pool(sys, 1, o);
  const int pid = pool.pids().at(0);
  auto big = pool.apply_async(pt::text_of, std::size_t{1} << 20);
  const failure f = failure_of(big);
  INFO(f.what);
  CHECK(f.code == troupe::errc::invalid_argument);
  CHECK(f.what.find("result too large") != std::string::npos);
  CHECK(pool.apply_async(pt::text_of, std::size_t{10}).get(30s) == "xxxxxxxxxx");
  CHECK(pool.pids().at(0) == pid);
  CHECK(pool.replacements() == 0);
}

TEST_CASE("pool arguments larger than a frame fail the call and count nothing", "[nodes][pool]") {
  troupe::system sys;
  troupe::nodes::isolated_options o;
  o.max_frame = std::size_t{64} << 10;
  troupe::process_pool pool(sys, 2, o);
  const std::vector<int> pids = pool.pids();
  for (int i = 0; i < 3; ++i) {
    auto r = pool.apply_async(pt::length_of, std::string(std::size_t{1} << 20, 'y'));
    const failure f = failure_of(r);
    INFO(f.what);
    CHECK(f.code == troupe::errc::invalid_argument);
    CHECK(f.what.find("arguments not sent") != std::string::npos);
  }
  // Nothing stays counted: with both workers idle the first one is chosen.
  CHECK(pool.apply_async(pt::my_pid, 0).get(30s) == pids.at(0));
  CHECK(pool.apply_async(pt::length_of, std::string("abc")).get(30s) == 3);
}

TEST_CASE("a pool task over its time limit fails and its worker is replaced", "[nodes][pool]") {
  troupe::system sys;
  troupe::pool_options o;
  o.task_timeout = 2s;  // generous: the task below never returns
  troupe::process_pool pool(sys, 2, o);
  const std::vector<int> pids = pool.pids();
  auto endless = pool.apply_async(pt::spin_forever, 0);
  auto other = pool.apply_async(pt::add, 1, 2);  // on the other worker
  CHECK(other.get(30s) == 3);
  const failure f = failure_of(endless);
  INFO(f.what);
  CHECK(f.code == troupe::errc::timeout);
  CHECK(f.what.find("spin_forever exceeded its time limit of 2000 ms by") != std::string::npos);
  // Later tasks run; the killed worker is replaced.
  CHECK(pool.apply_async(pt::add, 2, 3).get(30s) == 5);
  for (int i = 0; i < 300 && pool.replacements() == 0; ++i) std::this_thread::sleep_for(100ms);
  CHECK(pool.replacements() == 1);
  CHECK(pool.pids().at(0) != pids.at(0));
  CHECK(pool.pids().at(1) == pids.at(1));
}

TEST_CASE("a pool task time limit bounds each task, not the worker's queue", "[nodes][pool]") {
  troupe::system sys;
  troupe::pool_options o;
  o.task_timeout = 5s;
  troupe::process_pool pool(sys, 1, o);
  // 4 x 1.5 s queued on one worker at once: each within its limit.
  std::vector<troupe::pool_result<int>> rs;
  for (int i = 0; i < 4; ++i) rs.push_back(pool.apply_async(pt::sleep_ms, 1500));
  for (auto& r : rs) CHECK(r.get(60s) == 1500);
  CHECK(pool.replacements() == 0);
}

TEST_CASE("a pool worker is replaced after max_tasks_per_child tasks", "[nodes][pool]") {
  troupe::system sys;
  troupe::pool_options o;
  o.max_tasks_per_child = 3;
  troupe::process_pool pool(sys, 1, o);
  std::vector<int> seen;
  for (int i = 0; i < 9; ++i) seen.push_back(pool.apply_async(pt::my_pid, 0).get(30s));
  for (std::size_t i = 0; i < 9; ++i) CHECK(seen[i] == seen[i / 3 * 3]);
  CHECK(seen[0] != seen[3]);
  CHECK(seen[3] != seen[6]);
  CHECK(seen[0] != seen[6]);
  // A burst is transparent to its callers too.
  std::vector<troupe::pool_result<int>> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(pool.apply_async(pt::add, i, 1));
  for (std::size_t i = 0; i < 20; ++i) CHECK(rs[i].get(30s) == static_cast<int>(i) + 1);
  CHECK(pool.recycled() >= 9);
  CHECK(pool.replacements() == 0);
}

TEST_CASE("a pool CPU limit holds per task and not per worker", "[nodes][pool]") {
  troupe::system sys;
  troupe::pool_options o;
  o.process.limit_cpu_seconds = 2;
  troupe::process_pool pool(sys, 1, o);
  const int pid = pool.pids().at(0);
  // 6 x 0.5 s of CPU in one worker: 3 s in all, each task well within 2 s.
  for (int i = 0; i < 6; ++i) CHECK(pool.apply_async(pt::burn_cpu, 500).get(60s) == 500);
  CHECK(pool.pids().at(0) == pid);
  CHECK(pool.replacements() == 0);
  // A task that never returns is killed at its own CPU limit.
  auto endless = pool.apply_async(pt::spin_forever, 0);
  const failure f = failure_of(endless);
  INFO(f.what);
  CHECK(f.code == troupe::errc::timeout);
  CHECK(f.what.find("spin_forever exceeded its CPU time limit of 2000 ms") != std::string::npos);
  CHECK(pool.apply_async(pt::add, 1, 2).get(30s) == 3);
}

TEST_CASE("pool callbacks run off the I/O thread, once each", "[nodes][pool]") {
  troupe::system sys;
  troupe::process_pool pool(sys, 2);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> values;
  std::vector<std::string> errors;
  std::set<std::thread::id> threads;
  bool release = false;
  auto on_value = [&](int v) {
    std::unique_lock lk(mu);
    values.push_back(v);
    threads.insert(std::this_thread::get_id());
    cv.notify_all();
    // The first callback blocks until released: results still arrive.
    if (values.size() == 1) cv.wait_for(lk, 30s, [&] { return release; });
  };
  auto on_error = [&](const troupe::error& e) {
    std::lock_guard lk(mu);
    errors.emplace_back(e.what());
    threads.insert(std::this_thread::get_id());
    cv.notify_all();
  };
  pool.apply_async(pt::add, std::tuple{1, 2}, on_value, on_error);
  {
    std::unique_lock lk(mu);
    REQUIRE(cv.wait_for(lk, 30s, [&] { return values.size() == 1; }));
  }
  // The blocked callback holds up neither the I/O thread nor get().
  CHECK(pool.apply_async(pt::add, 2, 3).get(30s) == 5);
  for (int i = 0; i < 10; ++i) pool.apply_async(pt::add, std::tuple{i, 100}, on_value, on_error);
  pool.apply_async(
      pt::fail_with, std::tuple{std::string("nope")}, [](const std::string&) {}, on_error);
  pool.apply_async(
      pt::nothing, std::tuple{0}, [&] { on_value(0); }, on_error);  // void: on_result()
  {
    std::lock_guard lk(mu);
    release = true;
  }
  cv.notify_all();
  std::unique_lock lk(mu);
  REQUIRE(cv.wait_for(lk, 30s, [&] { return values.size() == 12 && errors.size() == 1; }));
  long sum = 0;
  for (int v : values) sum += v;
  CHECK(sum == 3 + 1045);
  CHECK(errors.at(0).find("std::invalid_argument: nope") != std::string::npos);
  CHECK(threads.size() == 1);
  CHECK(threads.count(std::this_thread::get_id()) == 0);
}
