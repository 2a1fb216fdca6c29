#pragma once
// Helpers shared by the task tests (test/actors/task_test.cpp and
// test/channels/task_channel_test.cpp).

#include <troupe/actors.hpp>
#include <troupe/actors/task.hpp>

namespace troupe::test {

inline troupe::task<int> add(int a, int b) { co_return a + b; }

struct Echo : troupe::actor<Echo> {
  int on(int x) { return x * 2; }
};

}  // namespace troupe::test
