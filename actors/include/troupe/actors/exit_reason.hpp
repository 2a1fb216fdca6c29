#pragma once
/// Why an actor stopped (or why one incarnation of a supervised actor ended).

#include <string>
#include <string_view>

namespace troupe {

/// The reason an actor terminated, as reported to logs, monitors (`down`),
/// links (`exit_msg`) and supervisors.
struct exit_reason {
  enum class kind : unsigned char {
    normal,         ///< stopped by stop() or ref.stop(), or finished draining
    killed,         ///< ref.kill(), shutdown(shutdown_mode::now), or a supervisor's stop timeout
    exception,      ///< a handler, a hook or the constructor threw; `what` holds "<type>: <what()>"
    shutdown,       ///< stopped by system shutdown, or by its supervisor (tree shutdown, restart)
    peer_lost,      ///< the process or host holding the actor went away
    linked,         ///< a linked actor exited abnormally and this one does not trap exits
    restart_limit,  ///< a supervisor exceeded its restart intensity and gave up (escalation)
  };
  kind code = kind::normal;
  std::string what;

  /// True for normal and shutdown exits: they do not propagate across links
  /// and a transient child is not restarted after them.
  [[nodiscard]] bool is_normal() const noexcept {
    return code == kind::normal || code == kind::shutdown;
  }
  /// For an exception: the exception's type ("std::runtime_error"); empty otherwise.
  [[nodiscard]] std::string_view exception_type() const noexcept {
    if (code != kind::exception) return {};
    const std::string_view w(what);
    const auto colon = w.find(": ");
    return colon == std::string_view::npos ? w : w.substr(0, colon);
  }
  /// "normal", "killed", "exception: std::runtime_error: boom", ...
  [[nodiscard]] std::string to_string() const;
};

}  // namespace troupe
