// The parent's side of a child process (process_peer): its connection,
// sends, asks and pool calls with their pending replies, stop and kill,
// reaping through the pidfd, and the down reason of the local stand-in.
// Implements launch() and the peer_* functions of troupe/nodes/process.hpp.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "internal/child_launch.hpp"
#include "internal/link_refs.hpp"
#include "internal/nodes_log.hpp"
#include "internal/peer_link.hpp"
#include "troupe/actors/actor.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/remote.hpp"
#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/nodes/detail/isolated_construct.hpp"
#include "troupe/nodes/detail/remote_ops.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/detail/type_name.hpp"
#include "troupe/wire/message.hpp"

namespace troupe::nodes::detail {

namespace {

/// How long the parent reads a reaped child's connection for its last
/// frames before it closes it anyway (EOF normally comes at once).
constexpr std::chrono::milliseconds drain_timeout{5000};

/// The local stand-in of an isolated actor: terminates with its down reason.
struct peer_gone {
  exit_reason reason;
};
class stand_in : public troupe::actor<stand_in> {
 public:
  void on(peer_gone g) { stop(std::move(g.reason)); }
};

}  // namespace

class process_peer : public std::enable_shared_from_this<process_peer> {
 public:
  process_peer(std::string actor_type,
               troupe::detail::unique_function<void(const exit_reason&)> on_lost)
      : actor_type_(std::move(actor_type)), on_lost_(std::move(on_lost)) {}
  ~process_peer() {
    if (pidfd_ >= 0) ::close(pidfd_);
  }
  process_peer(const process_peer&) = delete;
  process_peer& operator=(const process_peer&) = delete;

  /// An isolated actor's remote cell, told when the child is gone (instead
  /// of a stand-in of the peer's own). Before start(); takes a reference.
  void set_cell(troupe::detail::remote_cell* c) noexcept {
    c->add_ref();
    cell_ = c;
  }

  // Runs on the I/O thread (PR_SET_PDEATHSIG follows the spawning thread).
  /// `make`: what the spawn frame asks the child to construct (null: the
  /// actor registered as `actor_name`, or the pool's worker).
  void start(troupe::system& sys, std::string_view actor_name, const isolated_options& opts,
             const isolated_construct* make = nullptr) {
    // The stand-in first: a system that is shutting down refuses it (and so
    // the spawn) before any child process or descriptor exists. (A remote
    // cell was made the same way by the caller.)
    if (cell_ == nullptr) stand_in_ = sys.spawn<stand_in>();
    launched_child child;
    try {
      child = spawn_child(actor_name, opts);
    } catch (...) {
      report_gone(exit_reason{exit_reason::kind::peer_lost, "the child could not be started"});
      throw;
    }
    pid_ = child.pid;
    pidfd_ = child.pidfd;
    try {
      connect(sys, child.fd, actor_name, opts, make);
    } catch (...) {
      // Nothing may outlive a failed start: the child is killed and reaped
      // here, its descriptors closed (the socket by whoever owns it now).
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      reaped_ = true;  // a pending reap or kill must not touch the pid again
      link_closed_ = true;
      if (!link_attempted_) ::close(child.fd);
      if (refs_) refs_->close(exit_reason{exit_reason::kind::peer_lost, "not started"});
      link_.reset();
      pid_watch_.reset();
      report_gone(exit_reason{exit_reason::kind::peer_lost, "the child could not be started"});
      throw;
    }
    // A stop or kill that came while the child was starting. (Dekker with
    // stop(): one of the two sees the other's store, or both and the stop
    // is sent once.)
    started_.store(true, std::memory_order_seq_cst);
    if (stop_requested_.load(std::memory_order_seq_cst)) send_stop();
    if (early_kill_after_.second != nullptr) {
      arm_kill_after(early_kill_after_.first, early_kill_after_.second);
    }
    if (!early_kill_.empty()) kill_now(std::move(early_kill_));
  }

  /// start()'s second half: the pidfd watch and the connection (takes
  /// `fd`); throws with nothing of its own left running.
  void connect(troupe::system& sys, int fd, std::string_view actor_name,
               const isolated_options& opts, const isolated_construct* make) {
    auto& ctx = io_runtime::get().context();
    // Close-on-exec like every troupe descriptor: a plain dup() would hand
    // this pidfd to every child started after this one.
    const int watch_fd = ::fcntl(pidfd_, F_DUPFD_CLOEXEC, 0);
    if (watch_fd < 0) {
      throw troupe::error(troupe::errc::invalid_argument,
                          "fcntl F_DUPFD_CLOEXEC of a pidfd: " + errno_text(errno));
    }
    try {
      pid_watch_ = std::make_unique<asio::posix::stream_descriptor>(ctx, watch_fd);
    } catch (...) {
      ::close(watch_fd);
      throw;
    }
    link_config cfg;
    cfg.my_role = wire::peer_role::parent;
    cfg.peer_role = wire::peer_role::child;
    cfg.expected_pid = pid_;
    cfg.name = std::string(actor_name) + "#" + std::to_string(pid_);
    cfg.heartbeat_interval = opts.heartbeat_interval;
    cfg.heartbeat_timeout = opts.heartbeat_timeout;
    cfg.startup_timeout = opts.startup_timeout;
    cfg.send_queue_bytes = opts.send_queue_bytes;
    cfg.max_frame = opts.max_frame;
    link_attempted_ = true;  // the link owns fd from here, also if it throws
    link_ = std::make_shared<peer_link>(ctx, fd, cfg);
    // Refs that cross in messages: this connection's table (the context of
    // its frames); the isolated actor itself is the child's first export.
    refs_ = std::make_shared<link_refs>(
        sys, troupe::location{troupe::location::kind::process, pid_, {}}, cfg.name);
    refs_->attach(link_);
    if (cell_ != nullptr) refs_->set_root_import(cell_);
    // The spawn frame follows the handshake: [string key][constructor arguments].
    (void)link_->post(
        frame_kind::spawn,
        [&](wire::writer& w) {
          if (make == nullptr) {
            wire::write_value(w, std::string(actor_name));
            return;
          }
          wire::write_value(w, make->key);
          if (make->encode != nullptr) make->encode(w, make->args);
        },
        true);
    // The watch first: once started, the link lives on in its handlers.
    pid_watch_->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this()](const asio::error_code& /*ec*/) { self->reap(); });
    std::weak_ptr<process_peer> weak = weak_from_this();
    link_->start(
        [weak](frame_kind k, std::span<const std::byte> body) {
          if (auto self = weak.lock()) self->on_frame(k, body);
        },
        [weak](const std::string& why, bool clean) {
          if (auto self = weak.lock()) self->on_link_closed(why, clean);
        });
  }

  /// A send that waits for room without blocking (see peer_link::post_parked).
  void send_parked(encode_fn enc, const void* msg, troupe::detail::park_callback* cb) {
    link_->post_parked(frame_kind::send, enc, msg, cb);
  }
  /// `may_wait`: a full send queue makes a plain thread wait (else: full).
  send_result send(encode_fn enc, const void* msg, bool may_wait = true) {
    if (troupe::detail::trace::on()) [[unlikely]] {
      if (const std::uint32_t flow = troupe::detail::trace::flow_start(nullptr, 0); flow != 0) {
        return link_->post(
            frame_kind::traced_send,
            [&](wire::writer& w) {
              w.fixed(flow);
              enc(w, msg);
            },
            false, may_wait);
      }
    }
    return link_->post(
        frame_kind::send, [&](wire::writer& w) { enc(w, msg); }, false, may_wait);
  }

  void ask(encode_fn enc, const void* msg, reply_fn done) {
    if (troupe::detail::trace::on()) [[unlikely]] {
      if (const std::uint32_t flow = troupe::detail::trace::flow_start(nullptr, 0); flow != 0) {
        request(frame_kind::traced_ask, "ask " + actor_type_, "message not sent", std::move(done),
                [&](wire::writer& w) {
                  w.fixed(flow);
                  enc(w, msg);
                });
        return;
      }
    }
    request(frame_kind::ask, "ask " + actor_type_, "message not sent", std::move(done),
            [&](wire::writer& w) { enc(w, msg); });
  }

  void call(std::string_view fn, std::size_t count, encode_fn enc, const void* args,
            reply_fn done) {
    request(frame_kind::call, "pool task " + std::string(fn), "arguments not sent", std::move(done),
            [&](wire::writer& w) {
              wire::write_value(w, std::string(fn));
              w.varint(count);
              enc(w, args);
            });
  }

  /// Graceful stop. @threadsafe, also while the child is starting.
  void stop() {
    stop_requested_.store(true, std::memory_order_seq_cst);
    if (started_.load(std::memory_order_seq_cst)) send_stop();
    // else: start() sends it once the child is connected.
  }
  /// Kills the child if it is not gone `after` from now. @threadsafe, also
  /// while the child is starting (the deadline then counts from its start).
  void kill_after(std::chrono::milliseconds after, const char* why) {
    asio::post(io_runtime::get().context(), [self = shared_from_this(), after, why] {
      if (!self->started_.load(std::memory_order_relaxed)) {
        self->early_kill_after_ = {after, why};  // start() (this thread too) arms it
        return;
      }
      self->arm_kill_after(after, why);
    });
  }
  /// Kills the child (SIGKILL); `why` goes into its down reason. @threadsafe,
  /// also while the child is starting.
  void kill_child(std::string why) {
    asio::post(io_runtime::get().context(),
               [self = shared_from_this(), why = std::move(why)]() mutable {
                 if (!self->started_.load(std::memory_order_relaxed)) {
                   // Starting (start() runs on this thread too): it kills.
                   if (self->early_kill_.empty()) self->early_kill_ = std::move(why);
                   return;
                 }
                 self->kill_now(std::move(why));
               });
  }

  /// Waits until the child is gone and reported: for peer_release (not on a
  /// backend thread).
  bool wait_reported(std::chrono::milliseconds timeout) {
    std::shared_ptr<process_peer> handed;  // released after the lock, on this thread
    std::unique_lock lk(mu_);
    ++waiters_;
    const bool done = done_cv_.wait_for(lk, timeout, [&] { return reported_; });
    --waiters_;
    handed = std::move(handoff_);
    lk.unlock();
    return done;
  }
  [[nodiscard]] bool terminated() const {
    std::lock_guard lk(mu_);
    return finished_;
  }
  [[nodiscard]] int pid() const noexcept { return pid_.load(std::memory_order_acquire); }

 private:
  void send_stop() {
    if (!stop_sent_.exchange(true, std::memory_order_acq_rel)) {
      (void)link_->post(frame_kind::stop, true);
    }
  }
  // I/O thread.
  void arm_kill_after(std::chrono::milliseconds after, const char* why) {
    if (reaped_) return;
    release_timer_ = std::make_unique<asio::steady_timer>(io_runtime::get().context());
    release_timer_->expires_after(after);
    release_timer_->async_wait([self = shared_from_this(), why](const asio::error_code& ec) {
      if (ec || self->reaped_) return;
      if (self->kill_note_.empty()) self->kill_note_ = why;
      ::kill(self->pid_, SIGKILL);
    });
  }
  void kill_now(std::string why) {
    if (reaped_) return;
    if (kill_note_.empty()) kill_note_ = std::move(why);
    ::kill(pid_, SIGKILL);
  }

 public:
  /// Tells the stand-in or the remote cell that the child is gone (once).
  /// I/O thread, or after a failed start().
  void report_gone(exit_reason why) {
    if (troupe::detail::remote_cell* c = std::exchange(cell_, nullptr)) {
      cell_gone_ = true;
      c->gone(std::move(why));
      c->release();
    } else if (!cell_gone_) {
      stand_in_.send(peer_gone{std::move(why)});
    }
  }

 private:
  /// Fails request `req` with `code` and `why` unless finish() took it.
  void fail_pending(std::uint64_t req, troupe::errc code, const std::string& why) {
    reply_fn done;
    {
      std::lock_guard lk(mu_);
      auto it = pending_.find(req);
      if (it == pending_.end()) return;  // failed by finish() meanwhile
      done = std::move(it->second);
      pending_.erase(it);
    }
    done(reply_view{false, {}, code, why});
  }

  // A frame that wants a reply: registers `done` under a new request id,
  // then sends [u64 id][body]. `what` names the request in failures. If
  // the body cannot be encoded (over the frame limit) nothing was queued
  // and the entry is undone.
  template <class Body>
  void request(frame_kind kind, const std::string& what, const char* unsent, reply_fn done,
               Body&& body) {
    std::uint64_t req = 0;
    {
      std::lock_guard lk(mu_);
      if (finished_) {
        done(reply_view{false, {}, troupe::errc::peer_lost, what + ": " + lost_text_});
        return;
      }
      req = ++next_req_;
      pending_.emplace(req, std::move(done));
    }
    send_result s = send_result::closed;
    try {
      s = link_->post(kind, [&](wire::writer& w) {
        w.fixed(req);
        body(w);
      });
    } catch (const std::exception& e) {
      fail_pending(req, troupe::errc::invalid_argument, what + ": " + unsent + ": " + e.what());
      return;
    }
    // closed: the link is down and finish() follows (a closed link always
    // ends in a reap); it fails this request with the child's exit cause,
    // which is not known yet.
    if (s == send_result::full) {
      fail_pending(req, troupe::errc::mailbox_full, what + ": connection send queue full");
    }
  }

  void on_frame(frame_kind k, std::span<const std::byte> body) {
    switch (k) {
      case frame_kind::reply_ok:
      case frame_kind::reply_err: {
        wire::reader r(body);
        const auto req = r.fixed<std::uint64_t>();
        if (!r.ok()) throw std::runtime_error("truncated reply");
        // An error reply is checked whole before it completes anything: its
        // code must be an enumerator and its text complete.
        std::string what;
        std::string bad;
        int code = 0;
        if (k == frame_kind::reply_err) {
          code = r.byte();
          wire::read_value(r, what);
          if (!r.complete()) {
            bad = "truncated error reply";
          } else if (!troupe::is_errc(code)) {
            bad = "error reply with code " + std::to_string(code) + ", not a troupe::errc";
          }
        }
        reply_fn done;
        {
          std::lock_guard lk(mu_);
          auto it = pending_.find(req);
          if (it == pending_.end())
            throw std::runtime_error("reply to unknown request " + std::to_string(req));
          done = std::move(it->second);
          pending_.erase(it);
        }
        // Completed on the completion thread: the user's continuations run
        // there, never on this I/O thread.
        auto& rt = io_runtime::get();
        if (!bad.empty()) {
          // The ask fails with the reason; the link closes (the peer broke
          // the protocol), which fails the rest as peer_lost.
          rt.complete([done = std::move(done), why = "ask " + actor_type_ + ": " + bad]() mutable {
            done(reply_view{false, {}, troupe::errc::peer_lost, why});
          });
          throw std::runtime_error(bad);
        }
        if (k == frame_kind::reply_ok) {
          std::vector<std::byte> value(body.begin() + 8, body.end());
          rt.complete([done = std::move(done), value = std::move(value), refs = refs_]() mutable {
            done(reply_view{true, value, {}, {}, static_cast<ref_context*>(refs.get())});
          });
        } else {
          rt.complete([done = std::move(done), code, what = std::move(what)]() mutable {
            done(reply_view{false, {}, static_cast<troupe::errc>(code), what});
          });
        }
        return;
      }
      case frame_kind::ref_send:
      case frame_kind::ref_ask:
      case frame_kind::ref_reply:
      case frame_kind::ref_stop:
        refs_->on_frame(k, body);
        return;
      case frame_kind::actor_exit: {
        wire::reader r(body);
        const auto kind = r.byte();
        std::string what;
        wire::read_value(r, what);
        if (!r.complete() || kind > static_cast<std::uint8_t>(exit_reason::kind::restart_limit)) {
          throw std::runtime_error("bad actor_exit frame");
        }
        actor_exit_ = exit_reason{static_cast<exit_reason::kind>(kind), std::move(what)};
        return;
      }
      case frame_kind::hung: {
        // The child found its actor over handler_timeout: killed at once.
        wire::reader r(body);
        std::string what;
        wire::read_value(r, what);
        if (!r.complete()) throw std::runtime_error("bad hung frame");
        log_warn("troupe.nodes: {} ({}) hung: {}", actor_type_, pid(), what);
        if (!reaped_) {
          if (kill_note_.empty()) kill_note_ = "hung: " + what;
          ::kill(pid_, SIGKILL);
        }
        return;
      }
      default:
        throw std::runtime_error("unexpected frame kind " + std::to_string(static_cast<int>(k)) +
                                 " from a child");
    }
  }

  void on_link_closed(const std::string& why, bool clean) {
    link_reason_ = why;
    link_closed_ = true;
    if (reaped_) {
      // The child was reaped first; its last frames are read now.
      if (drain_) drain_->cancel();
      report_exit();
      return;
    }
    if (!clean) {
      if (kill_note_.empty()) kill_note_ = why;
      ::kill(pid_, SIGKILL);
    } else {
      // EOF: the child is exiting; make sure it does.
      grace_ = std::make_unique<asio::steady_timer>(io_runtime::get().context());
      grace_->expires_after(std::chrono::milliseconds(1000));
      grace_->async_wait([self = shared_from_this()](const asio::error_code& ec) {
        if (ec || self->reaped_) return;
        if (self->kill_note_.empty())
          self->kill_note_ = "did not exit after closing its connection";
        ::kill(self->pid_, SIGKILL);
      });
    }
  }

  void reap() {
    if (reaped_) return;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == 0) {  // spurious: wait again
      pid_watch_->async_wait(
          asio::posix::stream_descriptor::wait_read,
          [self = shared_from_this()](const asio::error_code&) { self->reap(); });
      return;
    }
    reaped_ = true;
    wait_rc_ = r;
    wait_errno_ = r < 0 ? errno : 0;
    wait_status_ = st;
    if (grace_) grace_->cancel();
    if (release_timer_) release_timer_->cancel();
    pid_watch_.reset();
    if (link_closed_) {
      report_exit();
      return;
    }
    // Replies the child sent before it exited may still sit unread in the
    // socket: read them to EOF before anything pending fails. The child is
    // gone, so EOF follows its last byte; the timer only guards against a
    // descriptor some other process still holds.
    drain_ = std::make_unique<asio::steady_timer>(io_runtime::get().context());
    drain_->expires_after(drain_timeout);
    drain_->async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (ec || self->link_closed_) return;
      self->link_->close("child exited; its connection did not reach EOF");
    });
  }

  /// The child is reaped and its connection closed (read to the end): the
  /// down reason from the exit status and the child's last frames.
  void report_exit() {
    const int st = wait_status_;
    const pid_t r = wait_rc_;
    const std::string who = "child " + std::to_string(pid_);
    std::string how;
    bool clean_exit = false;
    if (r < 0) {
      how = "could not be reaped: " + errno_text(wait_errno_);
    } else if (WIFSIGNALED(st)) {
      const int sig = WTERMSIG(st);
      how = "killed by signal " + std::to_string(sig) + " (" + signal_name(sig) + ")";
      if (sig == SIGXCPU) how += ": CPU time limit";
    } else if (WIFEXITED(st)) {
      how = "exited with status " + std::to_string(WEXITSTATUS(st));
      clean_exit = WEXITSTATUS(st) == 0 && link_->handshaken();
      if (!link_->handshaken()) {
        how += WEXITSTATUS(st) == exit_no_child_main
                   ? ": its program does not call troupe::nodes::child_main(argc, argv) at the "
                     "top of main() (the child ran main() again and was stopped when it reached "
                     "troupe)"
                   : " before its handshake (does main() call troupe::nodes::child_main(argc, "
                     "argv) first?)";
      }
    }
    exit_reason reason;
    if (actor_exit_ && clean_exit) {
      reason = *actor_exit_;
    } else if (clean_exit && stop_requested_.load(std::memory_order_acquire)) {
      reason = exit_reason{exit_reason::kind::normal, {}};
    } else {
      std::string text = who + " " + how;
      if (!kill_note_.empty() && how.find("SIGKILL") != std::string::npos) {
        text += " after: " + kill_note_;
      }
      reason = exit_reason{exit_reason::kind::peer_lost, std::move(text)};
    }
    finish(std::move(reason));
  }

  void finish(exit_reason reason) {
    std::unordered_map<std::uint64_t, reply_fn> pending;
    const std::string lost =
        reason.code == exit_reason::kind::peer_lost
            ? reason.to_string()
            : "peer lost: child " + std::to_string(pid_) + " ended (" + reason.to_string() + ")";
    {
      std::lock_guard lk(mu_);
      lost_text_ = lost;
      pending.swap(pending_);
      finished_ = true;  // before anyone hears of it: terminated() is true for a down
    }
    // In request order, so asks fail in the order they were made.
    std::vector<std::pair<std::uint64_t, reply_fn>> ordered;
    ordered.reserve(pending.size());
    for (auto& kv : pending) ordered.emplace_back(kv.first, std::move(kv.second));
    std::sort(ordered.begin(), ordered.end(), [](auto& a, auto& b) { return a.first < b.first; });
    if (reason.code != exit_reason::kind::normal) {
      log_warn("troupe.nodes: {} ({}) down: {}", actor_type_, pid(), reason.to_string());
    }
    if (on_lost_) on_lost_(reason);
    // The failures, the down and wait()'s wake-up on the completion thread,
    // behind the replies that came before: a down or a wait() that returns
    // finds every ask completed.
    io_runtime::get().complete([self = shared_from_this(), ordered = std::move(ordered), lost,
                                reason = std::move(reason)]() mutable {
      for (auto& [req, done] : ordered) {
        const std::string why = self->actor_type_ + ": " + lost;
        done(reply_view{false, {}, troupe::errc::peer_lost, why});
      }
      // Refs of the child's actors end with it; asks through them fail.
      if (self->refs_) self->refs_->close(reason);
      self->report_gone(reason);
      // A thread in wait() may go on to destroy the system: this job's
      // reference (whose release may free the stand-in's cell) goes to it,
      // so that it is released there, before the system's end. Notified
      // under the lock: once it is released this job touches nothing.
      process_peer* p = self.get();
      std::lock_guard lk(p->mu_);
      p->reported_ = true;
      if (p->waiters_ > 0) p->handoff_ = std::move(self);
      p->done_cv_.notify_all();
    });
  }

  std::string actor_type_;
  troupe::detail::unique_function<void(const exit_reason&)> on_lost_;
  std::atomic<pid_t> pid_{-1};  // set by start() (I/O thread), read by where()
  int pidfd_ = -1;
  std::unique_ptr<asio::posix::stream_descriptor> pid_watch_;
  std::unique_ptr<asio::steady_timer> grace_;
  std::unique_ptr<asio::steady_timer> drain_;
  std::unique_ptr<asio::steady_timer> release_timer_;  // kill_after's deadline
  std::shared_ptr<peer_link> link_;
  std::shared_ptr<link_refs> refs_;  // made with link_ (I/O thread), before any frame
  ref<stand_in> stand_in_;           // a pool worker's; an isolated actor has cell_
  // Holds a reference until it is told the child is gone; set before start().
  troupe::detail::remote_cell* cell_ = nullptr;
  bool cell_gone_ = false;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> started_{false};    // start() connected the child (set on the I/O thread)
  std::atomic<bool> stop_sent_{false};  // the stop frame is queued (sent once)
  // I/O thread: a kill, or a kill deadline, asked for before start() was done.
  std::string early_kill_;
  std::pair<std::chrono::milliseconds, const char*> early_kill_after_{{}, nullptr};
  // I/O thread only:
  bool link_attempted_ = false;  // start(): fd handed to a peer_link
  bool reaped_ = false;
  bool link_closed_ = false;
  pid_t wait_rc_ = 0;
  int wait_errno_ = 0;
  int wait_status_ = 0;
  std::string link_reason_;
  std::string kill_note_;
  std::optional<exit_reason> actor_exit_;

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::uint64_t next_req_ = 0;
  std::unordered_map<std::uint64_t, reply_fn> pending_;
  bool finished_ = false;                  // pending asks failed; new ones fail at once
  bool reported_ = false;                  // down sent and on_lost run
  int waiters_ = 0;                        // threads in wait()
  std::shared_ptr<process_peer> handoff_;  // the completion job's reference, for a waiter
  std::string lost_text_;
};

std::shared_ptr<process_peer> launch(
    troupe::system& sys, std::string_view actor_name, std::string_view actor_type,
    const isolated_options& opts,
    troupe::detail::unique_function<void(const exit_reason&)> on_lost) {
  auto peer = std::make_shared<process_peer>(std::string(actor_type), std::move(on_lost));
  io_runtime::get().run_sync([&] { peer->start(sys, actor_name, opts); });
  return peer;
}

namespace {

/// The port of an isolated actor's remote cell: what a ref<A> hands the
/// cell goes to the child's connection, encoded by the message's ops.
class isolated_port final : public troupe::detail::remote_port {
 public:
  isolated_port(std::shared_ptr<process_peer> peer, std::string type_name)
      : peer_(std::move(peer)), type_name_(std::move(type_name)) {}

  send_result send(const troupe::detail::remote_message& m, troupe::detail::send_wait w) override {
    const troupe::detail::remote_ops& ops = checked_ops(m, type_name_, "send");
    return peer_->send(ops.encode, m.value, w == troupe::detail::send_wait::block);
  }

  void send_parked(const troupe::detail::remote_message& m,
                   troupe::detail::park_callback* cb) override {
    peer_->send_parked(checked_ops(m, type_name_, "send").encode, m.value, cb);
  }

  void ask(const troupe::detail::remote_message& m,
           std::unique_ptr<troupe::detail::remote_promise> p,
           troupe::detail::send_wait /*w*/) override {
    const troupe::detail::remote_ops& ops = checked_ops(m, type_name_, "ask");
    peer_->ask(ops.encode, m.value,
               [p = std::move(p), complete = ops.complete](const reply_view& r) mutable {
                 complete(p->get(), r);
               });
  }

  /// A message already encoded (`[id][fields]`, by `ops`): sent as send()
  /// with send_wait::block does, or asked when `p` is given.
  send_result forward(std::span<const std::byte> bytes, const troupe::detail::remote_ops& ops,
                      std::unique_ptr<troupe::detail::remote_promise> p) {
    const encode_fn raw = [](wire::writer& w, const void* b) {
      w.bytes(*static_cast<const std::span<const std::byte>*>(b));
    };
    if (!p) return peer_->send(raw, &bytes, true);
    peer_->ask(raw, &bytes, [p = std::move(p), complete = ops.complete](const reply_view& r) {
      complete(p->get(), r);
    });
    return send_result::ok;
  }

  void stop(bool shutdown) noexcept override {
    try {
      peer_->stop();
      // A system's shutdown waits for its actors: a child that does not
      // stop is killed.
      if (shutdown) peer_->kill_after(std::chrono::milliseconds(1000), "did not stop in time");
    } catch (...) {
      log_error("troupe.nodes: stopping {} ({}) failed", type_name_, peer_->pid());
    }
  }

  void kill(std::string why) noexcept override {
    try {
      peer_->kill_child(why == "killed" ? std::string("killed by its parent") : std::move(why));
    } catch (...) {
      log_error("troupe.nodes: killing {} ({}) failed", type_name_, peer_->pid());
    }
  }

  [[nodiscard]] troupe::location where() const override {
    // 0 once the child is gone: its pid may be reused.
    return troupe::location{
        troupe::location::kind::process, peer_->terminated() ? 0 : peer_->pid(), {}};
  }

  [[nodiscard]] process_peer& peer() const noexcept { return *peer_; }

 private:
  std::shared_ptr<process_peer> peer_;
  std::string type_name_;
};

}  // namespace

bool wait_isolated_gone(troupe::detail::cell& c, std::chrono::milliseconds timeout) {
  auto& port = static_cast<isolated_port&>(static_cast<troupe::detail::remote_cell&>(c).port());
  return port.peer().wait_reported(timeout);
}

send_result forward_encoded(troupe::detail::cell& c, std::span<const std::byte> bytes,
                            const troupe::detail::remote_ops& ops,
                            std::unique_ptr<troupe::detail::remote_promise> p) {
  auto& port = static_cast<isolated_port&>(static_cast<troupe::detail::remote_cell&>(c).port());
  return port.forward(bytes, ops, std::move(p));
}

troupe::detail::cell* spawn_isolated_cell(troupe::system& sys, const std::type_info& type,
                                          const std::string& type_name, std::string_view name,
                                          const isolated_options& opts,
                                          const isolated_construct& make) {
  auto peer = std::make_shared<process_peer>(
      type_name, troupe::detail::unique_function<void(const exit_reason&)>{});
  // The cell first: a system that is shutting down refuses it before any
  // child process or descriptor exists. From here on a shutdown may stop
  // it: the peer holds a stop or kill until the child is connected.
  troupe::detail::remote_cell* c = troupe::detail::make_remote_cell(
      sys, type, type_name, std::make_shared<isolated_port>(peer, type_name));
  peer->set_cell(c);
  try {
    io_runtime::get().run_sync([&] { peer->start(sys, name, opts, &make); });
  } catch (...) {
    // start() told the cell it is gone (unless it never ran): it terminates.
    peer->report_gone(exit_reason{exit_reason::kind::peer_lost, "the child could not be started"});
    c->release();
    throw;
  }
  return c;
}

void peer_call(process_peer& p, std::string_view fn, std::size_t count, encode_fn enc,
               const void* args, reply_fn done) {
  p.call(fn, count, enc, args, std::move(done));
}
void peer_stop(process_peer& p) { p.stop(); }
void peer_kill(process_peer& p) { p.kill_child("killed by its parent"); }
void peer_release(process_peer& p, std::chrono::milliseconds grace) noexcept {
  try {
    const bool backend_thread =
        io_runtime::get().on_io_thread() || io_runtime::get().on_completion_thread();
    if (p.terminated()) {
      // Gone; its down may still be on its way. Waiting for it also takes
      // over the completion's last reference, so that the stand-in is
      // released here, before this thread may end the system.
      if (!backend_thread) p.wait_reported(std::chrono::milliseconds(10000));
      return;
    }
    p.stop();
    if (backend_thread) {
      // The last handle dropped in a reply callback: waiting here would
      // wait for the thread that reports the end. The stop is sent; a timer
      // on the I/O thread kills the child if it has not gone after `grace`,
      // and the pidfd reaps it.
      p.kill_after(grace, "did not stop in time");
      return;
    }
    if (p.wait_reported(grace)) return;
    p.kill_child("did not stop in time");
    p.wait_reported(std::chrono::milliseconds(10000));
  } catch (...) {
    log_error("troupe.nodes: releasing child {} failed", p.pid());
  }
}
bool peer_terminated(const process_peer& p) noexcept {
  try {
    return p.terminated();
  } catch (...) {
    return false;
  }
}
int peer_pid(const process_peer& p) noexcept { return p.pid(); }
void log_proxy_drop(const std::string& proxy_type, std::string_view msg_type,
                    send_result what) noexcept {
  try {
    log_warn("troupe.nodes: {}: message {} not delivered: {}", proxy_type, msg_type,
             what == send_result::closed ? "the child process is gone (its down follows)"
                                         : "the connection's send queue is full");
  } catch (...) {  // logging must not fail the proxy
  }
}

void log_proxy_refused(const std::string& proxy_type, const char* what) noexcept {
  try {
    log_error("troupe.nodes: {}: {}", proxy_type, what);
  } catch (...) {  // logging must not fail the proxy
  }
}

}  // namespace troupe::nodes::detail
