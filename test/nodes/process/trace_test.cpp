// TROUPE_TRACE across a process boundary: the child of a traced program
// writes a file of its own, on the parent's time base, and the arrows of
// the parent's sends and asks end in it.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "../../actors/json_reader.hpp"
#include "process_fixtures.hpp"

using namespace std::chrono_literals;
namespace json = troupe::test::json;

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// The trace variables of this process, removed again at the end of a test.
struct trace_env {
  explicit trace_env(const std::string& path) {
    ::unsetenv("TROUPE_TRACE_PID");
    ::unsetenv("TROUPE_TRACE_EPOCH");
    ::setenv("TROUPE_TRACE", path.c_str(), 1);
  }
  ~trace_env() {
    ::unsetenv("TROUPE_TRACE");
    ::unsetenv("TROUPE_TRACE_PID");
    ::unsetenv("TROUPE_TRACE_EPOCH");
  }
  trace_env(const trace_env&) = delete;
  trace_env& operator=(const trace_env&) = delete;
};

}  // namespace

TEST_CASE("a traced parent's sends and asks end their arrows in the child's trace",
          "[nodes][process][trace]") {
  const std::string stem = "/tmp/troupe-nodes-trace-" + std::to_string(::getpid());
  const std::string parent_path = stem + ".json";
  int child = 0;
  {
    trace_env env(parent_path);
    troupe::system sys;
    auto c = sys.spawn<pt::Counter>(troupe::isolated);
    child = pt::pid_of(c);
    for (int i = 0; i < 10; ++i) REQUIRE(c.send(pt::Inc{1}) == troupe::send_result::ok);
    REQUIRE(c.ask(pt::Get{}).get(10s) == 10);
    sys.shutdown();  // writes the parent's file; the child stops and writes its own
  }
  const std::string child_path = stem + "." + std::to_string(child) + ".json";
  std::string parent_text;
  std::string child_text;
  REQUIRE(read_file(parent_path, parent_text));
  // The child writes its file as it exits, which may follow shutdown().
  const auto until = std::chrono::steady_clock::now() + 30s;
  json::value child_doc;
  bool parsed = false;
  while (!parsed && std::chrono::steady_clock::now() < until) {
    if (read_file(child_path, child_text)) {
      try {
        child_doc = json::parse(child_text);
        parsed = true;
      } catch (const std::exception&) {  // still being written
      }
    }
    if (!parsed) std::this_thread::sleep_for(10ms);
  }
  std::remove(parent_path.c_str());
  std::remove(child_path.c_str());
  REQUIRE(parsed);
  const json::value parent_doc = json::parse(parent_text);

  std::set<double> sent;  // the parent's flow starts
  for (const auto& e : parent_doc["traceEvents"].arr()) {
    if (e["ph"].str() == "s") sent.insert(e["id"].num());
  }
  int crossed = 0;  // the child's "frame from parent" slices that end one
  int frames = 0;
  for (const auto& e : child_doc["traceEvents"].arr()) {
    if (e["ph"].str() == "X" && e["name"].str() == "frame from parent") {
      CHECK(e["cat"].str() == "link");
      ++frames;
    }
    if (e["ph"].str() == "f" && sent.count(e["id"].num()) != 0) ++crossed;
    if (e.has("pid")) CHECK(e["pid"].num() == child);
  }
  CHECK(frames == 11);   // ten sends and one ask
  CHECK(crossed == 11);  // each ends a flow the parent started
  // The child's handler runs are in its own file, each taking a local flow.
  int handled = 0;
  for (const auto& e : child_doc["traceEvents"].arr()) {
    if (e["ph"].str() == "X" && e["cat"].str() == "handler") ++handled;
  }
  CHECK(handled >= 11);
}
