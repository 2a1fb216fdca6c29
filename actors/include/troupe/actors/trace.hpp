#pragma once
/// Tracing a running program: system::trace_start(path) records, until
/// trace_stop(), what the runtime does (handler runs, the sends that fed
/// them, task resumes, spawns, exits, restarts, dead letters, timer fires,
/// channel closes) and writes it as a Chrome trace event file (JSON) that
/// Perfetto (ui.perfetto.dev) and chrome://tracing open, or that
/// tools/trace_svg.py draws as an SVG. TROUPE_TRACE=out.json in the
/// environment does the same for a whole run. See docs/observability.md.

#include <cstddef>
#include <cstdint>
#include <string>

namespace troupe {

/// How a trace records.
struct trace_options {
  /// Events kept per thread: each thread writes its own ring buffer of this
  /// many events (96 bytes each); when it wraps, the oldest are dropped and
  /// counted (otherData.dropped_events in the file). At least 16.
  std::size_t ring_events = 32768;
};

/// What trace_stop() wrote.
struct trace_summary {
  std::string path;           ///< the file written
  std::uint64_t events = 0;   ///< events in the file
  std::uint64_t dropped = 0;  ///< events lost to ring wrap-around
  std::size_t threads = 0;    ///< threads that recorded (tracks in the file)
  [[nodiscard]] bool complete() const noexcept { return dropped == 0; }
};

}  // namespace troupe
