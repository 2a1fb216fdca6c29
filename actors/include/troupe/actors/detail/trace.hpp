#pragma once
// The tracer's recording side, called from the runtime's hot paths (message
// sends and handler runs, task resumes, spawns, exits, timers, channels).
// Off, each call site costs one relaxed load of a global flag and a branch;
// on, each event is written to the calling thread's own ring buffer (no lock,
// no shared cache line). The user's side is system::trace_start/trace_stop
// (troupe/actors/trace.hpp); the file format is Chrome's trace events.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::detail::trace {

/// True while a trace is being recorded. @threadsafe
extern std::atomic<bool> g_on;
[[nodiscard]] inline bool on() noexcept { return g_on.load(std::memory_order_relaxed); }

/// Nanoseconds on the trace's clock (steady_clock). @threadsafe
[[nodiscard]] std::uint64_t now() noexcept;

/// Records a slice [start, now) on this thread: a handler run ("actor" and
/// its "id" set, "flow" the id of the send that queued the message, or 0)
/// or another span of work (a task resume: actor null). `name` must live
/// for the whole program (a type name's static string). @threadsafe
void slice(const char* name, const char* actor, std::uint64_t id, std::uint64_t start,
           std::uint32_t flow) noexcept;

/// Records a slice [start, now) on this thread that ends flow `flow` of
/// process `peer_pid` (a frame that a traced peer sent: the handling of a
/// message that crossed a process boundary). `name` static. @threadsafe
void slice_from(const char* name, std::uint64_t start, std::uint32_t peer_pid,
                std::uint32_t flow) noexcept;

/// Records the start of a flow (a message sent to actor `to`#`id`) on this
/// thread and returns its id (never 0), or 0 when not tracing. @threadsafe
std::uint32_t flow_start(const char* to, std::uint64_t id) noexcept;

/// Records an instant event on this thread: `name` (static) about actor
/// `actor`#`id` (null: none), with a short text (copied, cut to fit).
/// @threadsafe
void instant(const char* name, const char* actor, std::uint64_t id,
             std::string_view detail = {}) noexcept;

/// Stops and writes the trace being recorded, if any, whoever started it:
/// for a process about to leave with _exit (a child of the process
/// backend). Failures are logged. @threadsafe
void finish_before_exit() noexcept;

/// Names the calling thread's track in traces ("worker 0", "detached
/// Counter#3"). Threads without a name get "thread N". @threadsafe
void name_thread(std::string name) noexcept;

}  // namespace troupe::detail::trace
