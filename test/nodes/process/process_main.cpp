// main() of nodes_process_test: the child hook first (this binary is
// re-executed as the children), then a helper mode used by the orphan test,
// then Catch2.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <troupe/nodes.hpp>

int orphan_parent_main(int argc, char** argv);  // process_helpers.cpp
int forgetful_main();                           // process_helpers.cpp

namespace {
// Children must die by their signals (what the tests check), not by the
// sanitizers' handlers, which turn a SIGSEGV into exit status 1; and TSan
// must not sleep 1 s at exit (atexit_sleep_ms), a child's exit is timed.
void append_env(const char* name, const char* opts) {
  const char* old = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): single-threaded here
  std::string v = old != nullptr && *old != '\0' ? std::string(old) + ":" + opts : opts;
  setenv(name, v.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
}
}  // namespace

int main(int argc, char** argv) {
  // A program that forgot the hook (its children run this line too).
  if (std::getenv("PT_FORGET_CHILD_MAIN") != nullptr) return forgetful_main();  // NOLINT
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;
  if (argc > 1 && std::string(argv[1]) == "--orphan-parent") return orphan_parent_main(argc, argv);
  append_env("ASAN_OPTIONS", "handle_segv=0:handle_abort=0:handle_sigbus=0:detect_leaks=0");
  append_env("TSAN_OPTIONS", "handle_segv=0:handle_abort=0:handle_sigbus=0:atexit_sleep_ms=0");
  return Catch::Session().run(argc, argv);
}
