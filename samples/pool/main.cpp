// The talk's multiprocessing.Pool demo: apply(add, 3, 4) in a worker
// process prints 7; apply_async returns at once and is polled with ready(),
// then read with successful() and get(). Also map, and what a failing task
// looks like. Pool functions are registered by name: every process of this
// program (parent and workers) knows them.
#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

using namespace std::chrono_literals;

int add(int a, int b) { return a + b; }
TROUPE_POOL_FUNCTION(add);

int slow_square(int x) {
  std::this_thread::sleep_for(200ms);  // in the worker process
  return x * x;
}
TROUPE_POOL_FUNCTION(slow_square);

int parse(std::string text) { return std::stoi(text); }  // throws on bad input
TROUPE_POOL_FUNCTION(parse);

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;  // in a worker: runs it, exits

  troupe::system sys;
  troupe::process_pool pool(sys, 2);  // two worker processes

  std::cout << "apply(add, 3, 4) = " << pool.apply(add, 3, 4) << '\n';

  troupe::pool_result<int> r = pool.apply_async(slow_square, 12);
  const bool ready_at_first = r.ready();
  while (!r.ready()) std::this_thread::sleep_for(10ms);  // the main thread is free meanwhile
  std::cout << std::boolalpha
            << "apply_async(slow_square, 12): ready() at first = " << ready_at_first
            << ", then successful() = " << r.successful() << ", get() = " << r.get() << '\n';

  const std::vector<int> squares = pool.map(slow_square, std::vector<int>{1, 2, 3, 4, 5, 6}, 2);
  std::cout << "map(slow_square, 1..6) =";
  for (int v : squares) std::cout << ' ' << v;
  std::cout << '\n';

  troupe::pool_result<int> bad = pool.apply_async(parse, std::string("seven"));
  (void)bad.wait(10s);
  std::cout << "apply_async(parse, \"seven\"): successful() = " << bad.successful();
  try {
    (void)bad.get();
  } catch (const troupe::error& e) {
    std::cout << ", get() throws: " << e.what();
  }
  std::cout << '\n' << "apply(parse, \"42\") = " << pool.apply(parse, std::string("42")) << '\n';
}
