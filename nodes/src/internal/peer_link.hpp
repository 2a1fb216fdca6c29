#pragma once
// One framed connection over a Unix-domain stream socket, served by the
// process's asio I/O thread: handshake first, SO_PEERCRED check, frames in
// (decoded in place, dispatched on the I/O thread), frames out (coalesced in
// one frame_encoder under a mutex, written by one async_write at a time),
// heartbeats and the missed-heartbeat timeout. Any bad byte, a failed
// handshake, EOF, a socket error or a missed heartbeat closes the link once
// with a logged reason.

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/unique_function.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/frame.hpp"
#include "troupe/wire/handshake.hpp"

namespace troupe::nodes::detail {

/// The process's I/O thread and its completion thread (created on first
/// use, joined at exit). The I/O thread serves every connection; the
/// completion thread runs what completes an ask or a pool call (the reply
/// callbacks, and with them the user's then() continuations), in the order
/// the replies arrived, so that a slow continuation never holds up reading,
/// heartbeats or reaping. Both refuse a blocking wait
/// (troupe::detail::refuse_blocking_here): a get() there throws
/// errc::would_block_worker instead of waiting for a reply only they
/// could deliver.
class io_runtime {
 public:
  static io_runtime& get();
  asio::io_context& context() noexcept { return ctx_; }
  [[nodiscard]] bool on_io_thread() const noexcept {
    return std::this_thread::get_id() == thread_id_.load(std::memory_order_acquire);
  }
  [[nodiscard]] bool on_completion_thread() const noexcept {
    return std::this_thread::get_id() == completion_id_.load(std::memory_order_acquire);
  }
  /// Runs fn on the I/O thread and waits for it (runs it here if already there).
  void run_sync(const std::function<void()>& fn);
  /// Queues fn for the completion thread (FIFO). @threadsafe
  void complete(troupe::detail::unique_function<void()> fn);

  io_runtime();
  ~io_runtime();
  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

 private:
  void run_completions();

  asio::io_context ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::atomic<std::thread::id> thread_id_{};
  std::thread thread_;

  std::mutex completion_mu_;
  std::condition_variable completion_cv_;
  std::deque<troupe::detail::unique_function<void()>> completions_;
  bool completion_stop_ = false;
  std::atomic<std::thread::id> completion_id_{};
  std::thread completion_thread_;
};

struct link_config {
  wire::peer_role my_role = wire::peer_role::parent;
  wire::peer_role peer_role = wire::peer_role::child;
  int expected_pid = 0;  ///< 0: any
  std::string name;
  std::chrono::milliseconds heartbeat_interval{100};
  std::chrono::milliseconds heartbeat_timeout{5000};  ///< as isolated_options
  std::chrono::milliseconds startup_timeout{10000};
  std::size_t send_queue_bytes = std::size_t{64} << 20;
  std::size_t max_frame = wire::default_max_frame;
  std::uint16_t version = wire::protocol_version;  ///< for tests of a mismatch
};

class peer_link : public std::enable_shared_from_this<peer_link> {
 public:
  /// (kind, payload after the kind byte): I/O thread.
  using frame_handler = std::function<void(frame_kind, std::span<const std::byte>)>;
  /// (reason, clean): I/O thread, once. clean = EOF after a handshake.
  using close_handler = std::function<void(const std::string&, bool)>;

  /// Takes ownership of `fd`.
  peer_link(asio::io_context& ctx, int fd, link_config cfg);
  ~peer_link();
  peer_link(const peer_link&) = delete;
  peer_link& operator=(const peer_link&) = delete;

  /// Starts reading, heartbeats and the handshake. Call once.
  void start(frame_handler on_frame, close_handler on_close);

  /// Queues a frame [kind][payload written by fn]. @threadsafe.
  /// force: ignore the queue bound (replies, control frames). may_wait:
  /// a plain thread waits for room in a full queue (else: full).
  template <class Fn>
  send_result post(frame_kind kind, Fn&& fn, bool force = false, bool may_wait = true) {
    std::unique_lock lk(mu_);
    if (!wait_for_room(lk, force, may_wait)) {
      return closed_ ? send_result::closed : send_result::full;
    }
    enc_.add([&](wire::writer& w) {
      w.byte(static_cast<std::uint8_t>(kind));
      fn(w);
    });
    // Asks and replies wait for an answer: written from this thread when
    // no write is in flight (two thread hops fewer). Sends are left to the
    // I/O thread, so a burst of them coalesces into large writes.
    const bool urgent = kind == frame_kind::ask || kind == frame_kind::traced_ask ||
                        kind == frame_kind::reply_ok || kind == frame_kind::reply_err ||
                        kind == frame_kind::ref_ask || kind == frame_kind::ref_reply;
    if (urgent && write_now(lk)) return send_result::ok;
    kick(lk);
    return send_result::ok;
  }
  /// Queues a frame [kind][payload written by enc(w, value)] like post(),
  /// but where the queue is full, parks it (value stays valid until `cb`
  /// is told): admitted in order as room frees, then `cb` gets ok; closed
  /// if the link closes first; full if it then fails to encode (logged).
  /// `cb` is told exactly once, now or later, never under the link's lock.
  /// @threadsafe
  void post_parked(frame_kind kind, void (*enc)(wire::writer&, const void*), const void* value,
                   troupe::detail::park_callback* cb);

  /// Frames encoded from now on see `c` as their writer's context (the
  /// connection's table of refs, for the codec of troupe::ref). Before the
  /// first frame that may hold a ref. @threadsafe
  void set_context(void* c) {
    std::lock_guard lk(mu_);
    enc_.set_context(c);
  }

  send_result post(frame_kind kind, bool force = true) {
    return post(
        kind, [](wire::writer&) {}, force);
  }

  /// Closes the link with `why` (logged) from any thread.
  void close(std::string why);
  /// Closes the link once everything queued is written. @threadsafe
  void close_after_flush();
  [[nodiscard]] bool closed() const;
  [[nodiscard]] bool handshaken() const noexcept {
    return handshaken_.load(std::memory_order_acquire);
  }
  [[nodiscard]] const wire::handshake& peer_hello() const noexcept { return peer_hello_; }

 private:
  bool wait_for_room(std::unique_lock<std::mutex>& lk, bool force, bool may_wait);
  void kick(std::unique_lock<std::mutex>& lk);
  /// Writes what is queued from the calling thread (non-blocking) if no
  /// write is in flight; hands a remainder to the I/O thread. True if it
  /// took care of the queue. Caller holds mu_.
  bool write_now(std::unique_lock<std::mutex>& lk);
  void do_write();
  void write_inflight();  // I/O thread: async_write of inflight_ from inflight_off_
  void do_read();
  void on_payload(std::span<const std::byte> payload);
  void arm_heartbeat();
  void fail(const std::string& why, bool clean);  // I/O thread
  /// A write failed: stop sending, read on to the end, then fail. I/O thread.
  void write_failed(std::string why);

  asio::io_context& ctx_;
  asio::local::stream_protocol::socket sock_;
  asio::steady_timer timer_;
  link_config cfg_;
  wire::frame_decoder dec_;
  frame_handler on_frame_;
  close_handler on_close_;
  std::chrono::steady_clock::time_point last_rx_;
  std::chrono::steady_clock::time_point start_time_;
  wire::handshake peer_hello_;
  std::atomic<bool> handshaken_{false};
  bool failed_ = false;      // I/O thread
  std::string write_error_;  // I/O thread: the failed write, reading on to the end

  /// A parked frame (post_parked).
  struct parked_frame {
    frame_kind kind;
    void (*enc)(wire::writer&, const void*);
    const void* value;
    troupe::detail::park_callback* cb;
  };
  /// Outcomes to tell once the lock is released.
  using told = std::vector<std::pair<troupe::detail::park_callback*, send_result>>;
  /// Moves parked frames into the queue while it has room. Under mu_.
  void admit_parked(told& out);
  /// Every parked frame: closed. Under mu_.
  void close_parked(told& out);
  static void tell(told& out) noexcept;

  mutable std::mutex mu_;
  std::condition_variable room_;
  std::deque<parked_frame> parked_;  // guarded by mu_
  wire::frame_encoder enc_;
  std::vector<std::byte> inflight_;
  std::size_t inflight_off_ = 0;  // bytes of inflight_ already written directly
  bool started_ = false;          // start() ran (guarded by mu_)
  bool writing_ = false;
  bool closed_ = false;
  bool close_after_flush_ = false;
};

/// The close reason of close_after_flush().
inline constexpr std::string_view closed_by_us = "closed by this side";

/// "SIGSEGV" for 11.
std::string signal_name(int sig);

}  // namespace troupe::nodes::detail
