#pragma once
/// troupe's logging switches.
///
/// troupe logs through an spdlog logger named "troupe" (registered with
/// spdlog, so `spdlog::get("troupe")` returns it for sinks and patterns). It
/// writes to stderr, never replaces spdlog's default logger, and starts at
/// level `warn`, or at the level named by the TROUPE_LOG environment
/// variable (trace, debug, info, warn, error, critical, off).

namespace troupe {

enum class log_level { trace, debug, info, warn, error, critical, off };

/// Sets the level of the "troupe" logger. @threadsafe
void set_log_level(log_level level);

/// The current level of the "troupe" logger. @threadsafe
log_level get_log_level();

}  // namespace troupe
