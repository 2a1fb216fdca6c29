#pragma once
// The tracer's control side (src/trace.cpp): one trace per process at a time,
// started by a system (trace_start, or TROUPE_TRACE at construction) and
// written by trace_stop, or when the system that started it goes away.

#include <string>

#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/trace.hpp"

namespace troupe::detail::trace {

/// Starts recording into `path` (opened now: a bad path fails here).
/// Throws troupe::error (invalid_argument) if a trace is already running or
/// the options are out of range, std::system_error if the file cannot be
/// opened. `owner` identifies the system that started it.
void start(const std::string& path, const trace_options& opts, const void* owner);

/// Stops recording and writes the file. Throws troupe::error
/// (invalid_argument) if no trace is running, std::system_error if writing
/// failed (the trace is stopped either way).
trace_summary stop();

/// Stops and writes the trace if `owner` started it (a system going away);
/// failures are logged. @threadsafe
void stop_if_owner(const void* owner) noexcept;

/// TROUPE_TRACE=<path> in the environment: starts a trace owned by `owner`
/// unless one is running; in a child process of a traced program (the
/// process backend re-executes it) the file is <path>.<pid>.json. A SIGINT
/// while it runs writes the file, then ends the program as SIGINT would.
/// Failures are logged, never thrown.
void start_from_env(const void* owner) noexcept;

}  // namespace troupe::detail::trace
