// The talk's countdown thread, done with an actor. A countdown is an actor
// that ticks with a timer (no thread sleeps); "join" is a future that
// completes when it finishes. The talk notes that a Python thread cannot be
// killed, only asked to stop through a flag it polls; an actor can be stopped
// at any time between two messages: ref.stop() is handled after the messages
// already queued, on_stop() runs, and nothing is left half done.
#include <chrono>
#include <iostream>
#include <troupe/troupe.hpp>

using namespace std::chrono_literals;

struct Tick {};

class Countdown : public troupe::actor<Countdown> {
 public:
  Countdown(std::string name, int from, troupe::promise<int> done)
      : name_(std::move(name)), count_(from), done_(std::move(done)) {}

  void on_start() { send_after(10ms, Tick{}); }

  void on(Tick /*unused*/) {
    std::cout << name_ << ": counting down " << count_ << std::endl;
    if (--count_ == 0) {
      stop();  // finished by itself
      return;
    }
    send_after(10ms, Tick{});
  }

  // Runs however the actor stops: finished, or stopped from outside.
  void on_stop() { done_.set_value(count_); }

 private:
  std::string name_;
  int count_;
  troupe::promise<int> done_;
};

int main() {
  troupe::system sys;

  // 1. Start a countdown and join it: wait for its future.
  troupe::promise<int> p1;
  auto joined = p1.get_future();
  sys.spawn<Countdown>("t1", 5, std::move(p1));
  std::cout << "main: t1 runs while main keeps going" << std::endl;
  const int left1 = joined.get();
  std::cout << "main: joined t1, " << left1 << " left" << std::endl;

  // 2. Start a long countdown and stop it part way, cooperatively.
  troupe::promise<int> p2;
  auto stopped = p2.get_future();
  auto t2 = sys.spawn<Countdown>("t2", 1000, std::move(p2));
  std::this_thread::sleep_for(50ms);
  t2.stop();
  const int left2 = stopped.get();
  std::cout << "main: stopped t2 cleanly with " << left2 << " still to count" << std::endl;
  return left1 == 0 && left2 > 0 ? 0 : 1;
}
