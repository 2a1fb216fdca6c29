// DELIBERATELY BROKEN: the talk's race condition, with a shared int and no
// lock. This is undefined behaviour in C++ (a data race) and loses updates.
// Built only with -DTROUPE_SAMPLE_UNSAFE_RACE=ON, never run by the tests or
// under ThreadSanitizer. Compare with main.cpp.
#include <iostream>
#include <thread>
#include <vector>

int main() {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 1000000;
  for (int round = 1; round <= 3; ++round) {
    long x = 0;  // shared, unprotected
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&x] {
        for (int i = 0; i < kIncrements; ++i) {
          long v = x;  // read ...
          // (another thread may write x here)
          *static_cast<volatile long*>(&x) = v + 1;  // ... write back
        }
      });
    }
    for (auto& t : threads) t.join();
    std::cout << "round " << round << ": expected " << kThreads * kIncrements << ", got " << x
              << " (" << kThreads * kIncrements - x << " updates lost)\n";
  }
}
