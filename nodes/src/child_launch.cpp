// Launching a child process: socketpair, the child's command line,
// posix_spawn of /proc/self/exe (never a fork of the threaded parent) and
// its pidfd; and reading that command line back in the child.

#include "internal/child_launch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "internal/nodes_log.hpp"
#include "troupe/actors/error.hpp"

extern char** environ;  // NOLINT

namespace troupe::nodes::detail {

namespace {

troupe::error sys_error(const std::string& what) {
  return troupe::error(troupe::errc::invalid_argument, what + ": " + errno_text(errno));
}

}  // namespace

launched_child spawn_child(std::string_view actor_name, const isolated_options& opts) {
  if (in_child_before_child_main()) forgotten_child_main();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw sys_error("socketpair");
  // Moved above fd 3 so that dup2 onto 3 always clears FD_CLOEXEC.
  const int high = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
  ::close(sv[1]);
  if (high < 0) {
    ::close(sv[0]);
    throw sys_error("fcntl");
  }
  std::vector<std::string> args = {
      "/proc/self/exe",
      std::string(child_marker),
      "ppid=" + std::to_string(::getpid()),
      "hb=" + std::to_string(opts.heartbeat_interval.count()),
      "hbto=" + std::to_string(opts.heartbeat_timeout.count()),
      "st=" + std::to_string(opts.startup_timeout.count()),
      "as=" + std::to_string(opts.limit_address_space),
      "cpu=" + std::to_string(opts.limit_cpu_seconds),
      "maxframe=" + std::to_string(opts.max_frame),
      "hto=" + std::to_string(opts.handler_timeout.count()),
      "name=" + std::string(actor_name),
  };
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&fa, high, child_fd);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(high);
  if (rc != 0) {
    ::close(sv[0]);
    errno = rc;
    throw sys_error("posix_spawn /proc/self/exe");
  }
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::close(sv[0]);
    throw sys_error("pidfd_open");
  }
  return launched_child{pid, pidfd, sv[0]};
}

std::string child_arg(int argc, char** argv, std::string_view key) {
  for (int i = 2; i < argc; ++i) {
    std::string_view a(argv[i]);
    if (a.size() > key.size() && a.substr(0, key.size()) == key && a[key.size()] == '=') {
      return std::string(a.substr(key.size() + 1));
    }
  }
  return {};
}

std::uint64_t child_arg_u64(int argc, char** argv, std::string_view key) {
  const std::string v = child_arg(argc, argv, key);
  return v.empty() ? 0 : std::strtoull(v.c_str(), nullptr, 10);
}

}  // namespace troupe::nodes::detail
