// The talk's asyncio.gather demo: three coroutines each print, sleep one
// second and print again. They run at once on the pool (no thread sleeps:
// the sleeps are timers), so the whole thing takes about one second, not
// three.
#include <chrono>
#include <cstdio>
#include <troupe/troupe.hpp>

using namespace std::chrono_literals;

troupe::task<> count() {
  std::puts("One");
  co_await troupe::sleep_for(1s);
  std::puts("Two");
}

int main() {
  troupe::system sys;
  const auto t0 = std::chrono::steady_clock::now();
  sys.go([]() -> troupe::task<> { co_await troupe::when_all(count(), count(), count()); }).get();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("Executed in %0.2f seconds.\n", elapsed);
  return elapsed < 2.0 ? 0 : 1;  // sequential sleeps would take 3 s
}
