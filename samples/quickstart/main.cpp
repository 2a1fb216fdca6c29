// The README's quick start: a counter actor shared by four threads, no locks.
#include <iostream>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

struct Inc {
  int by = 1;
};
struct Get {};

class Counter : public troupe::actor<Counter> {
 public:
  void on(Inc m) { n_ += m.by; }  // one message at a time: no lock needed
  int on(Get /*unused*/) const { return n_; }

 private:
  int n_ = 0;
};

int main() {
  troupe::system sys;  // worker pool, timers, logging
  troupe::ref<Counter> counter = sys.spawn<Counter>();

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([counter] {
      for (int i = 0; i < 250; ++i) counter.send(Inc{2});  // send(x) compiles only if on(x) exists
    });
  }
  for (auto& t : threads) t.join();

  int n = counter.ask(Get{}).get();  // ask returns troupe::future<int>
  std::cout << "count = " << n << '\n';
}
