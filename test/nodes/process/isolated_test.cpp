// Isolated actors: send/ask across the process boundary, down reasons and
// failed asks when the child crashes, exits, throws, hangs or stops, no
// orphans when the parent is SIGKILLed, the version check of the handshake.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <troupe/actors/task.hpp>
#include <utility>
#include <vector>

#include "internal/peer_link.hpp"
#include "process_fixtures.hpp"

extern char** environ;  // NOLINT

using namespace std::chrono_literals;

namespace {

/// Monitors an address and hands its down reason to the test thread.
class watcher : public troupe::actor<watcher> {
 public:
  explicit watcher(troupe::promise<troupe::exit_reason> p) : p_(std::move(p)) {}
  void on(troupe::actor_addr a) { monitor(a); }
  void on(troupe::down d) { p_.set_value(d.reason); }

 private:
  troupe::promise<troupe::exit_reason> p_;
};

troupe::future<troupe::exit_reason> watch(troupe::system& sys, const troupe::actor_addr& a) {
  troupe::promise<troupe::exit_reason> p;
  auto f = p.get_future();
  sys.spawn<watcher>(std::move(p)).send(a);
  return f;
}

std::string ask_error(troupe::future<int>& f) {
  try {
    (void)f.get(5s);
    return "no error";
  } catch (const troupe::error& e) {
    return std::string(e.what()) + " [" + std::to_string(static_cast<int>(e.value())) + "]";
  }
}

}  // namespace

TEST_CASE("isolated actor runs in a child and answers send and ask", "[nodes][process]") {
  troupe::system sys;
  troupe::ref<pt::Counter> c = sys.spawn<pt::Counter>(troupe::isolated);
  REQUIRE(pt::pid_of(c) != ::getpid());
  for (int i = 0; i < 1000; ++i) REQUIRE(c.send(pt::Inc{2}) == troupe::send_result::ok);
  CHECK(c.ask(pt::Get{}).get(10s) == 2000);
  const std::string echo = c.ask(pt::Echo{"hi"}).get(10s);
  CHECK(echo == "hi from " + std::to_string(pt::pid_of(c)));
  CHECK_FALSE(c.terminated());
}

TEST_CASE("isolated actor crash is reported as down and fails pending asks", "[nodes][process]") {
  troupe::system sys;
  struct expectation {
    pt::crash_kind how;
    const char* text;
  };
  const expectation cases[] = {
      {pt::crash_kind::segv, "killed by signal 11 (SIGSEGV)"},
      {pt::crash_kind::abort, "killed by signal 6 (SIGABRT)"},
      {pt::crash_kind::exit3, "exited with status 3"},
  };
  for (const auto& ex : cases) {
    auto c = sys.spawn<pt::Counter>(troupe::isolated, troupe::nodes::isolated_options{});
    auto down = watch(sys, c);
    const int pid = pt::pid_of(c);
    auto before = c.ask(pt::Get{});
    REQUIRE(before.get(10s) == 0);
    c.send(pt::Crash{ex.how});
    auto after = c.ask(pt::Get{});  // queued behind the crash: never answered
    const std::string err = ask_error(after);
    INFO(err);
    CHECK(err.find("peer lost") != std::string::npos);
    CHECK(err.find(ex.text) != std::string::npos);
    CHECK(err.find("[5]") != std::string::npos);  // errc::peer_lost
    const troupe::exit_reason why = down.get(5s);
    INFO(why.to_string());
    CHECK(why.code == troupe::exit_reason::kind::peer_lost);
    CHECK(why.to_string().find("peer lost: child " + std::to_string(pid) + " " + ex.text) == 0);
    CHECK(c.terminated());
    CHECK(c.location().pid == 0);  // gone: its pid may be reused
    // After the loss, asks fail at once and sends are dead letters.
    auto late = c.ask(pt::Get{});
    CHECK(ask_error(late).find("peer lost") != std::string::npos);
    CHECK(c.send(pt::Inc{1}) == troupe::send_result::closed);
  }
}

TEST_CASE("an ask made after the connection closed fails with the child's exit cause",
          "[nodes][process]") {
  // The link closes (EOF) before the child is reaped; an ask made in
  // between waits for the reap and fails with what happened to the child
  // (it failed at once as a bare "peer lost" before).
  troupe::system sys;
  auto c = sys.spawn<pt::Counter>(troupe::isolated);
  const int pid = pt::pid_of(c);
  REQUIRE(c.ask(pt::Get{}).get(10s) == 0);
  REQUIRE(c.send(pt::Crash{pt::crash_kind::hangup}) == troupe::send_result::ok);
  // A send is refused as closed once the parent has read the EOF.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (c.send(pt::Inc{0}) != troupe::send_result::closed &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(c.send(pt::Inc{0}) == troupe::send_result::closed);
  auto f = c.ask(pt::Get{});
  const std::string err = ask_error(f);
  INFO(err);
  CHECK(err.find("[5]") != std::string::npos);  // errc::peer_lost
  // Stopped, it is killed after its grace; its main thread may also have
  // seen the EOF and exited before the stop.
  const std::string child = "peer lost: child " + std::to_string(pid) + " ";
  CHECK((err.find(child + "killed by signal 9 (SIGKILL) after: did not exit after closing "
                          "its connection") != std::string::npos ||
         err.find(child + "exited with status 0") != std::string::npos));
  CHECK(pt::wait_gone(c, 10s));
}

TEST_CASE("a handler over handler_timeout is found, killed and named", "[nodes][process]") {
  // The child's I/O thread goes on answering heartbeats; its actor spins.
  troupe::system sys;
  troupe::nodes::isolated_options opts;
  opts.handler_timeout = 500ms;
  auto c = sys.spawn<pt::Counter>(troupe::isolated, opts);
  auto down = watch(sys, c);
  REQUIRE(c.ask(pt::Get{}).get(10s) == 0);
  REQUIRE(c.send(pt::Crash{pt::crash_kind::spin}) == troupe::send_result::ok);
  auto behind = c.ask(pt::Get{});
  std::string err;
  try {
    (void)behind.get(60s);
    err = "no error";
  } catch (const troupe::error& e) {
    err = std::string(e.what()) + " [" + std::to_string(static_cast<int>(e.value())) + "]";
  }
  INFO(err);
  CHECK(err.find("[5]") != std::string::npos);  // errc::peer_lost
  CHECK(err.find("killed by signal 9 (SIGKILL) after: hung: no handler finished for ") !=
        std::string::npos);
  CHECK(err.find("(handler_timeout 500 ms), ") != std::string::npos);
  CHECK(err.find(" message(s) waiting, the first pt.crash") != std::string::npos);
  const troupe::exit_reason why = down.get(10s);
  INFO(why.to_string());
  CHECK(why.code == troupe::exit_reason::kind::peer_lost);
  CHECK(why.what.find("hung: no handler finished for ") != std::string::npos);
}

TEST_CASE("an ask whose handler hangs fails, and handlers under the bound do not",
          "[nodes][process]") {
  troupe::system sys;
  troupe::nodes::isolated_options opts;
  opts.handler_timeout = 2000ms;
  auto c = sys.spawn<pt::Counter>(troupe::isolated, opts);
  // Fifteen naps of 200 ms: busy for 3 s in all, each handler well under
  // the bound; the actor is never declared hung.
  for (int i = 0; i < 14; ++i) REQUIRE(c.send(pt::Nap{200}) == troupe::send_result::ok);
  c.ask(pt::Nap{200}).get(60s);
  CHECK(c.ask(pt::Get{}).get(10s) == 0);
  CHECK_FALSE(c.terminated());
  // One nap of 60 s is a hang.
  auto hung = c.ask(pt::Nap{60000});
  try {
    hung.get(60s);
    FAIL("the hung ask completed");
  } catch (const troupe::error& e) {
    INFO(e.what());
    CHECK(e.value() == troupe::errc::peer_lost);
    CHECK(std::string(e.what()).find("the first pt.nap") != std::string::npos);
  }
  CHECK(pt::wait_gone(c, 10s));
}

TEST_CASE("an exception in an isolated handler fails the ask and ends the child",
          "[nodes][process]") {
  troupe::system sys;
  auto c = troupe::spawn_isolated<pt::Counter>(sys);
  auto down = watch(sys, c);
  auto f = c.ask(pt::Crash{pt::crash_kind::throw_error});
  try {
    f.get(10s);
    FAIL("no error");
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::handler_threw);
  }
  const troupe::exit_reason why = down.get(5s);
  INFO(why.to_string());
  CHECK(why.code == troupe::exit_reason::kind::exception);
  CHECK(why.what.find("boom") != std::string::npos);
}

TEST_CASE("an error reply never reaches a future as success", "[nodes][process]") {
  troupe::system sys;
  auto c = troupe::spawn_isolated<pt::Counter>(sys);
  // The handler throws a troupe::error with code 0: the reply still fails.
  auto f = c.ask(pt::Crash{pt::crash_kind::error_code0});
  try {
    f.get(10s);
    FAIL("an error reply was taken for success");
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::handler_threw);
    CHECK(std::string(e.what()).find("code zero") != std::string::npos);
  }
}

TEST_CASE("a heartbeat that carries bytes closes its link, naming it", "[nodes][process]") {
  using namespace troupe::nodes::detail;
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  auto& ctx = io_runtime::get().context();
  link_config a;
  a.my_role = troupe::wire::peer_role::parent;
  a.peer_role = troupe::wire::peer_role::child;
  a.name = "sender";
  link_config b;
  b.my_role = troupe::wire::peer_role::child;
  b.peer_role = troupe::wire::peer_role::parent;
  b.name = "receiver";
  auto la = std::make_shared<peer_link>(ctx, sv[0], a);
  auto lb = std::make_shared<peer_link>(ctx, sv[1], b);
  auto why_b = std::make_shared<std::promise<std::string>>();
  la->start([](frame_kind, std::span<const std::byte>) {}, [](const std::string&, bool) {});
  lb->start([](frame_kind, std::span<const std::byte>) {},
            [why_b](const std::string& why, bool) { why_b->set_value(why); });
  (void)la->post(
      frame_kind::heartbeat, [](troupe::wire::writer& w) { w.byte(7); }, true);
  auto f = why_b->get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  const std::string why = f.get();
  INFO(why);
  CHECK(why.find("a heartbeat carrying 1 byte(s)") != std::string::npos);
  la->close("test over");
}

TEST_CASE("stop ends the child after its queued messages", "[nodes][process]") {
  troupe::system sys;
  auto c = troupe::spawn_isolated<pt::Counter>(sys);
  auto down = watch(sys, c);
  for (int i = 0; i < 100; ++i) c.send(pt::Inc{1});
  auto n = c.ask(pt::Get{});
  c.stop();
  CHECK(n.get(10s) == 100);
  CHECK(pt::wait_gone(c, 10s));
  const troupe::exit_reason why = down.get(5s);
  CHECK(why.code == troupe::exit_reason::kind::normal);
}

TEST_CASE("a graceful stop answers every ask the child replied to", "[nodes][process]") {
  // The parent's I/O thread is held up until the child has replied to every
  // ask, closed its connection and exited: its pidfd and its replies, all
  // unread in the socket, are ready at once. Every reply must complete its
  // ask (reaping first failed them as peer_lost).
  using troupe::nodes::detail::io_runtime;
  troupe::system sys;
  troupe::nodes::isolated_options opts;
  opts.heartbeat_timeout = 60s;  // the held-up I/O thread sends none
  for (int round = 0; round < 3; ++round) {
    auto c = sys.spawn<pt::Counter>(troupe::isolated, opts);
    REQUIRE(c.ask(pt::Get{}).get(30s) == 0);
    std::vector<troupe::future<std::string>> replies;
    // 24 replies of 5 KB: more than one read of the parent's (64 KiB), less
    // than the socket's buffer (the default 208 KiB, with each write's
    // overhead), so the child can write them all while nobody reads.
    for (int i = 0; i < 24; ++i) replies.push_back(c.ask(pt::Echo{std::string(5000, 'x')}));
    c.stop();  // queued for the I/O thread, ahead of the hold-up
    const int pid = pt::pid_of(c);
    std::promise<bool> exited;
    // At most 3 s: the stop frame may still wait in the link's queue
    // behind a write in flight (then the child cannot exit while held, and
    // this round only checks the replies once the hold ends).
    asio::post(io_runtime::get().context(), [pid, &exited] {
      const auto deadline = std::chrono::steady_clock::now() + 3s;
      bool gone = false;
      while (!gone && std::chrono::steady_clock::now() < deadline) {
        siginfo_t si{};
        // WNOWAIT: looks without reaping (the pidfd's reaper does that).
        gone = ::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               si.si_pid == pid;
        if (!gone) std::this_thread::sleep_for(1ms);
      }
      exited.set_value(gone);
    });
    const bool held_until_exit = exited.get_future().get();
    INFO("the child exited while the I/O thread was held: " << held_until_exit);
    for (auto& f : replies) {
      std::string got;
      try {
        got = f.get(30s);
      } catch (const troupe::error& e) {
        got = e.what();
      }
      INFO(got.substr(0, 200));
      REQUIRE(got.rfind(std::string(5000, 'x') + " from ", 0) == 0);
    }
    CHECK(pt::wait_gone(c, 30s));
  }
}

TEST_CASE("a child inherits no descriptor but its own connection", "[nodes][process]") {
  // Earlier children's pidfds and sockets, and the parent's own, are all
  // close-on-exec: the last child sees only its stdio, its connection on
  // fd 3 and what its own runtime opened (no pidfd, one socket).
  troupe::system sys;
  std::vector<troupe::ref<pt::Counter>> children;
  for (int i = 0; i < 3; ++i) children.push_back(troupe::spawn_isolated<pt::Counter>(sys));
  const std::string fds = children.back().ask(pt::Fds{}).get(30s);
  INFO(fds);
  std::size_t sockets = 0;
  std::size_t pidfds = 0;
  bool fd3_socket = false;
  std::size_t pos = 0;
  while (pos < fds.size()) {
    const std::size_t end = fds.find('\n', pos);
    const std::string line = fds.substr(pos, end - pos);
    pos = end + 1;
    if (line.find("socket:") != std::string::npos) {
      ++sockets;
      if (line.rfind("3 -> ", 0) == 0) fd3_socket = true;
    }
    if (line.find("pidfd") != std::string::npos) ++pidfds;
  }
  CHECK(pidfds == 0);
  CHECK(sockets == 1);
  CHECK(fd3_socket);
}

TEST_CASE("a blocking get in a continuation of an ask is refused", "[nodes][process]") {
  troupe::system sys;
  auto c = troupe::spawn_isolated<pt::Counter>(sys);
  auto inner = std::make_shared<troupe::future<int>>();
  auto outer = c.ask(pt::Get{}).then([c, inner](troupe::future<int> f) {
    (void)f.get();  // ready: allowed
    *inner = c.ask(pt::Get{});
    try {
      return "waited: " + std::to_string(inner->get());  // would wait for a reply
    } catch (const troupe::error& e) {
      return std::string(e.value() == troupe::errc::would_block_worker ? "refused" : e.what());
    }
  });
  CHECK(outer.get(30s) == "refused");
  CHECK(inner->get(30s) == 0);  // the backend lives on
  CHECK(c.ask(pt::Get{}).get(30s) == 0);
}

TEST_CASE("a slow continuation does not stall heartbeats", "[nodes][process]") {
  // The continuation sleeps for longer than the heartbeat timeout; the
  // child is not declared lost meanwhile, because the continuation does not
  // run on the I/O thread.
  troupe::system sys;
  troupe::nodes::isolated_options opts;
  opts.heartbeat_timeout = 300ms;
  opts.heartbeat_interval = 50ms;
  auto c = troupe::spawn_isolated<pt::Counter>(sys, opts);
  auto slow = c.ask(pt::Get{}).then([](troupe::future<int> f) {
    std::this_thread::sleep_for(1500ms);
    return f.get();
  });
  CHECK(slow.get(30s) == 0);
  CHECK(c.ask(pt::Get{}).get(30s) == 0);
  CHECK_FALSE(c.terminated());
}

namespace {
/// What code written against ref<A> does, wherever A lives.
int add_and_get(const troupe::ref<pt::Counter>& r, int by) {
  r.send(pt::Inc{by});
  return r.ask(pt::Get{}).get(30s);
}
}  // namespace

TEST_CASE("a pooled and an isolated actor are the same ref<A>", "[nodes][process]") {
  troupe::system sys;
  troupe::ref<pt::Counter> pooled = sys.spawn<pt::Counter>();
  troupe::ref<pt::Counter> isolated = sys.spawn<pt::Counter>(troupe::isolated);
  CHECK(add_and_get(pooled, 2) == 2);
  CHECK(add_and_get(isolated, 3) == 3);
  CHECK(pooled.location().where == troupe::location::kind::local);
  CHECK(pooled.location().pid == static_cast<int>(::getpid()));
  CHECK(isolated.location().where == troupe::location::kind::process);
  CHECK(isolated.location().pid != static_cast<int>(::getpid()));
  CHECK(isolated.location().to_string() ==
        "child process " + std::to_string(isolated.location().pid));
  // An actor_addr of it converts back to the same ref, with its type checked.
  const troupe::actor_addr a = isolated;
  CHECK(a.is<pt::Counter>());
  CHECK(a.as<pt::Counter>() == isolated);
  CHECK(std::string(a.type_name()) == "pt::Counter");
  CHECK(isolated.try_send(pt::Inc{1}) == troupe::send_result::ok);
  CHECK(isolated.ask(pt::Get{}).get(30s) == 4);
  isolated.stop();
  CHECK(pt::wait_gone(isolated, 30s));
  CHECK(isolated.send(pt::Inc{1}) == troupe::send_result::closed);
  CHECK(isolated.try_send(pt::Inc{1}) == troupe::send_result::closed);
}

namespace {
struct LinkTo {
  troupe::actor_addr who;
};
struct Fail {};
/// Links itself to an actor and reports the exit signal it traps; fails on Fail.
class linker : public troupe::actor<linker> {
 public:
  linker(bool trap, troupe::promise<troupe::exit_reason> p) : trap_(trap), p_(std::move(p)) {}
  void on_start() {
    if (trap_) trap_exit(true);
  }
  void on(LinkTo l) { link(l.who); }
  void on(Fail /*unused*/) { throw std::runtime_error("linker fails"); }
  void on(troupe::exit_msg e) { p_.set_value(e.reason); }

 private:
  bool trap_;
  troupe::promise<troupe::exit_reason> p_;
};
}  // namespace

TEST_CASE("links cross the process boundary both ways", "[nodes][process]") {
  troupe::system sys;
  // The child dies: the linked local actor gets one exit signal with the reason.
  {
    auto c = sys.spawn<pt::Counter>(troupe::isolated);
    REQUIRE(c.ask(pt::Get{}).get(30s) == 0);
    troupe::promise<troupe::exit_reason> p;
    auto signal = p.get_future();
    auto l = sys.spawn<linker>(true, std::move(p));
    l.ask(LinkTo{c}).get(30s);
    c.send(pt::Crash{pt::crash_kind::segv});
    const troupe::exit_reason why = signal.get(30s);
    INFO(why.to_string());
    CHECK(why.code == troupe::exit_reason::kind::peer_lost);
    CHECK(why.what.find("SIGSEGV") != std::string::npos);
  }
  // The local actor fails: the linked child is killed, and its down names the link.
  {
    auto c = sys.spawn<pt::Counter>(troupe::isolated);
    REQUIRE(c.ask(pt::Get{}).get(30s) == 0);
    auto down = watch(sys, c);
    troupe::promise<troupe::exit_reason> unused;
    auto l = sys.spawn<linker>(false, std::move(unused));
    l.ask(LinkTo{c}).get(30s);
    l.send(Fail{});
    const troupe::exit_reason why = down.get(30s);
    INFO(why.to_string());
    CHECK(why.code == troupe::exit_reason::kind::peer_lost);
    CHECK(why.what.find("SIGKILL") != std::string::npos);
    CHECK(why.what.find("linked actor") != std::string::npos);
    CHECK(why.what.find("linker fails") != std::string::npos);
    CHECK(pt::wait_gone(c, 30s));
  }
}

TEST_CASE("an isolated actor is constructed from encoded arguments", "[nodes][process]") {
  troupe::system sys;
  auto g = sys.spawn<pt::Greeter>(troupe::isolated, std::string("hello"), 2, pt::Style{"<", ">"});
  CHECK(g.ask(pt::Echo{"you"}).get(30s) == "<hello you><hello you>");
  troupe::nodes::isolated_options opts;
  opts.heartbeat_interval = 50ms;
  const std::string name = "hi";
  auto h = troupe::spawn_isolated<pt::Greeter>(sys, opts, name, 1, pt::Style{});
  CHECK(h.ask(pt::Echo{"there"}).get(30s) == "hi there");
  CHECK(pt::pid_of(g) != pt::pid_of(h));
}

TEST_CASE("a constructor that throws in the child ends the actor with its reason",
          "[nodes][process]") {
  troupe::system sys;
  auto g = sys.spawn<pt::Greeter>(troupe::isolated, std::string("x"), -1, pt::Style{});
  auto down = watch(sys, g);
  const troupe::exit_reason why = down.get(30s);
  INFO(why.to_string());
  CHECK(why.code == troupe::exit_reason::kind::exception);
  CHECK(why.what == "std::invalid_argument: times < 0 (in constructor)");
  auto f = g.ask(pt::Echo{"late"});
  try {
    (void)f.get(30s);
    FAIL("answered");
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::peer_lost);
  }
}

namespace {
/// An isolated Counter with a 64 KiB send queue, SIGSTOPped: nothing
/// drains its connection. Returns its ref and pid.
std::pair<troupe::ref<pt::Counter>, int> stopped_counter(troupe::system& sys) {
  troupe::nodes::isolated_options opts;
  opts.send_queue_bytes = std::size_t{64} << 10;
  opts.heartbeat_timeout = 120s;  // the stop must not look like a hang
  auto c = sys.spawn<pt::Counter>(troupe::isolated, opts);
  REQUIRE(c.ask(pt::Get{}).get(30s) == 0);
  const int pid = pt::pid_of(c);
  REQUIRE(::kill(pid, SIGSTOP) == 0);
  return {c, pid};
}
}  // namespace

TEST_CASE("try_send to an isolated actor refuses a full connection instead of waiting",
          "[nodes][process]") {
  // The child is stopped, so nothing drains its connection: the socket
  // buffer and then the send queue fill, and try_send says full.
  troupe::system sys;
  const auto [c, pid] = stopped_counter(sys);
  pt::Blob blob;
  blob.data.resize(std::size_t{16} << 10, std::byte{1});
  troupe::send_result r = troupe::send_result::ok;
  int sent = 0;
  while (sent < 100000 && (r = c.try_send(blob)) == troupe::send_result::ok) ++sent;
  INFO("sent " << sent);
  CHECK(r == troupe::send_result::full);
  REQUIRE(::kill(pid, SIGCONT) == 0);
  // Everything accepted arrives; the child lives on.
  CHECK(c.ask(pt::Blob{}).get(30s) == static_cast<std::size_t>(sent) * blob.data.size());
}

namespace {
/// A plain handler on a pool worker: sends blobs until one is refused.
struct Flood {
  troupe::ref<pt::Counter> to;
  int max;
};
class flooder : public troupe::actor<flooder> {
 public:
  std::pair<int, troupe::send_result> on(Flood f) {
    pt::Blob blob;
    blob.data.resize(std::size_t{16} << 10, std::byte{2});
    troupe::send_result r = troupe::send_result::ok;
    int sent = 0;
    while (sent < f.max && (r = f.to.send(blob)) == troupe::send_result::ok) ++sent;
    return {sent, r};
  }
};
}  // namespace

TEST_CASE("co_await send to an isolated actor suspends on a full connection", "[nodes][process]") {
  // The child is stopped, so nothing drains its connection. A task's
  // co_await send suspends (its worker goes on) until there is room; a plain
  // handler on a pool worker is refused with full; every accepted blob
  // arrives once the child runs again.
  troupe::system sys(troupe::system_config{2});
  const auto stopped = stopped_counter(sys);
  const troupe::ref<pt::Counter> c = stopped.first;
  const int pid = stopped.second;
  constexpr int n = 512;  // 8 MiB: more than the queue and any socket buffer
  std::atomic<int> sent{0};
  auto h = sys.go([&sent, c]() -> troupe::task<int> {
    pt::Blob blob;
    blob.data.resize(std::size_t{16} << 10, std::byte{1});
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      if (co_await c.send(blob) == troupe::send_result::ok) ++ok;
      sent.fetch_add(1);
    }
    co_return ok;
  });
  // The task stops advancing while the child is stopped: it is suspended,
  // not refused (a refused send would let it run to n at once).
  int before = -1;
  while (sent.load() != before) {
    before = sent.load();
    std::this_thread::sleep_for(200ms);
  }
  CHECK(before < n);
  // Meanwhile a plain handler on a pool worker is refused, not blocked.
  auto fl = sys.spawn<flooder>();
  const auto [flooded, refused] = fl.ask(Flood{c, n}).get(30s);
  CHECK(refused == troupe::send_result::full);
  REQUIRE(::kill(pid, SIGCONT) == 0);
  CHECK(h.get(60s) == n);
  const std::size_t blob = std::size_t{16} << 10;
  CHECK(c.ask(pt::Blob{}).get(60s) == static_cast<std::size_t>(n + flooded) * blob);
}

TEST_CASE("a co_await send parked on a full connection ends closed when the child dies",
          "[nodes][process]") {
  troupe::system sys(troupe::system_config{2});
  const auto stopped = stopped_counter(sys);
  const troupe::ref<pt::Counter> c = stopped.first;
  std::atomic<int> sent{0};
  auto h = sys.go([&sent, c]() -> troupe::task<troupe::send_result> {
    pt::Blob blob;
    blob.data.resize(std::size_t{16} << 10, std::byte{1});
    for (;;) {
      const troupe::send_result r = co_await c.send(blob);
      if (r != troupe::send_result::ok) co_return r;
      sent.fetch_add(1);
    }
  });
  int before = -1;  // wait until the task is parked (it stops advancing)
  while (sent.load() != before) {
    before = sent.load();
    std::this_thread::sleep_for(200ms);
  }
  const std::uint64_t dead = sys.stats().dead_letters;
  REQUIRE(::kill(stopped.second, SIGKILL) == 0);
  CHECK(h.get(60s) == troupe::send_result::closed);
  CHECK(pt::wait_gone(c, 30s));
  // The parked message is counted like a send refused closed at once.
  CHECK(sys.stats().dead_letters >= dead + 1);
}

TEST_CASE("a message type without TROUPE_MESSAGE cannot cross and says why", "[nodes][process]") {
  troupe::system sys;
  auto c = sys.spawn<pt::Counter>(troupe::isolated);
  auto local = sys.spawn<pt::Counter>();
  CHECK(local.ask(pt::Unnamed{7}).get(30s) == 7);  // fine in-process
  const auto names = [](const troupe::error& e) {
    const std::string w = e.what();
    return e.value() == troupe::errc::invalid_argument &&
           w.find("pt::Unnamed") != std::string::npos &&
           w.find("no TROUPE_MESSAGE(pt::Unnamed") != std::string::npos;
  };
  try {
    (void)c.send(pt::Unnamed{1});
    FAIL("sent");
  } catch (const troupe::error& e) {
    INFO(e.what());
    CHECK(names(e));
  }
  try {
    (void)c.ask(pt::Unnamed{1});
    FAIL("asked");
  } catch (const troupe::error& e) {
    INFO(e.what());
    CHECK(names(e));
  }
  CHECK(c.ask(pt::Get{}).get(30s) == 0);  // the child is unharmed
}

TEST_CASE("an ask whose reply type has no codec is refused, its send crosses", "[nodes][process]") {
  troupe::system sys;
  auto c = sys.spawn<pt::Counter>(troupe::isolated);
  try {
    (void)c.ask(pt::AskOpaque{1});
    FAIL("asked");
  } catch (const troupe::error& e) {
    const std::string w = e.what();
    INFO(w);
    CHECK(e.value() == troupe::errc::invalid_argument);
    CHECK(w.find("reply type pt::Opaque has no codec") != std::string::npos);
  }
  // The message itself crosses: a send is handled there (the reply dropped).
  CHECK(c.send(pt::AskOpaque{4}) == troupe::send_result::ok);
  CHECK(c.send(pt::AskOpaque{5}) == troupe::send_result::ok);
  CHECK(c.ask(pt::Get{}).get(30s) == 9);
}

TEST_CASE("an isolated actor outlives its refs like a local one", "[nodes][process]") {
  troupe::system sys;
  troupe::actor_addr a;
  int pid = 0;
  {
    auto c = sys.spawn<pt::Counter>(troupe::isolated);
    c.send(pt::Inc{5});
    pid = pt::pid_of(c);
    a = c;
  }
  // No ref left (the address does not send): the child runs on.
  std::this_thread::sleep_for(200ms);
  CHECK(::kill(pid, 0) == 0);
  auto again = a.as<pt::Counter>();
  CHECK(again.ask(pt::Get{}).get(30s) == 5);
  again.kill();
  CHECK(pt::wait_gone(again, 30s));
}

TEST_CASE("a system's end stops a busy child, killing it after its grace", "[nodes][process]") {
  // The stop is sent at shutdown; the child spins in a handler and never
  // handles it, so the port kills it after 1 s; ~system() returns after the
  // reap.
  int pid = 0;
  troupe::ref<pt::Counter> c;
  {
    troupe::system sys;
    c = sys.spawn<pt::Counter>(troupe::isolated);
    pid = pt::pid_of(c);
    REQUIRE(c.ask(pt::Get{}).get(30s) == 0);
    c.send(pt::Crash{pt::crash_kind::spin});
    std::this_thread::sleep_for(100ms);
  }
  CHECK(pt::no_children_left());
  CHECK(::kill(pid, 0) == -1);
  CHECK(c.terminated());
}

TEST_CASE("every bound of isolated_options reaches the child", "[nodes][process]") {
  troupe::system sys;
  troupe::nodes::isolated_options opts;
  opts.heartbeat_interval = 123ms;
  opts.heartbeat_timeout = 4321ms;
  opts.startup_timeout = 12345ms;
  auto c = troupe::spawn_isolated<pt::Counter>(sys, opts);
  const std::string args = c.ask(pt::Args{}).get(30s);
  INFO(args);
  CHECK(args.find(" hb=123 ") != std::string::npos);
  CHECK(args.find(" hbto=4321 ") != std::string::npos);
  CHECK(args.find(" st=12345 ") != std::string::npos);
  // The default heartbeat timeout leaves room for a loaded machine.
  CHECK(troupe::nodes::isolated_options{}.heartbeat_timeout >= 5s);
}

TEST_CASE("a SIGSTOPped child is declared down by missed heartbeats", "[nodes][process]") {
  troupe::system sys;
  troupe::nodes::isolated_options opts;  // the default heartbeat bounds
  auto c = troupe::spawn_isolated<pt::Counter>(sys, opts);
  auto down = watch(sys, c);
  REQUIRE(c.ask(pt::Get{}).get(10s) == 0);
  auto pending = c.ask(pt::Get{});
  const int pid = pt::pid_of(c);
  ::kill(pid, SIGSTOP);
  // Declared lost after heartbeat_timeout; the bound here is only generous
  // (a loaded machine is slow), no speed is asserted.
  REQUIRE(pt::wait_gone(c, opts.heartbeat_timeout + 30s));
  const troupe::exit_reason why = down.get(30s);
  INFO(why.to_string());
  CHECK(why.code == troupe::exit_reason::kind::peer_lost);
  CHECK(why.what.find("missed heartbeats") != std::string::npos);
  CHECK(why.what.find("SIGKILL") != std::string::npos);
  // pending either got its answer before the stop or failed: never hangs.
  try {
    (void)pending.get(30s);
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::peer_lost);
  }
  // The old incarnation was killed (not taken back): SIGCONT finds no process.
  CHECK(::kill(pid, SIGCONT) == -1);
}

TEST_CASE("a child over its CPU limit is killed and reported", "[nodes][process]") {
  troupe::system sys;
  troupe::nodes::isolated_options opts;
  opts.limit_cpu_seconds = 1;
  auto c = troupe::spawn_isolated<pt::Counter>(sys, opts);
  auto down = watch(sys, c);
  c.send(pt::Crash{pt::crash_kind::spin});
  REQUIRE(pt::wait_gone(c, 20s));
  const troupe::exit_reason why = down.get(5s);
  INFO(why.to_string());
  CHECK(why.code == troupe::exit_reason::kind::peer_lost);
  CHECK(why.what.find("SIGXCPU") != std::string::npos);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PT_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PT_SANITIZED 1
#endif
// The sanitizers reserve terabytes of address space: no RLIMIT_AS under them.
#ifndef PT_SANITIZED
TEST_CASE("a child over its address-space limit fails and is reported", "[nodes][process]") {
  troupe::system sys;
  troupe::nodes::isolated_options opts;
  opts.limit_address_space = std::uint64_t{1} << 30;
  auto c = troupe::spawn_isolated<pt::Counter>(sys, opts);
  auto down = watch(sys, c);
  auto f = c.ask(pt::Crash{pt::crash_kind::alloc});
  try {
    f.get(10s);
    FAIL("no error");
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::handler_threw);
  }
  const troupe::exit_reason why = down.get(5s);
  INFO(why.to_string());
  CHECK(why.code == troupe::exit_reason::kind::exception);
  CHECK(why.what.find("bad_alloc") != std::string::npos);
}
#endif

TEST_CASE("children exit when the parent is SIGKILLed", "[nodes][process]") {
  // Orphans are re-parented to this process, so it can reap and time them.
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  const int wfd = ::fcntl(p[1], F_DUPFD, 10);  // inherited (no CLOEXEC)
  std::string fd_arg = std::to_string(wfd);
  std::string self = "/proc/self/exe";
  std::string mode = "--orphan-parent";
  char* argv[] = {self.data(), mode.data(), fd_arg.data(), nullptr};
  pid_t parent = 0;
  REQUIRE(::posix_spawn(&parent, "/proc/self/exe", nullptr, nullptr, argv, environ) == 0);
  ::close(wfd);
  ::close(p[1]);
  std::string line;
  char ch = 0;
  while (::read(p[0], &ch, 1) == 1 && ch != '\n') line += ch;
  ::close(p[0]);
  REQUIRE_FALSE(line.empty());
  const pid_t child = std::stoi(line);
  ::kill(parent, SIGKILL);
  int st = 0;
  REQUIRE(::waitpid(parent, &st, 0) == parent);
  const auto t0 = std::chrono::steady_clock::now();
  bool gone = false;
  // PR_SET_PDEATHSIG kills them at once; the bound is generous for a
  // loaded machine.
  while (std::chrono::steady_clock::now() - t0 < 30s) {
    if (::waitpid(child, &st, WNOHANG) == child) {
      gone = true;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  if (!gone) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &st, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  CHECK(gone);
}

TEST_CASE("a program without child_main fails the spawn and starts no grandchild",
          "[nodes][process]") {
  // The helper program spawns an isolated actor, asks it, and prints the
  // ask's error; its children run the same main() (no child_main()).
  char log_path[] = "/tmp/troupe-forget-XXXXXX";
  const int log_fd = ::mkstemp(log_path);
  REQUIRE(log_fd >= 0);
  ::close(log_fd);
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  env_store.emplace_back("PT_FORGET_CHILD_MAIN=1");
  env_store.emplace_back(std::string("PT_FORGET_LOG=") + log_path);
  std::vector<char*> env;
  for (auto& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  std::string self = "/proc/self/exe";
  char* argv[] = {self.data(), nullptr};
  pid_t prog = 0;
  REQUIRE(::posix_spawn(&prog, "/proc/self/exe", &fa, nullptr, argv, env.data()) == 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  std::string printed;
  char buf[512];
  for (ssize_t n = 0; (n = ::read(out[0], buf, sizeof buf)) > 0;) {
    printed.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int st = 0;
  REQUIRE(::waitpid(prog, &st, 0) == prog);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
  INFO(printed);
  CHECK(printed.find("[5]") != std::string::npos);  // errc::peer_lost
  CHECK(printed.find("exited with status 72: its program does not call "
                     "troupe::nodes::child_main(argc, argv) at the top of main()") !=
        std::string::npos);
  // main() ran in the program and in its one child, which was stopped at
  // its troupe::system: nothing further.
  std::string ran;
  if (FILE* f = std::fopen(log_path, "r")) {
    for (int ch = std::fgetc(f); ch != EOF; ch = std::fgetc(f)) ran += static_cast<char>(ch);
    std::fclose(f);
  }
  ::unlink(log_path);
  CHECK(std::count(ran.begin(), ran.end(), '\n') == 2);
}

TEST_CASE("a handshake of another protocol version is refused", "[nodes][process]") {
  using namespace troupe::nodes::detail;
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  auto& ctx = io_runtime::get().context();
  link_config a;
  a.my_role = troupe::wire::peer_role::parent;
  a.peer_role = troupe::wire::peer_role::child;
  a.version = 2;
  a.name = "v2";
  link_config b;
  b.my_role = troupe::wire::peer_role::child;
  b.peer_role = troupe::wire::peer_role::parent;
  b.name = "v1";
  auto la = std::make_shared<peer_link>(ctx, sv[0], a);
  auto lb = std::make_shared<peer_link>(ctx, sv[1], b);
  std::promise<std::string> why_b;
  la->start([](frame_kind, std::span<const std::byte>) {}, [](const std::string&, bool) {});
  lb->start([](frame_kind, std::span<const std::byte>) {},
            [&](const std::string& why, bool) { why_b.set_value(why); });
  auto f = why_b.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  const std::string why = f.get();
  INFO(why);
  CHECK(why.find("handshake refused") != std::string::npos);
  CHECK(why.find("peer speaks protocol version 2, this build speaks 1") != std::string::npos);
  la->close("test over");
}

TEST_CASE("an isolated ask larger than a frame fails and leaves nothing pending",
          "[nodes][process]") {
  troupe::system sys;
  troupe::nodes::isolated_options opts;
  opts.max_frame = std::size_t{64} << 10;
  auto c = troupe::spawn_isolated<pt::Counter>(sys, opts);
  for (int i = 0; i < 3; ++i) {
    auto f = c.ask(pt::Blob{std::vector<std::byte>(std::size_t{1} << 20)});
    try {
      (void)f.get(30s);
      FAIL("an ask over the frame limit succeeded");
    } catch (const troupe::error& e) {
      INFO(e.what());
      CHECK(e.value() == troupe::errc::invalid_argument);
      CHECK(std::string(e.what()).find("message not sent") != std::string::npos);
    }
  }
  // The link and the child are fine, and a graceful stop has nothing left
  // to wait for.
  CHECK(c.ask(pt::Blob{std::vector<std::byte>(16)}).get(30s) == 16);
  auto down = watch(sys, c);
  c.stop();
  CHECK(down.get(30s).code == troupe::exit_reason::kind::normal);
}
