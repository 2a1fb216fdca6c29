// system::trace_start / trace_stop: the file is a valid Chrome trace, flows
// pair up, slices nest, known sends give known events, rings wrap with a
// count, and tracing changes no result.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <troupe/actors.hpp>
#include <troupe/actors/task.hpp>
#include <vector>

#include "json_reader.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
namespace json = troupe::test::json;

namespace {

struct Add {
  int n;
};
struct Get {};
struct Fail {
  std::string why;
};

class Counter : public troupe::actor<Counter> {
 public:
  void on(Add a) { total_ += a.n; }
  int on(Get /*unused*/) const { return total_; }
  void on(const Fail& f) { throw std::runtime_error(f.why); }

 private:
  int total_ = 0;
};

// A file name of this test process (ctest runs test cases in parallel).
std::string temp_trace(const std::string& tag) {
  return "/tmp/troupe-trace-test-" + std::to_string(::getpid()) + "-" + tag + ".json";
}

json::value read_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::remove(path.c_str());
  return json::parse(ss.str());  // throws unless valid JSON
}

std::vector<json::value> events_of(const json::value& doc, const std::string& ph) {
  std::vector<json::value> out;
  for (const auto& e : doc["traceEvents"].arr()) {
    if (e["ph"].str() == ph) out.push_back(e);
  }
  return out;
}

std::string actor_of(const json::value& e) {
  return e.has("args") && e["args"].has("actor") ? e["args"]["actor"].str() : "";
}

int counter_run(troupe::system& sys, int n) {
  auto c = sys.spawn<Counter>();
  for (int i = 1; i <= n; ++i) c.send(Add{i});
  const int total = c.ask(Get{}).get();
  c.stop();
  return total;
}

}  // namespace

TEST_CASE("a trace of known sends has their flows, slices and instants in order", "[trace]") {
  const std::string path = temp_trace("known");
  troupe::system sys(troupe::system_config{.workers = 2});
  sys.trace_start(path);
  auto c = sys.spawn<Counter>();
  const std::string who = std::string(troupe::detail::type_name<Counter>()) + "#";
  for (int i = 1; i <= 10; ++i) c.send(Add{i});
  REQUIRE(c.ask(Get{}).get() == 55);
  c.stop();
  REQUIRE(troupe::test::eventually([&] { return sys.stats().live_actors == 0; }));
  const troupe::trace_summary sum = sys.trace_stop();
  CHECK(sum.path == path);
  CHECK(sum.complete());
  const json::value doc = read_trace(path);
  CHECK(doc["otherData"]["dropped_events"].num() == 0);
  CHECK(doc["otherData"]["events"].num() == static_cast<double>(sum.events));

  // Eleven sends (ten Add and the ask's Get), each with its flow's end.
  const auto starts = events_of(doc, "s");
  const auto ends = events_of(doc, "f");
  REQUIRE(starts.size() == 11);
  std::set<double> start_ids;
  std::set<double> end_ids;
  for (const auto& s : starts) {
    CHECK(actor_of(s).rfind(who, 0) == 0);
    start_ids.insert(s["id"].num());
  }
  for (const auto& f : ends) {
    CHECK(f["bp"].str() == "e");
    end_ids.insert(f["id"].num());
  }
  CHECK(start_ids.size() == 11);
  CHECK(start_ids == end_ids);

  // The handler runs, in send order: ten Add, then Get.
  auto slices = events_of(doc, "X");
  slices.erase(std::remove_if(slices.begin(), slices.end(),
                              [](const json::value& x) { return x["cat"].str() != "handler"; }),
               slices.end());
  std::sort(slices.begin(), slices.end(), [](const json::value& a, const json::value& b) {
    return a["ts"].num() < b["ts"].num();
  });
  REQUIRE(slices.size() == 11);
  for (std::size_t i = 0; i < 10; ++i)
    CHECK_THAT(slices[i]["name"].str(), Catch::EndsWith("Counter <- (anonymous namespace)::Add"));
  CHECK_THAT(slices[10]["name"].str(), Catch::EndsWith("Counter <- (anonymous namespace)::Get"));

  // A flow ends at the start of the run that took its message, after the send.
  std::map<double, double> start_ts;
  for (const auto& s : starts) start_ts[s["id"].num()] = s["ts"].num();
  for (const auto& f : ends) CHECK(f["ts"].num() >= start_ts[f["id"].num()]);

  // Spawn before the first run, exit after the last, on the same actor.
  double spawn_ts = -1;
  double exit_ts = -1;
  for (const auto& i : events_of(doc, "i")) {
    if (actor_of(i).rfind(who, 0) != 0) continue;
    if (i["name"].str() == "spawn") spawn_ts = i["ts"].num();
    if (i["name"].str() == "exit") {
      exit_ts = i["ts"].num();
      CHECK(i["args"]["detail"].str() == "normal");
    }
  }
  CHECK(spawn_ts >= 0);
  CHECK(spawn_ts <= slices.front()["ts"].num());
  CHECK(exit_ts >= slices.back()["ts"].num());

  // Every thread that recorded is named.
  std::set<double> named;
  for (const auto& m : events_of(doc, "M")) {
    if (m["name"].str() == "thread_name") named.insert(m["tid"].num());
  }
  for (const auto& x : doc["traceEvents"].arr()) {
    if (x["ph"].str() != "M") CHECK(named.count(x["tid"].num()) == 1);
  }
}

TEST_CASE("slices on one thread nest, under load from many senders", "[trace]") {
  const std::string path = temp_trace("nest");
  troupe::system sys(troupe::system_config{.workers = 2});
  sys.trace_start(path, {.ring_events = 1 << 16});
  std::vector<troupe::ref<Counter>> counters;
  for (int i = 0; i < 8; ++i) counters.push_back(sys.spawn<Counter>());
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&counters] {
      for (int i = 0; i < 500; ++i)
        counters[static_cast<std::size_t>(i) % counters.size()].send(Add{1});
    });
  }
  for (auto& t : senders) t.join();
  int total = 0;
  for (auto& c : counters) total += c.ask(Get{}).get();
  CHECK(total == 2000);
  // The last run's slice is written after its reply: wait for the exits.
  for (auto& c : counters) c.stop();
  REQUIRE(troupe::test::eventually([&] { return sys.stats().live_actors == 0; }));
  const auto sum = sys.trace_stop();
  CHECK(sum.complete());
  const json::value doc = read_trace(path);
  std::map<double, std::vector<std::pair<double, double>>> by_tid;
  for (const auto& x : events_of(doc, "X")) {
    by_tid[x["tid"].num()].emplace_back(x["ts"].num(), x["ts"].num() + x["dur"].num());
  }
  for (auto& [tid, spans] : by_tid) {
    std::sort(spans.begin(), spans.end());
    // Sorted by start: each span either ends before the next starts, or
    // contains it (no partial overlap). Microsecond text has 3 decimals.
    for (std::size_t i = 1; i < spans.size(); ++i) {
      const bool before = spans[i - 1].second <= spans[i].first + 0.001;
      const bool contains = spans[i].second <= spans[i - 1].second + 0.001;
      CHECK((before || contains));
    }
  }
  CHECK(events_of(doc, "s").size() == 2000 + 8);
  CHECK(events_of(doc, "f").size() == 2000 + 8);
}

TEST_CASE("a ring that wraps keeps the newest events and counts the dropped", "[trace]") {
  const std::string path = temp_trace("wrap");
  troupe::system sys(troupe::system_config{.workers = 1});
  sys.trace_start(path, {.ring_events = 16});
  CHECK(counter_run(sys, 200) == 20100);
  const auto sum = sys.trace_stop();
  CHECK(sum.dropped > 0);
  CHECK_FALSE(sum.complete());
  const json::value doc = read_trace(path);
  CHECK(doc["otherData"]["dropped_events"].num() == static_cast<double>(sum.dropped));
  std::map<double, int> per_tid;
  for (const auto& x : doc["traceEvents"].arr()) {
    if (x["ph"].str() != "M" && x["ph"].str() != "f") ++per_tid[x["tid"].num()];
  }
  for (const auto& [tid, n] : per_tid) CHECK(n <= 16);
}

TEST_CASE("tracing on or off changes no result", "[trace]") {
  troupe::system off(troupe::system_config{.workers = 2});
  const int plain = counter_run(off, 1000);
  troupe::system on(troupe::system_config{.workers = 2});
  const std::string path = temp_trace("same");
  on.trace_start(path, {.ring_events = 64});
  const int traced = counter_run(on, 1000);
  on.trace_stop();
  std::remove(path.c_str());
  CHECK(plain == traced);
  CHECK(plain == 500500);
}

TEST_CASE("exits, dead letters, timer fires and restarts are instants", "[trace]") {
  const std::string path = temp_trace("instants");
  troupe::system sys;
  sys.trace_start(path);
  // A failure with a reason that needs escaping, cut to fit the event.
  auto c = sys.spawn<Counter>();
  c.send(Fail{"bad \"quote\"\nnew line \xff end"});
  REQUIRE(troupe::test::eventually([&] { return sys.stats().live_actors == 0; }));
  c.send(Add{1});  // a dead letter
  auto d = sys.spawn<Counter>();
  sys.send_after(d, 1ms, Add{1});
  REQUIRE(troupe::test::eventually([&] { return d.ask(Get{}).get() == 1; }));
  sys.trace_stop();
  const json::value doc = read_trace(path);
  std::multiset<std::string> names;
  std::string exit_detail;
  for (const auto& i : events_of(doc, "i")) {
    names.insert(i["name"].str());
    if (i["name"].str() == "exit") exit_detail = i["args"]["detail"].str();
  }
  CHECK(names.count("spawn") == 2);
  CHECK(names.count("exit") == 1);
  CHECK(names.count("dead letter") == 1);
  CHECK(names.count("timer fire") == 1);
  CAPTURE(exit_detail);
  CHECK_THAT(exit_detail, Catch::StartsWith("exception: std::runtime_error: bad \"quote\"\nnew"));
  CHECK(exit_detail.size() <= 50 + 3);  // cut to the event's 50 bytes (U+FFFD is 3)
}

TEST_CASE("trace_start and trace_stop refuse what they cannot do", "[trace]") {
  troupe::system sys;
  std::string what;
  CHECK(troupe::test::error_of([&] { sys.trace_stop(); }, &what) == troupe::errc::invalid_argument);
  CHECK_THAT(what, Catch::Contains("no trace is being recorded"));
  CHECK(troupe::test::error_of([&] { sys.trace_start(temp_trace("small"), {.ring_events = 4}); },
                               &what) == troupe::errc::invalid_argument);
  CHECK_THAT(what, Catch::Contains("ring_events"));
  CHECK_THROWS_WITH(sys.trace_start("/nonexistent-dir/x.json"),
                    Catch::Contains("opening /nonexistent-dir/x.json"));
  const std::string path = temp_trace("twice");
  sys.trace_start(path);
  CHECK(troupe::test::error_of([&] { sys.trace_start(temp_trace("other")); }, &what) ==
        troupe::errc::invalid_argument);
  CHECK_THAT(what, Catch::Contains("already being recorded into " + path));
  sys.trace_stop();
  std::remove(path.c_str());
}

TEST_CASE("a trace started by a system is written by its shutdown", "[trace]") {
  const std::string path = temp_trace("owned");
  {
    troupe::system sys;
    sys.trace_start(path);
    CHECK(counter_run(sys, 3) == 6);
  }  // ~system: shutdown writes the file
  const json::value doc = read_trace(path);
  CHECK(events_of(doc, "s").size() == 4);
}

TEST_CASE("TROUPE_TRACE traces a whole run", "[trace]") {
  const std::string path = temp_trace("env");
  ::setenv("TROUPE_TRACE", path.c_str(), 1);
  {
    troupe::system sys;
    CHECK(counter_run(sys, 5) == 15);
  }
  ::unsetenv("TROUPE_TRACE");
  const json::value doc = read_trace(path);
  CHECK(events_of(doc, "s").size() == 6);
  CHECK(events_of(doc, "f").size() == 6);
}

TEST_CASE("a task's resumes are slices of their own", "[trace][task]") {
  const std::string path = temp_trace("task");
  troupe::system sys;
  sys.trace_start(path);
  auto c = sys.spawn<Counter>();
  auto f = sys.go([c]() -> troupe::task<int> {
    co_await troupe::sleep_for(1ms);
    c.send(Add{2});
    co_return co_await c.ask(Get{});
  });
  CHECK(f.get() == 2);
  sys.trace_stop();
  const json::value doc = read_trace(path);
  int task_slices = 0;
  for (const auto& x : events_of(doc, "X")) task_slices += x["cat"].str() == "task" ? 1 : 0;
  CHECK(task_slices >= 2);  // its start and at least one resume
}
