#pragma once
// Helpers shared by the monitor, supervisor, mailbox and test_system tests.

#include <atomic>
#include <string>
#include <troupe/troupe.hpp>
#include <utility>
#include <vector>

namespace troupe::test {

/// Runs a test_system until idle, then takes the future's value.
template <class T>
T settle(troupe::test_system& sys, troupe::future<T> f) {
  sys.run_until_idle();
  return f.get();
}

struct Watch {
  troupe::actor_addr target;
};
struct LinkTo {
  troupe::actor_addr target;
};
struct Unwatch {
  troupe::monitor_id id;
};
struct Downs {};
struct Exits {};
struct Trap {
  bool on;
};

/// Monitors and links on request, and records what it receives.
class Watcher : public troupe::actor<Watcher> {
 public:
  explicit Watcher(std::atomic<int>* downs = nullptr) : count_(downs) {}
  troupe::monitor_id on(Watch w) { return monitor(w.target); }
  void on(LinkTo l) { link(l.target); }
  bool on(Unwatch u) { return demonitor(u.id); }
  void on(Trap t) { trap_exit(t.on); }
  void on(troupe::down d) {
    downs_.push_back(std::move(d));
    if (count_ != nullptr) count_->fetch_add(1);
  }
  void on(troupe::exit_msg e) { exits_.push_back(std::move(e)); }
  [[nodiscard]] std::vector<troupe::down> on(Downs /*unused*/) const { return downs_; }
  [[nodiscard]] std::vector<troupe::exit_msg> on(Exits /*unused*/) const { return exits_; }

 private:
  std::atomic<int>* count_;
  std::vector<troupe::down> downs_;
  std::vector<troupe::exit_msg> exits_;
};

struct Boom {
  std::string why = "boom";
};
struct Ping {};
struct Stop {};

/// Counts pings; throws on Boom; stops itself on Stop.
class Target : public troupe::actor<Target> {
 public:
  void on(Ping /*unused*/) { ++n_; }
  int on(Boom b) { throw std::runtime_error(b.why); }
  void on(Stop /*unused*/) { stop(); }
  void on(LinkTo l) { link(l.target); }
  [[nodiscard]] int on(Downs /*unused*/) const { return n_; }

 private:
  int n_ = 0;
};

}  // namespace troupe::test
