#pragma once
/// Why an actor stopped.

#include <string>

namespace troupe {

/// The reason an actor terminated, as reported to logs, monitors and
/// supervisors.
struct exit_reason {
  enum class kind : unsigned char {
    normal,     ///< stopped by stop() or ref.stop(), or finished draining
    killed,     ///< ref.kill() or shutdown(shutdown_mode::now)
    exception,  ///< a handler or a hook threw; `what` holds "<type>: <what()>"
    shutdown,   ///< stopped by system shutdown while draining
    peer_lost,  ///< the process or host holding the actor went away
  };
  kind code = kind::normal;
  std::string what;

  /// True for normal and shutdown exits.
  [[nodiscard]] bool is_normal() const noexcept {
    return code == kind::normal || code == kind::shutdown;
  }
  /// "normal", "killed", "exception: std::runtime_error: boom", ...
  [[nodiscard]] std::string to_string() const;
};

}  // namespace troupe
