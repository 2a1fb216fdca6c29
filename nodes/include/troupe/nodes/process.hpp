#pragma once
/// The process backend's common part: the child start-up hook, the options
/// of a child process, and the type-erased parent-side connection that
/// isolated actors (troupe/nodes/isolated.hpp) and the process pool
/// (troupe/nodes/process_pool.hpp) are built on.
///
/// A child is the program's own binary, re-executed (posix_spawn of
/// /proc/self/exe, never a fork of the threaded parent) with a marker
/// argument. The user's main() must begin with
///
///   if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;
///
/// In the parent this returns std::nullopt at once (no other effect). In a
/// child it runs the child until its connection closes (stopped by the
/// parent, or the parent is gone) and ends the process with _exit: no static
/// destructor of the child runs. The std::optional<int> return keeps the
/// line above valid should a future child mode return instead.
///
/// Transport: one Unix-domain socketpair per child (the child's end is
/// inherited as fd 3; every other descriptor troupe opens is
/// close-on-exec), served by one asio I/O thread per process (replies
/// complete on a completion thread of their own: see
/// internal io_runtime and docs/nodes.md); frames
/// are troupe::wire frames (troupe/wire/frame.hpp), the handshake
/// (troupe/wire/handshake.hpp) is the first frame each way, and the peer's
/// uid and pid are checked with SO_PEERCRED.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/detail/unique_function.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/exit_reason.hpp"
#include "troupe/wire/limits.hpp"
#include "troupe/wire/writer.hpp"

namespace troupe {
class system;
}

namespace troupe::nodes {

/// Settings of one child process, fixed at spawn.
struct isolated_options {
  /// Each side sends a heartbeat this often...
  std::chrono::milliseconds heartbeat_interval{100};
  /// ...and declares the other lost (and kills a child) after this long
  /// without any frame from it. The default holds on a loaded machine (a
  /// sanitizer build sharing two cores): a hung child is lost within about
  /// 5 s. Lower it where the machine is not loaded and faster detection
  /// matters. Both sides use it (it is passed to the child).
  std::chrono::milliseconds heartbeat_timeout{5000};
  /// How long a child may take from exec to its handshake (the parent's
  /// bound), and the child's bound for the parent's handshake.
  std::chrono::milliseconds startup_timeout{10000};
  /// RLIMIT_AS of the child in bytes (0: inherited).
  std::uint64_t limit_address_space = 0;
  /// RLIMIT_CPU of the child in seconds (0: inherited). The kernel sends
  /// SIGXCPU at the limit; the down reason names it.
  std::uint64_t limit_cpu_seconds = 0;
  /// Bytes of encoded frames queued for one connection before senders are
  /// held back. Policy when full: a plain thread's send() waits for room
  /// (or for the peer to be lost); a task's `co_await send()` suspends
  /// until there is room; try_send(), and a send from a plain handler on a
  /// pool worker or a backend thread, is refused with send_result::full (an
  /// ask fails with errc::mailbox_full). Replies are never refused.
  std::size_t send_queue_bytes = std::size_t{64} << 20;
  /// Largest frame accepted from the child (and sent to it).
  std::size_t max_frame = wire::default_max_frame;
  /// The longest the actor may go without finishing a handler while it has
  /// a message from the parent to handle (0: no limit). Heartbeats show
  /// that a child's I/O thread lives; this bound shows that its actor makes
  /// progress: an endless or blocked handler (a coroutine handler counts
  /// until its task completes) is found by the child, which names the
  /// message and the time to the parent; the parent kills it. Its down
  /// reason and the failure of every pending ask (errc::peer_lost) read
  /// "... killed by signal 9 (SIGKILL) after: hung: no handler finished
  /// for 2004 ms (handler_timeout 2000 ms), 3 message(s) waiting, the
  /// first pt.crash"; a supervisor restarts it as after any loss. Found
  /// within the bound plus a quarter of it (checked that often). With a
  /// limit set, every message from the parent is tracked (a send costs
  /// what an ask does inside the child).
  std::chrono::milliseconds handler_timeout{0};
};

/// The start-up hook: std::nullopt in a normal process; in a child started
/// by troupe, runs the child and does not return. Call it first in main(),
/// before any thread is started.
std::optional<int> child_main(int argc, char** argv);

/// The marker argument (argv[1]) of a child process.
inline constexpr std::string_view child_marker = "--troupe-child";

namespace detail {

/// Frame kinds: the first byte of every frame after the handshake.
enum class frame_kind : std::uint8_t {
  spawn = 1,       ///< parent->child: [string actor name]
  send = 2,        ///< parent->child: [message]
  ask = 3,         ///< parent->child: [u64 request][message]
  reply_ok = 4,    ///< child->parent: [u64 request][value]
  reply_err = 5,   ///< child->parent: [u64 request][u8 errc][string what]
  heartbeat = 6,   ///< both ways: empty
  stop = 7,        ///< parent->child: stop gracefully
  call = 8,        ///< parent->child: [u64 request][string function][varint n][n args]
  actor_exit = 9,  ///< child->parent: [u8 exit kind][string what]
  hung = 10,       ///< child->parent: [string what] (handler_timeout passed)
  // Refs that crossed inside messages, both ways; `id` is in the receiver's
  // table of the refs it gave the sender.
  ref_send = 11,   ///< [u64 id][message]
  ref_ask = 12,    ///< [u64 request][u64 id][message]
  ref_reply = 13,  ///< [u64 request][u8 0][value] or [u64 request][u8 1][u8 errc][string what]
  ref_stop = 14,   ///< [u64 id][u8 0 stop, 1 kill]
  // While the parent is tracing (docs/observability.md): a send or ask with
  // the id of its trace flow, so the child's trace ends the parent's arrow.
  traced_send = 15,  ///< parent->child: [u32 flow][message]
  traced_ask = 16,   ///< parent->child: [u64 request][u32 flow][message]
};
inline constexpr frame_kind last_frame_kind = frame_kind::traced_ask;

/// The exit status of a child whose program reached troupe (a system, a
/// spawn) in main() without calling child_main() first.
inline constexpr int exit_no_child_main = 72;

/// A reply as the I/O thread sees it; `body` is valid during the callback only.
struct reply_view {
  bool ok = false;
  std::span<const std::byte> body;
  troupe::errc code{};
  std::string_view what;
  void* context = nullptr;  ///< the connection's refs, for decoding `body` (wire::reader::context)
};
using reply_fn = troupe::detail::unique_function<void(const reply_view&)>;
using encode_fn = void (*)(wire::writer&, const void*);

class process_peer;

/// Starts a child process hosting `actor_name` (an isolated actor's name,
/// or the pool's worker) and connects to it. `on_lost(reason)` runs on the
/// I/O thread once the child is gone and reaped. Throws troupe::error
/// (errc::system_shutdown, before any child is started, once `sys` is
/// shutting down).
std::shared_ptr<process_peer> launch(
    troupe::system& sys, std::string_view actor_name, std::string_view actor_type,
    const isolated_options& opts,
    troupe::detail::unique_function<void(const exit_reason&)> on_lost = {});

/// Queues a pool `call` of `fn` with `count` argument tuples written by enc.
void peer_call(process_peer& p, std::string_view fn, std::size_t count, encode_fn enc,
               const void* args, reply_fn done);
/// Graceful stop: the child handles what was sent before, then exits.
void peer_stop(process_peer& p);
/// Kills the child (SIGKILL); down reason "killed".
void peer_kill(process_peer& p);
/// Stops (graceful, up to `grace`), then kills, and waits until reaped.
void peer_release(process_peer& p, std::chrono::milliseconds grace) noexcept;
[[nodiscard]] bool peer_terminated(const process_peer& p) noexcept;
[[nodiscard]] int peer_pid(const process_peer& p) noexcept;
/// Logs (warning) a message an isolated_proxy could not hand on: `what`
/// says why (the send result), `msg_type` names the message.
void log_proxy_drop(const std::string& proxy_type, std::string_view msg_type,
                    send_result what) noexcept;
/// Logs (error) a message an isolated_proxy refused: `what` says why.
void log_proxy_refused(const std::string& proxy_type, const char* what) noexcept;

}  // namespace detail
}  // namespace troupe::nodes
