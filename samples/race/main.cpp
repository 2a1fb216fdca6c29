// The talk's race condition: N threads each do `x += 1` many times. With a
// shared int, updates are lost (see race_unsafe.cpp, built only with
// -DTROUPE_SAMPLE_UNSAFE_RACE=ON, never under ThreadSanitizer). Here the
// count lives in an actor: each increment is a message, the actor handles one
// at a time, and the total is exact every time, with no lock in user code.
#include <iostream>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

struct Add {};
struct Total {};

class Counter : public troupe::actor<Counter> {
 public:
  void on(Add /*unused*/) { ++x_; }  // x += 1, one message at a time
  long on(Total /*unused*/) const { return x_; }

 private:
  long x_ = 0;
};

int main() {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 100000;
  troupe::system sys;
  for (int round = 1; round <= 3; ++round) {
    auto counter = sys.spawn<Counter>();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([counter] {
        for (int i = 0; i < kIncrements; ++i) counter.send(Add{});
      });
    }
    for (auto& t : threads) t.join();
    const long total = counter.ask(Total{}).get();
    std::cout << "round " << round << ": " << kThreads << " threads x " << kIncrements
              << " increments = " << total
              << (total == kThreads * kIncrements ? " (exact)" : " (LOST UPDATES)") << '\n';
    counter.stop();
  }
}
