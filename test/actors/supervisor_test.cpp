// Supervisors (troupe/actors/supervisor.hpp), mostly in a test_system.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "supervision_util.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using troupe::test::Downs;
using troupe::test::settle;
using troupe::test::Watch;
using troupe::test::Watcher;

namespace {

/// What the workers of a test did, in order ("start w1", "stop w2", "w1 7").
class Journal {
 public:
  void add(std::string e) {
    std::lock_guard lk(mu_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> events() const {
    std::lock_guard lk(mu_);
    return events_;
  }
  /// Events starting with `prefix`, in order.
  std::vector<std::string> with(const std::string& prefix) const {
    std::vector<std::string> out;
    for (auto& e : events()) {
      if (e.rfind(prefix, 0) == 0) out.push_back(e);
    }
    return out;
  }
  int count(const std::string& e) const {
    auto v = events();
    return static_cast<int>(std::count(v.begin(), v.end(), e));
  }
  void clear() {
    std::lock_guard lk(mu_);
    events_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> events_;
};

struct Work {
  int v;
};
struct Count {};
struct Crash {};

class Worker : public troupe::actor<Worker> {
 public:
  Worker(std::string name, Journal* j) : name_(std::move(name)), j_(j) {}
  void on_start() { j_->add("start " + name_); }
  void on_stop() { j_->add("stop " + name_); }
  void on(Work w) {
    if (w.v % 10 == 0) throw std::runtime_error(name_ + " cannot do " + std::to_string(w.v));
    ++n_;
    j_->add(name_ + " " + std::to_string(w.v));
  }
  void on(Crash /*unused*/) { throw std::logic_error(name_ + " crashed"); }
  [[nodiscard]] int on(Count /*unused*/) const { return n_; }

 private:
  std::string name_;
  Journal* j_;
  int n_ = 0;
};

/// Fails in on_start, every time.
class BadStarter : public troupe::actor<BadStarter> {
 public:
  explicit BadStarter(Journal* j) : j_(j) {}
  void on_start() {
    j_->add("start bad");
    throw std::runtime_error("cannot start");
  }
  void on(Work /*unused*/) {}

 private:
  Journal* j_;
};

/// Traps exits and ignores its supervisor's stop request.
class Stubborn : public troupe::actor<Stubborn> {
 public:
  explicit Stubborn(Journal* j) : j_(j) {}
  void on_start() {
    trap_exit(true);
    j_->add("start stubborn");
  }
  void on_stop() { j_->add("stop stubborn"); }
  void on(troupe::exit_msg /*unused*/) { j_->add("stubborn ignores stop"); }
  void on(Work /*unused*/) {}

 private:
  Journal* j_;
};

troupe::supervisor_options opts(troupe::strategy s, unsigned max = 100) {
  troupe::supervisor_options o;
  o.strategy = s;
  o.max_restarts = max;
  o.within = 5s;
  return o;
}

troupe::child_options named(std::string name, troupe::restart r = troupe::restart::permanent) {
  troupe::child_options o;
  o.name = std::move(name);
  o.restart = r;
  return o;
}

}  // namespace

TEST_CASE("one_for_one restarts only the failed child, and its ref stays valid", "[supervisor]") {
  Journal j;
  troupe::test_system sys(1);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
  auto w1 = troupe::start_child<Worker>(sup, named("w1"), "w1", &j);
  auto w2 = troupe::start_child<Worker>(sup, named("w2"), "w2", &j);
  auto w3 = troupe::start_child<Worker>(sup, named("w3"), "w3", &j);
  w2.send(Work{1});
  sys.run_until_idle();
  REQUIRE(settle(sys, w2.ask(Count{})) == 1);
  w2.send(Crash{});
  sys.run_until_idle();
  REQUIRE_FALSE(w2.terminated());
  REQUIRE(settle(sys, w2.ask(Count{})) == 0);  // a fresh incarnation, same ref
  REQUIRE(j.count("start w1") == 1);
  REQUIRE(j.count("start w2") == 2);
  REQUIRE(j.count("start w3") == 1);
  REQUIRE(j.count("stop w2") == 1);
  REQUIRE(sys.stats().restarts == 1);
  REQUIRE(sys.stats().dead_letters_by_reason.crashed == 1);
  const auto kids = settle(sys, sup.ask(troupe::which_children{}));
  REQUIRE(kids.size() == 3);
  REQUIRE(kids[1].name == "w2");
  REQUIRE(kids[1].addr == w2);
  REQUIRE(kids[1].restarts == 1);
  REQUIRE(kids[1].last_exit.code == troupe::exit_reason::kind::exception);
  REQUIRE(kids[0].restarts == 0);
}

TEST_CASE("no message is lost across one_for_one restarts except the crashing ones",
          "[supervisor]") {
  Journal j;
  troupe::test_system sys(2);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one, 1000));
  auto w = troupe::start_child<Worker>(sup, named("w"), "w", &j);
  for (int v = 1; v <= 100; ++v) w.send(Work{v});  // every tenth one crashes the worker
  sys.run_until_idle();
  std::vector<std::string> expected;
  for (int v = 1; v <= 100; ++v) {
    if (v % 10 != 0) expected.push_back("w " + std::to_string(v));
  }
  std::vector<std::string> handled;
  for (auto& e : j.events()) {
    if (e.rfind("w ", 0) == 0) handled.push_back(e);
  }
  REQUIRE(handled == expected);  // all, in order
  const auto s = sys.stats();
  REQUIRE(s.dead_letters_by_reason.crashed == 10);
  REQUIRE(s.dead_letters == 10);
  REQUIRE(s.restarts == 10);
  REQUIRE(j.count("start w") == 11);
}

TEST_CASE("messages sent while a child restarts reach the new incarnation", "[supervisor]") {
  Journal j;
  troupe::test_system sys(3);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
  auto w = troupe::start_child<Worker>(sup, named("w"), "w", &j);
  sys.run_until_idle();
  w.send(Crash{});
  // Run until the crash ended the incarnation, then send while it is absent.
  while (j.count("stop w") == 0) sys.step();
  for (int v = 1; v <= 5; ++v) w.send(Work{v});
  sys.run_until_idle();
  REQUIRE(settle(sys, w.ask(Count{})) == 5);
  REQUIRE(j.count("start w") == 2);
}

namespace {
struct Park {
  troupe::future<int> f;
};
struct Fail {};
// Keeps state that a coroutine handler touches after its co_await.
class Parker : public troupe::actor<Parker> {
 public:
  troupe::task<int> on(Park p) {
    const int v = co_await std::move(p.f);
    state_.push_back(v);  // a use-after-free if this ran on a destroyed object
    co_return static_cast<int>(state_.size());
  }
  void on(Fail /*unused*/) { throw std::runtime_error("fail"); }

 private:
  std::vector<int> state_;
};
}  // namespace

TEST_CASE("a coroutine handler suspended across a restart is abandoned, not resumed",
          "[supervisor]") {
  troupe::test_system sys(6);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
  auto w = troupe::start_child<Parker>(sup, named("p"));
  troupe::promise<int> p;
  auto parked = w.ask(Park{p.get_future()});
  sys.run_until_idle();
  REQUIRE_FALSE(parked.ready());
  w.send(Fail{});  // handled while the coroutine is suspended: restart
  sys.run_until_idle();
  REQUIRE(sys.stats().restarts == 1);
  p.set_value(7);  // the resume reaches the new incarnation
  sys.run_until_idle();
  REQUIRE(parked.ready());
  REQUIRE_THROWS_WITH(parked.get(), Catch::Contains("restarted"));
  // The new incarnation works, with fresh state.
  troupe::promise<int> q;
  auto next = w.ask(Park{q.get_future()});
  sys.run_until_idle();
  q.set_value(1);
  sys.run_until_idle();
  REQUIRE(settle(sys, std::move(next)) == 1);
}

TEST_CASE("one_for_all restarts every child: stops in reverse order, starts in order",
          "[supervisor]") {
  Journal j;
  troupe::test_system sys(4);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_all));
  auto w1 = troupe::start_child<Worker>(sup, named("w1"), "w1", &j);
  auto w2 = troupe::start_child<Worker>(sup, named("w2"), "w2", &j);
  auto w3 = troupe::start_child<Worker>(sup, named("w3"), "w3", &j);
  auto w4 = troupe::start_child<Worker>(sup, named("w4"), "w4", &j);
  sys.run_until_idle();
  j.clear();
  w2.send(Crash{});
  sys.run_until_idle();
  const auto ev = j.events();
  const std::vector<std::string> want{"stop w2",  "stop w4",  "stop w3",  "stop w1",
                                      "start w1", "start w2", "start w3", "start w4"};
  REQUIRE(ev == want);
  REQUIRE(sys.stats().restarts == 1);
}

TEST_CASE("rest_for_one restarts the failed child and those started after it", "[supervisor]") {
  Journal j;
  troupe::test_system sys(5);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::rest_for_one));
  auto a = troupe::start_child<Worker>(sup, named("a"), "a", &j);
  auto b = troupe::start_child<Worker>(sup, named("b"), "b", &j);
  auto c = troupe::start_child<Worker>(sup, named("c"), "c", &j);
  auto d = troupe::start_child<Worker>(sup, named("d"), "d", &j);
  a.send(Work{1});
  b.send(Work{1});
  c.send(Work{1});
  d.send(Work{1});
  sys.run_until_idle();
  j.clear();
  c.send(Crash{});
  sys.run_until_idle();
  REQUIRE(j.events() == std::vector<std::string>{"stop c", "stop d", "start c", "start d"});
  // a and b kept their state; c and d are fresh.
  REQUIRE(settle(sys, a.ask(Count{})) == 1);
  REQUIRE(settle(sys, b.ask(Count{})) == 1);
  REQUIRE(settle(sys, c.ask(Count{})) == 0);
  REQUIRE(settle(sys, d.ask(Count{})) == 0);
}

TEST_CASE("restart kinds: transient after abnormal exits only, temporary never", "[supervisor]") {
  struct Quit {};
  class Quitter : public troupe::actor<Quitter> {
   public:
    explicit Quitter(Journal* j) : j_(j) {}
    void on_start() { j_->add("start"); }
    void on(Quit /*unused*/) { stop(); }
    void on(Crash /*unused*/) { throw std::runtime_error("crash"); }

   private:
    Journal* j_;
  };
  Journal j;
  troupe::test_system sys(6);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
  auto t1 = troupe::start_child<Quitter>(sup, named("t1", troupe::restart::transient), &j);
  auto t2 = troupe::start_child<Quitter>(sup, named("t2", troupe::restart::transient), &j);
  auto tmp = troupe::start_child<Quitter>(sup, named("tmp", troupe::restart::temporary), &j);
  auto p = troupe::start_child<Quitter>(sup, named("p", troupe::restart::permanent), &j);
  auto w = sys.spawn<Watcher>();
  for (const troupe::actor_addr& a : {troupe::actor_addr(t1), troupe::actor_addr(t2),
                                      troupe::actor_addr(tmp), troupe::actor_addr(p)}) {
    w.send(Watch{a});
  }
  sys.run_until_idle();
  t1.send(Quit{});    // normal exit: not restarted
  t2.send(Crash{});   // abnormal: restarted
  tmp.send(Crash{});  // never restarted
  p.send(Quit{});     // permanent: restarted even after a normal exit
  sys.run_until_idle();
  REQUIRE(t1.terminated());
  REQUIRE_FALSE(t2.terminated());
  REQUIRE(tmp.terminated());
  REQUIRE_FALSE(p.terminated());
  REQUIRE(t2.send(Quit{}) == troupe::send_result::ok);
  REQUIRE(tmp.send(Quit{}) == troupe::send_result::closed);
  sys.run_until_idle();
  const auto downs = settle(sys, w.ask(Downs{}));
  // t1 (normal), tmp (its exception), and t2 after its second (normal) exit.
  REQUIRE(downs.size() == 3);
  for (const auto& d : downs) {
    if (d.who == tmp) REQUIRE(d.reason.code == troupe::exit_reason::kind::exception);
    if (d.who == t1) REQUIRE(d.reason.code == troupe::exit_reason::kind::normal);
  }
  REQUIRE(settle(sys, sup.ask(troupe::which_children{})).size() == 1);  // p
}

TEST_CASE("a crash loop hits the intensity limit and escalates up the tree", "[supervisor]") {
  Journal j;
  troupe::test_system sys(7);
  auto root = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one, 2));
  troupe::child_options mid_opts = named("mid");
  auto mid = troupe::start_child<troupe::supervisor>(root, mid_opts,
                                                     opts(troupe::strategy::one_for_one, 2));
  auto bad = troupe::start_child<BadStarter>(mid, named("bad"), &j);
  auto w = sys.spawn<Watcher>();
  w.send(Watch{root});
  w.send(Watch{mid});
  w.send(Watch{bad});
  sys.run_until_idle();
  // mid restarts bad twice, gives up on the third failure; root restarts mid
  // (which starts bad again) twice and gives up on the third escalation.
  REQUIRE(root.terminated());
  REQUIRE(mid.terminated());
  REQUIRE(bad.terminated());
  REQUIRE(j.count("start bad") == 9);  // 3 incarnations of mid x 3 failed starts
  REQUIRE(sys.stats().restarts == 2 * 3 + 2);
  const auto downs = settle(sys, w.ask(Downs{}));
  REQUIRE(downs.size() == 3);
  for (const auto& d : downs) {
    if (d.who == root) {
      REQUIRE(d.reason.code == troupe::exit_reason::kind::restart_limit);
      REQUIRE(d.reason.what.find("mid") != std::string::npos);
    }
  }
}

TEST_CASE("a crash loop escalates on the thread pool too", "[supervisor]") {
  Journal j;
  troupe::system sys(troupe::system_config{2});
  auto root = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one, 1));
  auto mid = troupe::start_child<troupe::supervisor>(root, named("mid"),
                                                     opts(troupe::strategy::one_for_one, 3));
  auto bad = troupe::start_child<BadStarter>(mid, named("bad"), &j);
  REQUIRE(troupe::test::eventually([&] { return root.terminated(); }));
  REQUIRE(troupe::test::eventually([&] { return bad.terminated() && mid.terminated(); }));
  REQUIRE(j.count("start bad") == 8);  // 2 incarnations of mid x 4 failed starts
  REQUIRE(sys.stats().restarts == 2 * 3 + 1);
}

TEST_CASE("restarts spread out over time never reach the intensity limit", "[supervisor]") {
  Journal j;
  troupe::test_system sys(8);
  troupe::supervisor_options o = opts(troupe::strategy::one_for_one, 2);
  o.within = 1s;
  auto sup = sys.spawn<troupe::supervisor>(o);
  auto w = troupe::start_child<Worker>(sup, named("w"), "w", &j);
  for (int i = 0; i < 10; ++i) {
    w.send(Crash{});
    sys.advance(600ms);  // at most 2 restarts in any 1 s window
  }
  REQUIRE_FALSE(sup.terminated());
  REQUIRE(sys.stats().restarts == 10);
  // Three quick ones exceed it.
  for (int i = 0; i < 3; ++i) w.send(Crash{});
  sys.run_until_idle();
  REQUIRE(sup.terminated());
}

TEST_CASE("a supervisor's graceful stop stops children in reverse start order", "[supervisor]") {
  Journal j;
  troupe::test_system sys(9);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
  auto w1 = troupe::start_child<Worker>(sup, named("w1"), "w1", &j);
  auto w2 = troupe::start_child<Worker>(sup, named("w2"), "w2", &j);
  auto w3 = troupe::start_child<Worker>(sup, named("w3"), "w3", &j);
  sys.run_until_idle();
  for (int v = 1; v <= 3; ++v) w1.send(Work{v});  // queued before the stop: handled
  sup.stop();
  sys.run_until_idle();
  REQUIRE(sup.terminated());
  REQUIRE(w1.terminated());
  REQUIRE(w2.terminated());
  REQUIRE(w3.terminated());
  REQUIRE(j.with("stop") == std::vector<std::string>{"stop w3", "stop w2", "stop w1"});
  REQUIRE(j.with("w1 ").size() == 3);
}

TEST_CASE("a child that ignores its stop is killed after its shutdown timeout (virtual time)",
          "[supervisor]") {
  Journal j;
  troupe::test_system sys(10);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
  auto w1 = troupe::start_child<Worker>(sup, named("w1"), "w1", &j);
  troupe::child_options so = named("stubborn");
  so.shutdown = 300ms;
  auto s = troupe::start_child<Stubborn>(sup, so, &j);
  sys.run_until_idle();
  sup.stop();
  sys.run_until_idle();
  REQUIRE(j.count("stubborn ignores stop") == 1);
  REQUIRE_FALSE(sup.terminated());  // waiting for the stubborn child
  REQUIRE_FALSE(w1.terminated());   // w1 is stopped after it (reverse start order)
  sys.advance(299ms);
  REQUIRE_FALSE(s.terminated());
  sys.advance(1ms);
  REQUIRE(s.terminated());
  REQUIRE(w1.terminated());
  REQUIRE(sup.terminated());
  REQUIRE(j.with("stop") == std::vector<std::string>{"stop stubborn", "stop w1"});
}

TEST_CASE("shutdown of a 3-level tree with a child that ignores stop finishes within its timeout",
          "[supervisor]") {
  Journal j;
  auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration took{};
  troupe::ref<Worker> leaf;
  {
    troupe::system sys(troupe::system_config{2});
    auto root = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
    auto a = troupe::start_child<Worker>(root, named("a"), "a", &j);
    auto mid = troupe::start_child<troupe::supervisor>(root, named("mid"),
                                                       opts(troupe::strategy::one_for_all));
    auto b = troupe::start_child<Worker>(mid, named("b"), "b", &j);
    troupe::child_options so = named("stubborn");
    so.shutdown = 200ms;
    auto s = troupe::start_child<Stubborn>(mid, so, &j);
    leaf = troupe::start_child<Worker>(mid, named("c"), "c", &j);
    auto z = troupe::start_child<Worker>(root, named("z"), "z", &j);
    REQUIRE(troupe::test::eventually(
        [&] { return j.count("start z") == 1 && j.count("start c") == 1; }));
    t0 = std::chrono::steady_clock::now();
    const auto report = sys.shutdown();
    took = std::chrono::steady_clock::now() - t0;
    REQUIRE(report.actors_stopped == 7);
    REQUIRE(sys.stats().live_actors == 0);
  }
  REQUIRE(took >= 200ms);
  REQUIRE(took < 2s);
  REQUIRE(leaf.terminated());
  // Reverse start order across the tree: z, then mid's subtree (c, the
  // stubborn one once killed, b), then a.
  REQUIRE(j.with("stop") ==
          std::vector<std::string>{"stop z", "stop c", "stop stubborn", "stop b", "stop a"});
}

TEST_CASE("a supervised supervisor's restart restarts its subtree, keeping every ref",
          "[supervisor]") {
  Journal j;
  troupe::test_system sys(11);
  auto root = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
  auto mid = troupe::start_child<troupe::supervisor>(root, named("mid"),
                                                     opts(troupe::strategy::one_for_one));
  auto w = troupe::start_child<Worker>(mid, named("w"), "w", &j);
  w.send(Work{1});
  sys.run_until_idle();
  mid.kill();  // the subtree goes down and comes back
  sys.run_until_idle();
  w.send(Work{2});
  sys.run_until_idle();
  REQUIRE_FALSE(mid.terminated());
  REQUIRE_FALSE(w.terminated());
  REQUIRE(j.count("start w") == 2);
  REQUIRE(settle(sys, w.ask(Count{})) == 1);  // Work{2}, in the new incarnation
  REQUIRE(settle(sys, mid.ask(troupe::which_children{})).size() == 1);
}

TEST_CASE("terminate_child stops a child for good, and start_child on a dead supervisor",
          "[supervisor]") {
  Journal j;
  troupe::test_system sys(12);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
  auto w1 = troupe::start_child<Worker>(sup, named("w1"), "w1", &j);
  auto w2 = troupe::start_child<Worker>(sup, named("w2"), "w2", &j);
  sys.run_until_idle();
  REQUIRE(settle(sys, sup.ask(troupe::terminate_child{w1})));
  REQUIRE(w1.terminated());
  REQUIRE_FALSE(settle(sys, sup.ask(troupe::terminate_child{w1})));
  REQUIRE(settle(sys, sup.ask(troupe::which_children{})).size() == 1);
  sup.kill();
  sys.run_until_idle();
  REQUIRE(w2.terminated());
  auto late = troupe::start_child<Worker>(sup, named("late"), "late", &j);
  sys.run_until_idle();
  REQUIRE(late.terminated());
  REQUIRE(late.send(Work{1}) == troupe::send_result::closed);
  REQUIRE(j.count("start late") == 0);
}

TEST_CASE("a child built by a factory is rebuilt by it at each restart", "[supervisor]") {
  Journal j;
  int built = 0;
  troupe::test_system sys(13);
  auto sup = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_one));
  auto w = troupe::start_child<Worker>(sup, named("w"), troupe::with_factory([&] {
                                         ++built;
                                         return Worker("w" + std::to_string(built), &j);
                                       }));
  w.send(Crash{});
  sys.run_until_idle();
  REQUIRE(built == 2);
  REQUIRE(j.count("start w1") == 1);
  REQUIRE(j.count("start w2") == 1);
}

TEST_CASE("system shutdown with a supervision tree reports and stops everything", "[supervisor]") {
  Journal j;
  for (unsigned workers : troupe::test::kWorkerSweep) {
    troupe::system sys(troupe::system_config{workers});
    auto root = sys.spawn<troupe::supervisor>(opts(troupe::strategy::one_for_all));
    std::vector<troupe::ref<Worker>> ws;
    for (int i = 0; i < 5; ++i) {
      ws.push_back(troupe::start_child<Worker>(root, named("w" + std::to_string(i)),
                                               "w" + std::to_string(i), &j));
    }
    for (int v = 1; v < 200; ++v) ws[static_cast<std::size_t>(v) % 5].send(Work{v});
    sys.shutdown(troupe::shutdown_mode::now);
    CAPTURE(workers);
    REQUIRE(sys.stats().live_actors == 0);
    for (auto& w : ws) REQUIRE(w.terminated());
  }
}
