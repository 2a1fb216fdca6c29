// The child's runtime: child_main (resource limits, the connection to the
// parent on fd 3, the main loop that runs pool calls), the frames from the
// parent (spawn of the registered actor, send, ask, call, stop), and the
// replies and the actor's exit sent back.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "internal/child_launch.hpp"
#include "internal/isolated_registry.hpp"
#include "internal/link_refs.hpp"
#include "internal/nodes_log.hpp"
#include "internal/peer_link.hpp"
#include "internal/pool_internal.hpp"
#include "troupe/actors/actor.hpp"
#include "troupe/actors/detail/start_check.hpp"
#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/nodes/detail/isolated_registry.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/message.hpp"

namespace troupe::nodes::detail {

namespace {

struct child_exit {
  exit_reason reason;
};

class child_state;
child_state* g_child = nullptr;  // set once in child_main, before any frame

class child_watch;

/// isolated_options::handler_timeout in the child: messages from the parent
/// delivered but not yet handled, and when the last handler finished (or
/// the actor last became busy). Checked on the I/O thread.
class progress_watch {
 public:
  void delivered(std::string_view message) {
    std::lock_guard lk(mu_);
    if (waiting_.empty()) since_ = std::chrono::steady_clock::now();
    waiting_.emplace_back(message);
  }
  void handled() {
    std::lock_guard lk(mu_);
    if (!waiting_.empty()) waiting_.pop_front();
    since_ = std::chrono::steady_clock::now();
  }
  /// What to tell the parent if the actor is over the limit, else "".
  std::string check(std::chrono::milliseconds limit) {
    std::lock_guard lk(mu_);
    if (waiting_.empty()) return {};
    const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - since_);
    if (idle <= limit) return {};
    return "no handler finished for " + std::to_string(idle.count()) + " ms (handler_timeout " +
           std::to_string(limit.count()) + " ms), " + std::to_string(waiting_.size()) +
           " message(s) waiting, the first " + waiting_.front();
  }

 private:
  std::mutex mu_;
  std::deque<std::string> waiting_;  // type names, oldest first
  std::chrono::steady_clock::time_point since_;
};

class child_state {
 public:
  std::shared_ptr<peer_link> link;
  std::shared_ptr<link_refs> refs;  // the refs that cross the connection
  std::unique_ptr<child_host> host;
  troupe::system* sys = nullptr;

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool graceful = false;
  std::deque<std::vector<std::byte>> calls;  // pool mode: call frames, run on the main thread
  std::chrono::milliseconds handler_timeout{0};
  progress_watch progress;
  std::unique_ptr<asio::steady_timer> progress_timer;  // I/O thread

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
  void on(const actor_addr& target) { monitor(target); }
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

/// Every quarter of the limit: tells the parent once that the actor hung
/// (the parent kills this process).
void arm_progress_check() {
  child_state* st = g_child;
  const auto every = std::max(st->handler_timeout / 4, std::chrono::milliseconds(1));
  st->progress_timer->expires_after(every);
  st->progress_timer->async_wait([st](const asio::error_code& ec) {
    if (ec) return;
    const std::string hung = st->progress.check(st->handler_timeout);
    if (hung.empty()) {
      arm_progress_check();
      return;
    }
    log_error("troupe.nodes: isolated actor hung: {}", hung);
    (void)st->link->post(
        frame_kind::hung, [&](wire::writer& w) { wire::write_value(w, hung); }, true);
  });
}

// An ask's message for the isolated actor: [message] after its request id.
void child_ask(child_state* st, std::uint64_t req, std::span<const std::byte> msg) {
  if (!st->host) throw std::runtime_error("ask before spawn");
  wire::any_message m;
  const wire::status s = decode_message_in(msg, m, g_child->refs.get());
  if (!s) {
    reply_error(req, troupe::errc::invalid_argument, "ask: " + s.message());
    return;
  }
  if (!st->host->ask(m, req)) {
    reply_error(req, troupe::errc::invalid_argument,
                "ask: message " + std::string(m.name()) + " is not accepted by this actor");
  }
}

void on_child_frame(frame_kind k, std::span<const std::byte> body) {
  child_state* st = g_child;
  switch (k) {
    case frame_kind::traced_send:
    case frame_kind::traced_ask: {
      // The parent is tracing: a slice here ends its arrow, and the send to
      // the actor inside it starts this process's own.
      wire::reader r(body);
      const auto req = k == frame_kind::traced_ask ? r.fixed<std::uint64_t>() : 0;
      const auto flow = r.fixed<std::uint32_t>();
      if (!r.ok()) throw std::runtime_error("truncated traced frame");
      const std::uint64_t t0 = troupe::detail::trace::on() ? troupe::detail::trace::now() : 0;
      if (k == frame_kind::traced_send) {
        on_child_frame(frame_kind::send, body.subspan(4));
      } else {
        child_ask(st, req, body.subspan(12));
      }
      if (t0 != 0) {
        troupe::detail::trace::slice_from("frame from parent", t0,
                                          static_cast<std::uint32_t>(::getppid()), flow);
      }
      return;
    }
    case frame_kind::spawn: {
      // [string key][constructor arguments, encoded]
      std::string name;
      wire::reader r(body);
      wire::read_value(r, name);
      if (!r.ok()) throw std::runtime_error("bad spawn frame");
      if (st->host) throw std::runtime_error("second spawn frame");
      if (name == pool_worker_name) {  // pool mode: calls only
        if (!r.complete()) throw std::runtime_error("bad spawn frame");
        return;
      }
      const host_factory make = find_isolated_factory(name);
      if (make == nullptr) {
        throw std::runtime_error("no isolated actor registered as \"" + name + "\" in this binary");
      }
      try {
        st->host = make(*st->sys, r);
      } catch (...) {
        // The actor could not be made (its constructor threw, or its
        // arguments do not decode): its exit, as a failed actor's.
        const std::string what = troupe::detail::describe_current_exception() + " (in constructor)";
        (void)st->link->post(
            frame_kind::actor_exit,
            [&](wire::writer& w) {
              w.byte(static_cast<std::uint8_t>(exit_reason::kind::exception));
              wire::write_value(w, what);
            },
            true);
        st->link->close_after_flush();
        return;
      }
      st->refs->set_root_export(st->host->actor_cell());
      auto watch = st->sys->spawn<child_watch>();
      watch.send(st->host->addr());
      if (st->handler_timeout.count() > 0) {
        st->progress_timer = std::make_unique<asio::steady_timer>(io_runtime::get().context());
        arm_progress_check();
      }
      return;
    }
    case frame_kind::send: {
      if (!st->host) throw std::runtime_error("send before spawn");
      wire::any_message m;
      const wire::status s = decode_message_in(body, m, g_child->refs.get());
      if (!s) throw std::runtime_error("send: " + s.message());
      if (!st->host->deliver(m)) {
        throw std::runtime_error("send: message " + std::string(m.name()) +
                                 " is not accepted by this isolated actor");
      }
      return;
    }
    case frame_kind::ask: {
      wire::reader r(body);
      const auto req = r.fixed<std::uint64_t>();
      if (!r.ok()) throw std::runtime_error("truncated ask");
      child_ask(st, req, body.subspan(8));
      return;
    }
    case frame_kind::ref_send:
    case frame_kind::ref_ask:
    case frame_kind::ref_reply:
    case frame_kind::ref_stop:
      st->refs->on_frame(k, body);
      return;
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

// Before main(): a child arms its parent-death signal at once, so that
// the window in which its parent may die unnoticed ends at exec plus static
// initialization, not at the user's call of child_main; and it checks that
// its parent is still the one that started it.
bool arm_parent_death_early() noexcept {
  const int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[512];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const std::string_view all(buf, static_cast<std::size_t>(n));
  const std::size_t first = all.find('\0');
  if (first == std::string_view::npos) return false;
  const std::string_view rest = all.substr(first + 1);
  const std::string_view arg1 = rest.substr(0, rest.find('\0'));
  if (arg1 != child_marker) return false;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const std::string_view key = "ppid=";
  const std::size_t at = all.find(key);
  if (at == std::string_view::npos) return true;
  const long ppid = std::strtol(buf + at + key.size(), nullptr, 10);
  if (ppid == 0 || ::getppid() != ppid) ::_exit(70);
  return true;
}

/// Whether this process is a child, and whether it entered child_main().
enum class child_phase : int { not_child, started, running };
std::atomic<child_phase> g_phase{child_phase::not_child};

/// The check troupe::system's constructor runs (set only in a child): the
/// program reached troupe without calling child_main() first in main(),
/// so main() is running a second time. Stopped here, before it can spawn
/// children of its own; the parent reads the status and names the fix.
void refuse_main_in_child() {
  if (in_child_before_child_main()) forgotten_child_main();
}

bool start_as_child() noexcept {
  if (!arm_parent_death_early()) return false;
  g_phase.store(child_phase::started, std::memory_order_release);
  troupe::detail::set_system_start_check(&refuse_main_in_child);
  return true;
}
[[maybe_unused]] const bool g_is_child = start_as_child();

}  // namespace

bool progress_tracked() noexcept {
  return g_child != nullptr && g_child->handler_timeout.count() > 0;
}
void progress_delivered(std::string_view message) noexcept {
  try {
    g_child->progress.delivered(message);
  } catch (...) {  // out of memory: this message goes untracked
  }
}
void progress_handled() noexcept { g_child->progress.handled(); }

void forgotten_child_main() noexcept {
  try {
    log_error(
        "troupe.nodes: this process is a child started by troupe, but its main() reached troupe "
        "without calling troupe::nodes::child_main(argc, argv) first; add `if (auto rc = "
        "troupe::nodes::child_main(argc, argv)) return *rc;` at the top of main()");
  } catch (...) {
  }
  ::_exit(exit_no_child_main);
}

bool in_child_before_child_main() noexcept {
  return g_phase.load(std::memory_order_acquire) == child_phase::started;
}

void reply_ok(std::uint64_t req, encode_fn enc, const void* value) {
  (void)g_child->link->post(
      frame_kind::reply_ok,
      [&](wire::writer& w) {
        w.fixed(req);
        if (enc != nullptr) enc(w, value);
      },
      true);
}

namespace {
class parent_answer final : public answer_sink {
 public:
  explicit parent_answer(std::uint64_t req) noexcept : req_(req) {}
  void ok(encode_fn enc, const void* value) override {
    try {
      reply_ok(req_, enc, value);
    } catch (const std::exception& e) {
      // Over the frame limit, or a ref that cannot cross: the ask fails.
      reply_error(req_, troupe::errc::invalid_argument, std::string("reply not sent: ") + e.what());
    }
  }
  void error(troupe::errc code, const std::string& what) override { reply_error(req_, code, what); }

 private:
  std::uint64_t req_;
};
}  // namespace

std::shared_ptr<answer_sink> answer_to_parent(std::uint64_t req) {
  return std::make_shared<parent_answer>(req);
}

void reply_error(std::uint64_t req, troupe::errc code, const std::string& what) {
  // A handler may throw a troupe::error with any int as its code; the wire
  // carries only enumerators (the parent refuses others).
  if (!troupe::is_errc(static_cast<int>(code))) code = troupe::errc::handler_threw;
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
  const auto ppid = static_cast<pid_t>(child_arg_u64(argc, argv, "ppid"));
  // Die with the parent (the thread that spawned us lives as long as the
  // parent's I/O runtime), and catch a parent that died before this line.
  // (Armed already before main() by arm_parent_death_early; again here in
  // case /proc could not be read then.)
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (ppid == 0 || ::getppid() != ppid) ::_exit(70);
  if (const std::uint64_t as = child_arg_u64(argc, argv, "as"); as != 0) {
    rlimit rl{as, as};
    ::setrlimit(RLIMIT_AS, &rl);
  }
  if (const std::uint64_t cpu = child_arg_u64(argc, argv, "cpu"); cpu != 0) {
    rlimit rl{cpu, cpu + 1};
    ::setrlimit(RLIMIT_CPU, &rl);
  }
  if (::fcntl(child_fd, F_GETFD) < 0) ::_exit(71);
  ::fcntl(child_fd, F_SETFD, FD_CLOEXEC);  // not inherited by anything this child starts

  g_phase.store(child_phase::running, std::memory_order_release);
  auto& rt = io_runtime::get();  // before `st`, so that it is destroyed after it
  static child_state st;
  g_child = &st;
  troupe::system sys;
  st.sys = &sys;
  link_config cfg;
  cfg.my_role = wire::peer_role::child;
  cfg.peer_role = wire::peer_role::parent;
  cfg.expected_pid = ppid;
  cfg.name = child_arg(argc, argv, "name") + "@parent";
  if (auto v = child_arg_u64(argc, argv, "hb")) {
    cfg.heartbeat_interval = std::chrono::milliseconds(v);
  }
  if (auto v = child_arg_u64(argc, argv, "hbto")) {
    cfg.heartbeat_timeout = std::chrono::milliseconds(v);
  }
  if (auto v = child_arg_u64(argc, argv, "st")) cfg.startup_timeout = std::chrono::milliseconds(v);
  if (auto v = child_arg_u64(argc, argv, "maxframe")) cfg.max_frame = v;
  st.handler_timeout = std::chrono::milliseconds(child_arg_u64(argc, argv, "hto"));
  st.link = std::make_shared<peer_link>(rt.context(), child_fd, cfg);
  st.refs = std::make_shared<link_refs>(
      sys, troupe::location{troupe::location::kind::process, static_cast<int>(ppid), {}}, cfg.name);
  st.refs->attach(st.link);
  st.link->start([](frame_kind k, std::span<const std::byte> body) { on_child_frame(k, body); },
                 [](const std::string& why, bool /*clean*/) {
                   // Graceful only when this side closed after its last frame;
                   // EOF from the parent means it is gone.
                   g_child->refs->close(exit_reason{exit_reason::kind::peer_lost,
                                                    "the connection to the parent closed"});
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
  troupe::detail::trace::finish_before_exit();  // TROUPE_TRACE: this child's file
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(0);
}

}  // namespace troupe::nodes
