// The process backend: launching children (posix_spawn of /proc/self/exe),
// the parent's view of a child (process_peer: pending asks, reaping, the
// down reason), and the child's side (child_main).

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "internal/nodes_log.hpp"
#include "internal/peer_link.hpp"
#include "internal/pool_internal.hpp"
#include "troupe/actors/actor.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/nodes/isolated.hpp"
#include "troupe/wire/message.hpp"

extern char** environ;  // NOLINT

namespace troupe::nodes::detail {

namespace {

constexpr int child_fd = 3;

troupe::error sys_error(const std::string& what) {
  return troupe::error(troupe::errc::invalid_argument, what + ": " + std::strerror(errno));
}

/// The local stand-in of an isolated actor: terminates with its down reason.
struct peer_gone {
  exit_reason reason;
};
class stand_in : public troupe::actor<stand_in> {
 public:
  void on(peer_gone g) { stop(std::move(g.reason)); }
};

// ---- isolated actor factories ---------------------------------------------

std::mutex& factories_mu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, host_factory, std::less<>>& factories() {
  static std::map<std::string, host_factory, std::less<>> m;
  return m;
}

}  // namespace

bool register_isolated_factory(std::string_view name, host_factory make) {
  std::lock_guard lk(factories_mu());
  auto [it, inserted] = factories().emplace(std::string(name), make);
  if (!inserted && it->second != make) {
    throw troupe::error(troupe::errc::invalid_argument,
                        "TROUPE_ISOLATED_ACTOR: the name \"" + std::string(name) +
                            "\" is registered twice");
  }
  return true;
}

// ---- the parent's view of a child --------------------------------------------

class process_peer : public std::enable_shared_from_this<process_peer> {
 public:
  process_peer(std::string actor_type, troupe::detail::unique_function<void(const exit_reason&)> on_lost)
      : actor_type_(std::move(actor_type)), on_lost_(std::move(on_lost)) {}
  ~process_peer() {
    if (pidfd_ >= 0) ::close(pidfd_);
  }
  process_peer(const process_peer&) = delete;
  process_peer& operator=(const process_peer&) = delete;

  // Runs on the I/O thread (PR_SET_PDEATHSIG follows the spawning thread).
  void start(troupe::system& sys, std::string_view actor_name, const isolated_options& opts) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw sys_error("socketpair");
    // Moved above fd 3 so that dup2 onto 3 always clears FD_CLOEXEC.
    const int high = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
    if (high < 0) {
      ::close(sv[0]);
      throw sys_error("fcntl");
    }
    std::vector<std::string> args = {
        "/proc/self/exe",
        std::string(child_marker),
        "ppid=" + std::to_string(::getpid()),
        "hb=" + std::to_string(opts.heartbeat_interval.count()),
        "hbto=" + std::to_string(opts.heartbeat_timeout.count()),
        "as=" + std::to_string(opts.limit_address_space),
        "cpu=" + std::to_string(opts.limit_cpu_seconds),
        "maxframe=" + std::to_string(opts.max_frame),
        "name=" + std::string(actor_name),
    };
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, high, child_fd);
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(high);
    if (rc != 0) {
      ::close(sv[0]);
      errno = rc;
      throw sys_error("posix_spawn /proc/self/exe");
    }
    pid_ = pid;
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd_ < 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::close(sv[0]);
      throw sys_error("pidfd_open");
    }
    stand_in_ = sys.spawn<stand_in>();

    auto& ctx = io_runtime::get().context();
    pid_watch_ = std::make_unique<asio::posix::stream_descriptor>(ctx, ::dup(pidfd_));
    link_config cfg;
    cfg.my_role = wire::peer_role::parent;
    cfg.peer_role = wire::peer_role::child;
    cfg.expected_pid = pid;
    cfg.name = std::string(actor_name) + "#" + std::to_string(pid);
    cfg.heartbeat_interval = opts.heartbeat_interval;
    cfg.heartbeat_timeout = opts.heartbeat_timeout;
    cfg.startup_timeout = opts.startup_timeout;
    cfg.send_queue_bytes = opts.send_queue_bytes;
    cfg.max_frame = opts.max_frame;
    link_ = std::make_shared<peer_link>(ctx, sv[0], cfg);
    // The spawn frame follows the handshake.
    (void)link_->post(frame_kind::spawn, [&](wire::writer& w) { wire::write_value(w, std::string(actor_name)); },
                      true);
    std::weak_ptr<process_peer> weak = weak_from_this();
    link_->start(
        [weak](frame_kind k, std::span<const std::byte> body) {
          if (auto self = weak.lock()) self->on_frame(k, body);
        },
        [weak](const std::string& why, bool clean) {
          if (auto self = weak.lock()) self->on_link_closed(why, clean);
        });
    pid_watch_->async_wait(asio::posix::stream_descriptor::wait_read,
                           [self = shared_from_this()](const asio::error_code& /*ec*/) {
                             self->reap();
                           });
  }

  send_result send(encode_fn enc, const void* msg) {
    return link_->post(frame_kind::send, [&](wire::writer& w) { enc(w, msg); });
  }

  void ask(encode_fn enc, const void* msg, reply_fn done) {
    std::uint64_t req = 0;
    {
      std::lock_guard lk(mu_);
      if (finished_) {
        const std::string why = "ask " + actor_type_ + ": " + lost_text_;
        reply_view r{false, {}, troupe::errc::peer_lost, why};
        done(r);
        return;
      }
      req = ++next_req_;
      pending_.emplace(req, std::move(done));
    }
    const send_result s = link_->post(frame_kind::ask, [&](wire::writer& w) {
      w.fixed(req);
      enc(w, msg);
    });
    if (s != send_result::ok) fail_one(req, s);
  }

  void call(std::string_view fn, std::size_t count, encode_fn enc, const void* args, reply_fn done) {
    std::uint64_t req = 0;
    {
      std::lock_guard lk(mu_);
      if (finished_) {
        const std::string why = "pool task " + std::string(fn) + ": " + lost_text_;
        reply_view r{false, {}, troupe::errc::peer_lost, why};
        done(r);
        return;
      }
      req = ++next_req_;
      pending_.emplace(req, std::move(done));
    }
    const send_result s = link_->post(frame_kind::call, [&](wire::writer& w) {
      w.fixed(req);
      wire::write_value(w, std::string(fn));
      w.varint(count);
      enc(w, args);
    });
    if (s != send_result::ok) fail_one(req, s);
  }

  void stop() {
    stop_requested_.store(true, std::memory_order_release);
    (void)link_->post(frame_kind::stop, true);
  }
  void kill_child(const char* why) {
    asio::post(io_runtime::get().context(), [self = shared_from_this(), why] {
      if (self->reaped_) return;
      if (self->kill_note_.empty()) self->kill_note_ = why;
      ::kill(self->pid_, SIGKILL);
    });
  }

  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock lk(mu_);
    return done_cv_.wait_for(lk, timeout, [&] { return reported_; });
  }
  [[nodiscard]] bool terminated() const {
    std::lock_guard lk(mu_);
    return finished_;
  }
  [[nodiscard]] int pid() const noexcept { return pid_; }
  [[nodiscard]] actor_addr addr() const { return actor_addr(stand_in_); }

 private:
  void fail_one(std::uint64_t req, send_result s) {
    reply_fn done;
    {
      std::lock_guard lk(mu_);
      auto it = pending_.find(req);
      if (it == pending_.end()) return;  // failed by finish() meanwhile
      done = std::move(it->second);
      pending_.erase(it);
    }
    const std::string why =
        s == send_result::full
            ? "ask " + actor_type_ + ": connection send queue full"
            : "ask " + actor_type_ + ": peer lost";
    reply_view r{false, {}, s == send_result::full ? troupe::errc::mailbox_full : troupe::errc::peer_lost,
                 why};
    done(r);
  }

  void on_frame(frame_kind k, std::span<const std::byte> body) {
    switch (k) {
      case frame_kind::reply_ok:
      case frame_kind::reply_err: {
        wire::reader r(body);
        const auto req = r.fixed<std::uint64_t>();
        if (!r.ok()) throw std::runtime_error("truncated reply");
        reply_fn done;
        {
          std::lock_guard lk(mu_);
          auto it = pending_.find(req);
          if (it == pending_.end()) throw std::runtime_error("reply to unknown request " + std::to_string(req));
          done = std::move(it->second);
          pending_.erase(it);
        }
        if (k == frame_kind::reply_ok) {
          done(reply_view{true, body.subspan(8), {}, {}});
        } else {
          const auto code = static_cast<troupe::errc>(r.byte());
          std::string what;
          wire::read_value(r, what);
          if (!r.complete()) what = "bad error reply from the child";
          done(reply_view{false, {}, code, what});
        }
        return;
      }
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
      default:
        throw std::runtime_error("unexpected frame kind " + std::to_string(static_cast<int>(k)) +
                                 " from a child");
    }
  }

  void on_link_closed(const std::string& why, bool clean) {
    link_reason_ = why;
    if (!clean && !reaped_) {
      if (kill_note_.empty()) kill_note_ = why;
      ::kill(pid_, SIGKILL);
    } else if (!reaped_) {
      // EOF: the child is exiting; make sure it does.
      grace_ = std::make_unique<asio::steady_timer>(io_runtime::get().context());
      grace_->expires_after(std::chrono::milliseconds(1000));
      grace_->async_wait([self = shared_from_this()](const asio::error_code& ec) {
        if (ec || self->reaped_) return;
        if (self->kill_note_.empty()) self->kill_note_ = "did not exit after closing its connection";
        ::kill(self->pid_, SIGKILL);
      });
    }
  }

  void reap() {
    if (reaped_) return;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == 0) {  // spurious: wait again
      pid_watch_->async_wait(asio::posix::stream_descriptor::wait_read,
                             [self = shared_from_this()](const asio::error_code&) { self->reap(); });
      return;
    }
    reaped_ = true;
    if (grace_) grace_->cancel();
    pid_watch_.reset();
    link_->close("child exited");
    const std::string who = "child " + std::to_string(pid_);
    std::string how;
    bool clean_exit = false;
    if (r < 0) {
      how = "could not be reaped: " + std::string(std::strerror(errno));
    } else if (WIFSIGNALED(st)) {
      const int sig = WTERMSIG(st);
      how = "killed by signal " + std::to_string(sig) + " (" + signal_name(sig) + ")";
      if (sig == SIGXCPU) how += ": CPU time limit";
    } else if (WIFEXITED(st)) {
      how = "exited with status " + std::to_string(WEXITSTATUS(st));
      clean_exit = WEXITSTATUS(st) == 0;
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
    const std::string lost = reason.code == exit_reason::kind::peer_lost
                                 ? reason.to_string()
                                 : "peer lost: child " + std::to_string(pid_) + " ended (" +
                                       reason.to_string() + ")";
    {
      std::lock_guard lk(mu_);
      lost_text_ = lost;
      pending.swap(pending_);
      finished_ = true;  // before anyone hears of it: terminated() is true for a down
    }
    // In request order, so asks fail in the order they were made.
    std::vector<std::pair<std::uint64_t, reply_fn>> ordered;
    for (auto& kv : pending) ordered.emplace_back(kv.first, std::move(kv.second));
    std::sort(ordered.begin(), ordered.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (auto& [req, done] : ordered) {
      const std::string why = actor_type_ + ": " + lost;
      done(reply_view{false, {}, troupe::errc::peer_lost, why});
    }
    if (reason.code != exit_reason::kind::normal) {
      log_warn("troupe.nodes: {} ({}) down: {}", actor_type_, pid_, reason.to_string());
    }
    stand_in_.send(peer_gone{reason});
    if (on_lost_) on_lost_(reason);
    {
      std::lock_guard lk(mu_);
      reported_ = true;
    }
    done_cv_.notify_all();
  }

  std::string actor_type_;
  troupe::detail::unique_function<void(const exit_reason&)> on_lost_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::unique_ptr<asio::posix::stream_descriptor> pid_watch_;
  std::unique_ptr<asio::steady_timer> grace_;
  std::shared_ptr<peer_link> link_;
  ref<stand_in> stand_in_;
  std::atomic<bool> stop_requested_{false};
  // I/O thread only:
  bool reaped_ = false;
  std::string link_reason_;
  std::string kill_note_;
  std::optional<exit_reason> actor_exit_;

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::uint64_t next_req_ = 0;
  std::unordered_map<std::uint64_t, reply_fn> pending_;
  bool finished_ = false;  // pending asks failed; new ones fail at once
  bool reported_ = false;  // down sent and on_lost run
  std::string lost_text_;
};

std::shared_ptr<process_peer> launch(troupe::system& sys, std::string_view actor_name,
                                     std::string_view actor_type, const isolated_options& opts,
                                     troupe::detail::unique_function<void(const exit_reason&)> on_lost) {
  auto peer = std::make_shared<process_peer>(std::string(actor_type), std::move(on_lost));
  io_runtime::get().run_sync([&] { peer->start(sys, actor_name, opts); });
  return peer;
}

send_result peer_send(process_peer& p, encode_fn enc, const void* msg) { return p.send(enc, msg); }
void peer_ask(process_peer& p, encode_fn enc, const void* msg, reply_fn done) {
  p.ask(enc, msg, std::move(done));
}
void peer_call(process_peer& p, std::string_view fn, std::size_t count, encode_fn enc,
               const void* args, reply_fn done) {
  p.call(fn, count, enc, args, std::move(done));
}
void peer_stop(process_peer& p) { p.stop(); }
void peer_kill(process_peer& p) { p.kill_child("killed by its parent"); }
void peer_release(process_peer& p, std::chrono::milliseconds grace) noexcept {
  try {
    if (p.terminated()) return;
    p.stop();
    if (io_runtime::get().on_io_thread()) {
      // The last handle dropped in a reply callback: waiting here would
      // wait for this very thread. The stop is sent; the EOF grace timer
      // and the pidfd finish the job.
      return;
    }
    if (p.wait(grace)) return;
    p.kill_child("did not stop in time");
    p.wait(std::chrono::milliseconds(10000));
  } catch (...) {
    log_error("troupe.nodes: releasing child {} failed", p.pid());
  }
}
bool peer_wait(process_peer& p, std::chrono::milliseconds timeout) { return p.wait(timeout); }
bool peer_terminated(const process_peer& p) noexcept {
  try {
    return p.terminated();
  } catch (...) {
    return false;
  }
}
int peer_pid(const process_peer& p) noexcept { return p.pid(); }
void log_proxy_drop(const std::string& proxy_type, const char* msg_type, send_result what) noexcept {
  try {
    log_warn("troupe.nodes: {}: message {} not delivered: {}", proxy_type, msg_type,
             what == send_result::dead ? "the child process is gone (its down follows)"
                                       : "the connection's send queue is full");
  } catch (...) {  // logging must not fail the proxy
  }
}
actor_addr peer_addr(const process_peer& p) { return p.addr(); }

// ---- the child's side ----------------------------------------------------------

namespace {

struct child_exit {
  exit_reason reason;
};

class child_state;
child_state* g_child = nullptr;  // set once in child_main, before any frame

class child_watch;

class child_state {
 public:
  std::shared_ptr<peer_link> link;
  std::unique_ptr<child_host> host;
  troupe::system* sys = nullptr;

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool graceful = false;
  std::deque<std::vector<std::byte>> calls;  // pool mode: call frames, run on the main thread

  void finish(bool g) {
    {
      std::lock_guard lk(mu);
      done = true;
      graceful = graceful || g;
    }
    cv.notify_all();
  }
};

class child_watch : public troupe::actor<child_watch> {
 public:
  void on(actor_addr target) { monitor(target); }
  void on(troupe::down d) {
    child_state* st = g_child;
    const auto kind = static_cast<std::uint8_t>(d.reason.code);
    (void)st->link->post(
        frame_kind::actor_exit,
        [&](wire::writer& w) {
          w.byte(kind);
          wire::write_value(w, d.reason.what);
        },
        true);
    st->link->close_after_flush();
  }
};

void on_child_frame(frame_kind k, std::span<const std::byte> body) {
  child_state* st = g_child;
  switch (k) {
    case frame_kind::spawn: {
      std::string name;
      wire::reader r(body);
      wire::read_value(r, name);
      if (!r.complete()) throw std::runtime_error("bad spawn frame");
      if (st->host) throw std::runtime_error("second spawn frame");
      if (name == pool_worker_name) return;  // pool mode: calls only
      host_factory make = nullptr;
      {
        std::lock_guard lk(factories_mu());
        auto it = factories().find(name);
        if (it != factories().end()) make = it->second;
      }
      if (make == nullptr) {
        throw std::runtime_error("no isolated actor registered as \"" + name +
                                 "\" in this binary");
      }
      st->host = make(*st->sys);
      auto watch = st->sys->spawn<child_watch>();
      watch.send(st->host->addr());
      return;
    }
    case frame_kind::send: {
      if (!st->host) throw std::runtime_error("send before spawn");
      wire::any_message m;
      const wire::status s = wire::decode_message(body, m);
      if (!s) throw std::runtime_error("send: " + s.message());
      if (!st->host->deliver(m)) {
        throw std::runtime_error("send: message " + std::string(m.name()) +
                                 " is not accepted by this isolated actor");
      }
      return;
    }
    case frame_kind::ask: {
      if (!st->host) throw std::runtime_error("ask before spawn");
      wire::reader r(body);
      const auto req = r.fixed<std::uint64_t>();
      if (!r.ok()) throw std::runtime_error("truncated ask");
      wire::any_message m;
      const wire::status s = wire::decode_message(body.subspan(8), m);
      if (!s) {
        reply_error(req, troupe::errc::invalid_argument, "ask: " + s.message());
        return;
      }
      if (!st->host->ask(m, req)) {
        reply_error(req, troupe::errc::invalid_argument,
                    "ask: message " + std::string(m.name()) + " is not accepted by this actor");
      }
      return;
    }
    case frame_kind::call: {
      {
        std::lock_guard lk(st->mu);
        st->calls.emplace_back(body.begin(), body.end());
      }
      st->cv.notify_all();
      return;
    }
    case frame_kind::stop: {
      if (st->host) {
        st->host->stop();  // child_watch reports the exit and closes
      } else {
        std::lock_guard lk(st->mu);
        st->calls.emplace_back();  // an empty entry: stop after the queued calls
        st->cv.notify_all();
      }
      return;
    }
    default:
      throw std::runtime_error("unexpected frame kind " + std::to_string(static_cast<int>(k)) +
                               " from the parent");
  }
}

std::string arg_value(int argc, char** argv, std::string_view key) {
  for (int i = 2; i < argc; ++i) {
    std::string_view a(argv[i]);
    if (a.size() > key.size() && a.substr(0, key.size()) == key && a[key.size()] == '=') {
      return std::string(a.substr(key.size() + 1));
    }
  }
  return {};
}

std::uint64_t arg_u64(int argc, char** argv, std::string_view key) {
  const std::string v = arg_value(argc, argv, key);
  return v.empty() ? 0 : std::strtoull(v.c_str(), nullptr, 10);
}

}  // namespace

void reply_ok(std::uint64_t req, encode_fn enc, const void* value) {
  (void)g_child->link->post(
      frame_kind::reply_ok,
      [&](wire::writer& w) {
        w.fixed(req);
        if (enc != nullptr) enc(w, value);
      },
      true);
}

void reply_error(std::uint64_t req, troupe::errc code, const std::string& what) {
  (void)g_child->link->post(
      frame_kind::reply_err,
      [&](wire::writer& w) {
        w.fixed(req);
        w.byte(static_cast<std::uint8_t>(code));
        wire::write_value(w, what);
      },
      true);
}

}  // namespace troupe::nodes::detail

namespace troupe::nodes {

std::optional<int> child_main(int argc, char** argv) {
  using namespace detail;
  if (argc < 2 || std::string_view(argv[1]) != child_marker) return std::nullopt;
  const auto ppid = static_cast<pid_t>(arg_u64(argc, argv, "ppid"));
  // Die with the parent (the thread that spawned us lives as long as the
  // parent's I/O runtime), and catch a parent that died before this line.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (ppid == 0 || ::getppid() != ppid) ::_exit(70);
  if (const std::uint64_t as = arg_u64(argc, argv, "as"); as != 0) {
    rlimit rl{as, as};
    ::setrlimit(RLIMIT_AS, &rl);
  }
  if (const std::uint64_t cpu = arg_u64(argc, argv, "cpu"); cpu != 0) {
    rlimit rl{cpu, cpu + 1};
    ::setrlimit(RLIMIT_CPU, &rl);
  }
  if (::fcntl(child_fd, F_GETFD) < 0) ::_exit(71);
  ::fcntl(child_fd, F_SETFD, FD_CLOEXEC);  // not inherited by anything this child starts

  auto& rt = io_runtime::get();  // before `st`, so that it is destroyed after it
  static child_state st;
  g_child = &st;
  troupe::system sys;
  st.sys = &sys;
  link_config cfg;
  cfg.my_role = wire::peer_role::child;
  cfg.peer_role = wire::peer_role::parent;
  cfg.expected_pid = ppid;
  cfg.name = arg_value(argc, argv, "name") + "@parent";
  if (auto v = arg_u64(argc, argv, "hb")) cfg.heartbeat_interval = std::chrono::milliseconds(v);
  if (auto v = arg_u64(argc, argv, "hbto")) cfg.heartbeat_timeout = std::chrono::milliseconds(v);
  if (auto v = arg_u64(argc, argv, "maxframe")) cfg.max_frame = v;
  st.link = std::make_shared<peer_link>(rt.context(), child_fd, cfg);
  st.link->start([](frame_kind k, std::span<const std::byte> body) { on_child_frame(k, body); },
                 [](const std::string& why, bool /*clean*/) {
                   // Graceful only when this side closed after its last frame;
                   // EOF from the parent means it is gone.
                   g_child->finish(why == closed_by_us);
                 });

  // The main thread runs pool calls, one at a time, until the link closes.
  for (;;) {
    std::vector<std::byte> call;
    {
      std::unique_lock lk(st.mu);
      st.cv.wait(lk, [&] { return st.done || !st.calls.empty(); });
      if (st.done) break;
      call = std::move(st.calls.front());
      st.calls.pop_front();
    }
    if (call.empty()) {  // stop: everything before it has run
      st.link->close_after_flush();
      continue;
    }
    run_pool_call(call);
  }
  // Graceful or not, the child leaves with _exit once its connection is
  // closed: its last frames are written, its actor has ended (or the parent
  // is gone), and static destructors would race the I/O thread and could
  // block in user code. The parent reads the outcome from the exit status.
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(0);
}

}  // namespace troupe::nodes
