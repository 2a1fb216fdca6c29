#pragma once
// Launching a child process: the socketpair, the child's command line
// (written here, read back by the child with child_arg) and the
// posix_spawn of /proc/self/exe with the child's end of the socket as fd 3.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "troupe/nodes/process.hpp"

namespace troupe::nodes::detail {

/// The fd a child finds its end of the connection on.
inline constexpr int child_fd = 3;

/// A started child, as the parent holds it.
struct launched_child {
  pid_t pid = -1;
  int pidfd = -1;  ///< pidfd_open of pid
  int fd = -1;     ///< the parent's end of the socketpair
};

/// Starts the program again as a child hosting `actor_name` with the
/// settings of `opts` on its command line. Throws troupe::error
/// (errc::invalid_argument naming the failed call).
/// Call it on the I/O thread: the child's PR_SET_PDEATHSIG follows the
/// spawning thread, which lives as long as the process's I/O runtime.
/// In a child whose main() runs again (no child_main()), ends that child
/// instead: children never start children by accident.
launched_child spawn_child(std::string_view actor_name, const isolated_options& opts);

/// True in a child process started by troupe whose program has not called
/// child_main() (its main() is running again).
bool in_child_before_child_main() noexcept;
/// Ends such a child with exit_no_child_main, logging the fix.
[[noreturn]] void forgotten_child_main() noexcept;

/// The value of `key=value` on a child's command line ("" if absent).
std::string child_arg(int argc, char** argv, std::string_view key);
/// child_arg as a number (0 if absent).
std::uint64_t child_arg_u64(int argc, char** argv, std::string_view key);

}  // namespace troupe::nodes::detail
