// Helper modes of nodes_process_test, run as programs of their own:
// - "orphan parent": starts an isolated actor, writes the child's pid to the
//   fd given, and waits to be SIGKILLed;
// - "forgetful": a program whose main() does not call child_main() (chosen
//   by PT_FORGET_CHILD_MAIN in the environment, so that its children run it
//   too).

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "process_fixtures.hpp"

int orphan_parent_main(int argc, char** argv) {
  if (argc < 3) return 2;
  const int fd = std::atoi(argv[2]);
  troupe::system sys;
  auto c = troupe::spawn_isolated<pt::Counter>(sys);
  if (c.ask(pt::Get{}).get() != 0) return 3;
  const std::string pid = std::to_string(pt::pid_of(c)) + "\n";
  if (::write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) return 4;
  ::close(fd);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

int forgetful_main() {
  // What a user's main() would do before its first use of troupe: here,
  // note that main() ran, in the file named by PT_FORGET_LOG.
  const char* log = std::getenv("PT_FORGET_LOG");  // NOLINT(concurrency-mt-unsafe)
  if (log == nullptr) return 2;
  const int fd = ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return 2;
  const std::string line = std::to_string(::getpid()) + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 2;
  ::close(fd);

  troupe::system sys;  // a child stops here
  auto c = sys.spawn<pt::Counter>(troupe::isolated);
  std::string err = "no error";
  try {
    (void)c.ask(pt::Get{}).get(std::chrono::seconds(60));
  } catch (const troupe::error& e) {
    err = std::string(e.what()) + " [" + std::to_string(static_cast<int>(e.value())) + "]";
  }
  (void)pt::wait_gone(c, std::chrono::seconds(60));
  std::fputs(err.c_str(), stdout);
  return 0;
}
