// The talk's multiprocessing.Process demo: three workers, each in a process
// of its own, each printing "Worker i". troupe re-executes this program as
// each child (the first line of main), runs the Worker actor there, and the
// parent talks to it through a troupe::ref<Worker>, the same handle as a
// local actor's. The parent asks the workers one after the other, so the
// output order is fixed, then stops them and waits for them (the join: a
// system's shutdown waits until every child has exited and is reaped).
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <set>
#include <troupe/troupe.hpp>
#include <vector>

struct Greet {
  int index = 0;
};
// A stable name on the wire, and the fields that cross the process boundary.
TROUPE_MESSAGE(Greet, "samples.workers.greet", index);

class Worker : public troupe::actor<Worker> {
 public:
  // Runs in the child process, whose stdout is the parent's.
  int on(Greet g) {
    std::cout << "Worker " << g.index << std::endl;  // flushed before the reply
    return static_cast<int>(::getpid());
  }
};
TROUPE_ISOLATED_ACTOR(Worker, "samples.workers.worker");

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;  // in a child: runs it, exits

  troupe::system sys;
  std::vector<troupe::ref<Worker>> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(sys.spawn<Worker>(troupe::isolated));

  std::set<int> pids;
  int index = 0;
  for (auto& w : workers) pids.insert(w.ask(Greet{index++}).get());  // one at a time: fixed order

  for (auto& w : workers) w.stop();  // graceful: each child exits
  sys.shutdown();                    // and is reaped
  bool joined = true;
  for (auto& w : workers) joined = w.terminated() && joined;
  const bool separate = pids.size() == 3 && !pids.contains(static_cast<int>(::getpid()));
  std::cout << "3 workers joined: " << (joined ? "yes" : "NO")
            << ", each in a process of its own: " << (separate ? "yes" : "NO") << '\n';
  return joined && separate ? 0 : 1;
}
