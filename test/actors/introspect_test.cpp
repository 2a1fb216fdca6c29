// system::actors(), metrics() and metrics_text() (troupe/actors/introspect.hpp).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::test::eventually;

namespace {

struct Add {
  int v;
};
struct Get {};
struct Hold {};
struct Crash {};

class Tally : public troupe::actor<Tally> {
 public:
  explicit Tally(std::atomic<bool>* release = nullptr) : release_(release) {}
  void on(Add a) { sum_ += a.v; }
  [[nodiscard]] long on(Get /*unused*/) const { return sum_; }
  // Waits (bounded) until the test lets it go: its mailbox fills meanwhile.
  void on(Hold /*unused*/) {
    eventually([this] { return release_->load(); }, 30s);
  }
  void on(Crash /*unused*/) { throw std::runtime_error("tally crashed"); }

 private:
  std::atomic<bool>* release_;
  long sum_ = 0;
};

class Other : public troupe::actor<Other> {
 public:
  void on(Add /*unused*/) {}
};

// A copy: the list is often a temporary.
std::optional<troupe::actor_info> find(const std::vector<troupe::actor_info>& list,
                                       std::uint64_t id) {
  for (const auto& a : list) {
    if (a.id == id) return a;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("actors() lists each live actor with its type, name and figures", "[introspect]") {
  troupe::system sys({.workers = 2, .time_handlers = true});
  auto t = sys.spawn<Tally>();
  auto o = sys.spawn<Other>();
  REQUIRE(sys.registry().add("tally", t));
  for (int i = 0; i < 1000; ++i) t.send(Add{1});
  REQUIRE(t.ask(Get{}).get() == 1000);
  // The reply is sent from the handler: the actor goes idle right after.
  REQUIRE(eventually([&] {
    const auto a = find(sys.actors(), t.id());
    return a && a->state == troupe::actor_state::idle;
  }));
  const auto list = sys.actors();
  REQUIRE(list.size() == 2);
  REQUIRE(list[0].id < list[1].id);  // sorted by id
  const auto a = find(list, t.id());
  REQUIRE(a);
  CHECK_THAT(a->type, Catch::EndsWith("Tally"));
  CHECK(a->name == "tally");
  CHECK(a->handled == 1001);
  CHECK(a->mailbox_depth == 0);
  CHECK(a->busy > 0ns);
  CHECK(a->restarts == 0);
  CHECK_FALSE(a->detached);
  CHECK_FALSE(a->isolated);
  const auto b = find(list, o.id());
  REQUIRE(b);
  CHECK_THAT(b->type, Catch::EndsWith("Other"));
  CHECK(b->name.empty());
  CHECK(b->handled == 0);
  CHECK(std::string(troupe::to_string(b->state)) == "idle");

  o.stop();
  REQUIRE(eventually([&] { return !find(sys.actors(), o.id()); }));
}

TEST_CASE("handler time counts from the first look, unless timed from the start", "[introspect]") {
  troupe::system sys({.workers = 2});
  auto t = sys.spawn<Tally>();
  for (int i = 0; i < 100; ++i) t.send(Add{1});
  REQUIRE(t.ask(Get{}).get() == 100);
  REQUIRE(eventually([&] { return find(sys.actors(), t.id())->handled == 101; }));
  CHECK(find(sys.actors(), t.id())->busy == 0ns);  // nobody looked while it ran
  for (int i = 0; i < 100; ++i) t.send(Add{1});
  REQUIRE(t.ask(Get{}).get() == 200);
  REQUIRE(eventually([&] { return find(sys.actors(), t.id())->handled == 202; }));
  CHECK(find(sys.actors(), t.id())->busy > 0ns);
}

TEST_CASE("actors() shows the mailbox of a busy actor grow, and drain", "[introspect]") {
  std::atomic<bool> release{false};
  troupe::system sys({.workers = 2});
  auto t = sys.spawn<Tally>(&release);
  auto bt = sys.spawn<Tally>(troupe::bounded(100, troupe::overflow::block), &release);
  auto d = sys.spawn<Tally>(troupe::detached, &release);
  for (auto* r : {&t, &bt, &d}) {
    r->send(Hold{});
    for (int i = 0; i < 10; ++i) r->send(Add{i});
  }
  // Each holds in its first handler with ten messages behind it.
  for (auto* r : {&t, &bt, &d}) {
    const std::uint64_t id = r->id();
    INFO("actor " << id);
    REQUIRE(eventually([&] {
      const auto a = find(sys.actors(), id);
      return a && a->mailbox_depth == 10 && a->state == troupe::actor_state::busy;
    }));
  }
  const auto m = sys.metrics();
  CHECK(m.mailbox_depth == 30);
  CHECK(m.max_mailbox_depth == 10);
  CHECK(m.detached_actors == 1);
  CHECK(find(sys.actors(), d.id())->detached);

  release = true;
  for (auto* r : {&t, &bt, &d}) REQUIRE(r->ask(Get{}).get() == 45);
  for (auto* r : {&t, &bt, &d}) {
    const std::uint64_t id = r->id();
    REQUIRE(eventually([&] {
      const auto a = find(sys.actors(), id);
      return a && a->mailbox_depth == 0 && a->handled == 12;
    }));
  }
  CHECK(sys.metrics().mailbox_depth == 0);
}

TEST_CASE("actors() counts a supervised child's restarts across incarnations",
          "[introspect][supervisor]") {
  troupe::system sys({.workers = 2});
  auto sup = sys.spawn<troupe::supervisor>(troupe::supervisor_options{});
  troupe::child_options named;
  named.name = "w";
  auto w = troupe::start_child<Tally>(sup, named);
  w.send(Add{5});
  w.send(Crash{});
  w.send(Crash{});
  REQUIRE(eventually([&] { return sys.stats().restarts == 2; }));
  REQUIRE(w.ask(Get{}).get() == 0);  // a fresh incarnation
  REQUIRE(eventually([&] {
    const auto a = find(sys.actors(), w.id());
    return a && a->restarts == 2 && a->handled >= 4;
  }));
}

TEST_CASE("metrics() reports known counters for a known workload", "[introspect]") {
  troupe::system sys({.workers = 2});
  auto t = sys.spawn<Tally>();
  for (int i = 0; i < 100; ++i) t.send(Add{1});
  REQUIRE(t.ask(Get{}).get() == 100);
  t.stop();
  REQUIRE(eventually([&] { return t.terminated(); }));
  t.send(Add{1});  // a dead letter
  REQUIRE(eventually([&] { return sys.metrics().live_actors == 0; }));
  const auto m = sys.metrics();
  CHECK(m.workers == 2);
  CHECK(m.live_actors == 0);
  CHECK(m.spawned == 1);
  CHECK(m.messages_processed >= 101);
  CHECK(m.dead_letters_actor_dead == 1);
  CHECK(m.dead_letters() == 1);
  CHECK(m.actor_failures == 0);
  CHECK_FALSE(m.tracing);
}

TEST_CASE("metrics_text() is Prometheus text with per-type sums", "[introspect]") {
  troupe::system sys({.workers = 1});
  std::vector<troupe::ref<Tally>> ts;
  for (int i = 0; i < 3; ++i) ts.push_back(sys.spawn<Tally>());
  for (auto& t : ts) {
    t.send(Add{1});
    REQUIRE(t.ask(Get{}).get() == 1);
  }
  REQUIRE(eventually([&] {
    for (const auto& a : sys.actors())
      if (a.handled != 2) return false;
    return true;
  }));
  const std::string text = sys.metrics_text();
  CHECK_THAT(text, Catch::Contains("# TYPE troupe_messages_processed_total counter\n"));
  CHECK_THAT(text, Catch::Contains("\ntroupe_workers 1\n"));
  CHECK_THAT(text, Catch::Contains("\ntroupe_actors 3\n"));
  CHECK_THAT(text, Catch::Contains("troupe_dead_letters_total{reason=\"mailbox_full\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("Tally\"} 3\n"));  // troupe_type_actors
  CHECK_THAT(text, Catch::Contains("Tally\"} 6\n"));  // troupe_type_messages_handled_total
  // Every line is a comment or `name{labels} value`, and every family has
  // its HELP and TYPE.
  std::size_t pos = 0;
  int samples = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    REQUIRE(nl != std::string::npos);  // ends with a newline
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    INFO(line);
    REQUIRE_FALSE(line.empty());
    if (line[0] == '#') {
      CHECK((line.rfind("# HELP troupe_", 0) == 0 || line.rfind("# TYPE troupe_", 0) == 0));
      continue;
    }
    ++samples;
    CHECK(line.rfind("troupe_", 0) == 0);
    const std::size_t sp = line.rfind(' ');
    REQUIRE(sp != std::string::npos);
    const std::string value = line.substr(sp + 1);
    CHECK_NOTHROW(std::stod(value));
  }
  CHECK(samples >= 19);
}

TEST_CASE("actors() and metrics_text() while many senders flood many actors",
          "[introspect][stress]") {
  constexpr int kActors = 8;
  constexpr int kSenders = 4;
  constexpr int kPerSender = 20000;
  troupe::system sys({.workers = 2});
  std::vector<troupe::ref<Tally>> ts;
  for (int i = 0; i < kActors; ++i) ts.push_back(sys.spawn<Tally>());
  std::atomic<bool> done{false};
  std::atomic<long> looks{0};
  std::thread looker([&] {
    while (!done.load()) {
      const auto list = sys.actors();
      const auto text = sys.metrics_text();
      if (!list.empty() && !text.empty()) looks.fetch_add(1);
    }
  });
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      for (int i = 0; i < kPerSender; ++i)
        ts[static_cast<std::size_t>((i + s) % kActors)].send(Add{1});
    });
  }
  for (auto& th : senders) th.join();
  long total = 0;
  for (auto& t : ts) total += t.ask(Get{}).get();
  done = true;
  looker.join();
  REQUIRE(total == long{kSenders} * kPerSender);
  CHECK(looks.load() > 0);
  REQUIRE(eventually([&] {
    std::uint64_t handled = 0;
    for (const auto& a : sys.actors()) {
      if (a.mailbox_depth != 0) return false;
      handled += a.handled;
    }
    return handled == std::uint64_t{kSenders} * kPerSender + kActors;
  }));
}
