#pragma once
/// troupe::location: where an actor runs, as ref<A>::location() reports it.
///
/// A ref<A> is the same type wherever its actor lives; where the place
/// matters (its process id, say), ask the ref:
///
///   if (r.location().where == troupe::location::kind::process) ::kill(r.location().pid, SIGSTOP);

#include <string>

namespace troupe {

struct location {
  enum class kind : unsigned char {
    local,    ///< on this process's pool or a detached thread of it
    process,  ///< in a child process of this one (troupe::isolated)
    node,     ///< in a process on another node of a cluster
  };
  kind where = kind::local;
  /// The actor's operating-system process id (this process's for local); 0
  /// once a child is gone and unknown.
  int pid = 0;
  /// The cluster node's name (kind::node only).
  std::string node;

  /// "local (pid 12)", "child process 4711", "node b (pid 31)".
  [[nodiscard]] std::string to_string() const;
};

}  // namespace troupe
