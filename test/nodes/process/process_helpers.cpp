// The "orphan parent" mode of nodes_process_test: starts an isolated actor,
// writes the child's pid to the fd given, and waits to be SIGKILLed.

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
  const std::string pid = std::to_string(c.pid()) + "\n";
  if (::write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) return 4;
  ::close(fd);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}
