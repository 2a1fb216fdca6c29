// Stress tests of the process backend: children killed at random moments
// while 1 MiB frames are in flight, and 10,000 mutated frames thrown at a
// live node while a well-behaved peer keeps talking to it.
//
// Iterations: TROUPE_PROCESS_ITERS overrides; the default is the full count
// in release builds and a tenth under the sanitizers.

#include <dirent.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "internal/peer_link.hpp"
#include "process_fixtures.hpp"

using namespace std::chrono_literals;

namespace {

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PT_STRESS_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PT_STRESS_SANITIZED 1
#endif

long iterations(long full) {
  if (const char* e = std::getenv("TROUPE_PROCESS_ITERS")) {  // NOLINT(concurrency-mt-unsafe)
    const long v = std::strtol(e, nullptr, 10);
    if (v > 0) return v;
  }
#ifdef PT_STRESS_SANITIZED
  return std::max(1L, full / 10);
#else
  return full;
#endif
}

}  // namespace

TEST_CASE("children killed while receiving 1 MiB frames", "[nodes][process][stress]") {
  troupe::system sys;
  const long iters = iterations(1000);
  {  // warm-up: the I/O thread's epoll, eventfd and timerfd are made on first use
    auto warm = troupe::spawn_isolated<pt::Counter>(sys);
    REQUIRE(warm.ask(pt::Get{}).get(30s) == 0);
    warm.stop();
    REQUIRE(pt::wait_gone(warm, 30s));
  }
  // The I/O thread drops its last reference to a reaped child's state (and
  // its pidfd) just after the down: let it settle.
  std::this_thread::sleep_for(200ms);
  const std::size_t fds_before = pt::fd_count();
  const std::string fds_before_list = pt::fd_list();
  pt::Blob blob;
  blob.data.resize(std::size_t{1} << 20, std::byte{0x5A});
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_us(0, 3000);
  long bad_results = 0;
  long answered = 0;
  long failed = 0;
  for (long i = 0; i < iters; ++i) {
    auto c = troupe::spawn_isolated<pt::Counter>(sys);
    REQUIRE(c.ask(pt::Get{}).get(30s) == 0);  // the child is up
    std::vector<troupe::future<std::size_t>> asks;
    for (int k = 0; k < 4; ++k) asks.push_back(c.ask(blob));
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(pt::pid_of(c), SIGKILL);
    // A generous bound, no speed: a loaded machine may take long, only a
    // down that never comes fails.
    REQUIRE(pt::wait_gone(c, 30s));
    for (auto& f : asks) {
      try {
        const std::size_t total = f.get(30s);
        ++answered;
        // A reply only for whole frames: the running total is a whole number of blobs.
        if (total == 0 || total % blob.data.size() != 0) ++bad_results;
      } catch (const troupe::error& e) {
        ++failed;
        if (e.value() != troupe::errc::peer_lost) ++bad_results;
      }
    }
  }
  INFO("iterations " << iters << ", answered " << answered << ", failed " << failed);
  CHECK(bad_results == 0);
  CHECK(failed > 0);
  for (int i = 0; i < 100 && pt::fd_count() != fds_before; ++i) std::this_thread::sleep_for(20ms);
  INFO("fds before: " << fds_before_list << "\nfds now: " << pt::fd_list());
  CHECK(pt::fd_count() == fds_before);
  CHECK(pt::no_children_left());
}

TEST_CASE("mutated frames close only their own connection", "[nodes][process][stress]") {
  using namespace troupe::nodes::detail;
  auto& ctx = io_runtime::get().context();
  const long iters = iterations(10000);

  // The "node" side of a connection: decodes what a child would, throwing
  // (which closes the link with the reason) on anything bad.
  auto serve = [](frame_kind k, std::span<const std::byte> body) {
    if (k == frame_kind::send) {
      troupe::wire::any_message m;
      const troupe::wire::status s = troupe::wire::decode_message(body, m);
      if (!s) throw std::runtime_error("send: " + s.message());
    } else if (k == frame_kind::ask) {
      if (body.size() < 8) throw std::runtime_error("truncated ask");
      troupe::wire::any_message m;
      const troupe::wire::status s = troupe::wire::decode_message(body.subspan(8), m);
      if (!s) throw std::runtime_error("ask: " + s.message());
    }
  };

  link_config server_cfg;
  server_cfg.my_role = troupe::wire::peer_role::parent;
  server_cfg.peer_role = troupe::wire::peer_role::child;
  server_cfg.name = "node";
  server_cfg.heartbeat_timeout = 60s;  // the test's pace is not a heartbeat failure
  link_config client_cfg = server_cfg;
  client_cfg.my_role = troupe::wire::peer_role::child;
  client_cfg.peer_role = troupe::wire::peer_role::parent;
  client_cfg.name = "good-peer";

  // The third, well-behaved peer.
  int good[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, good) == 0);
  // Shared with the handlers, which may outlive this test's frame.
  struct good_state {
    std::atomic<long> arrived{0};
    std::atomic<bool> closed{false};
  };
  auto gs = std::make_shared<good_state>();
  std::atomic<long>& good_arrived = gs->arrived;
  std::atomic<bool>& good_closed = gs->closed;
  auto good_server = std::make_shared<peer_link>(ctx, good[0], server_cfg);
  auto good_client = std::make_shared<peer_link>(ctx, good[1], client_cfg);
  good_server->start(
      [gs, serve](frame_kind k, std::span<const std::byte> body) {
        serve(k, body);
        if (k == frame_kind::send) gs->arrived.fetch_add(1);
      },
      [gs](const std::string&, bool) { gs->closed = true; });
  good_client->start([](frame_kind, std::span<const std::byte>) {},
                     [](const std::string&, bool) {});
  std::atomic<bool> stop{false};
  std::thread talker([&] {
    long n = 0;
    while (!stop.load()) {
      (void)good_client->post(frame_kind::send, [&](troupe::wire::writer& w) {
        troupe::wire::write_message(w, pt::Inc{1});
      });
      if (++n % 64 == 0) std::this_thread::sleep_for(1ms);
    }
  });

  // Valid streams to mutate: handshake + one frame.
  auto stream_of = [&](auto&& body) {
    troupe::wire::frame_encoder enc;
    troupe::wire::handshake h;
    h.role = troupe::wire::peer_role::child;
    h.pid = ::getpid();
    h.name = "attacker";
    enc.add_bytes(troupe::wire::encode_handshake(h));
    enc.add(body);
    return std::vector<std::byte>(enc.data().begin(), enc.data().end());
  };
  const std::vector<std::vector<std::byte>> seeds = {
      stream_of([](troupe::wire::writer& w) {
        w.byte(static_cast<std::uint8_t>(frame_kind::send));
        troupe::wire::write_message(w, pt::Echo{"hello there"});
      }),
      stream_of([](troupe::wire::writer& w) {
        w.byte(static_cast<std::uint8_t>(frame_kind::ask));
        w.fixed(std::uint64_t{7});
        troupe::wire::write_message(w, pt::Crash{pt::crash_kind::abort});
      }),
      stream_of([](troupe::wire::writer& w) {
        w.byte(static_cast<std::uint8_t>(frame_kind::send));
        troupe::wire::write_message(w, pt::Blob{std::vector<std::byte>(40, std::byte{1})});
      }),
  };

  std::mt19937 rng(777);
  long closed_bad = 0;
  long closed_clean = 0;
  long stalls = 0;
  long last_good = good_arrived.load();
  for (long i = 0; i < iters; ++i) {
    std::vector<std::byte> bytes = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % bytes.size();
      switch (rng() % 4) {
        case 0:
          bytes[at] = static_cast<std::byte>(rng());
          break;  // overwrite
        case 1:
          bytes[at] ^= static_cast<std::byte>(1U << (rng() % 8));
          break;  // flip a bit
        case 2:
          bytes.resize(std::max<std::size_t>(at, 1));
          break;  // truncate
        default:
          bytes.insert(bytes.begin() + static_cast<long>(at), static_cast<std::byte>(rng()));
      }
    }
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    auto server = std::make_shared<peer_link>(ctx, sv[0], server_cfg);
    auto closed = std::make_shared<std::promise<bool>>();
    server->start(serve,
                  [closed](const std::string& /*why*/, bool clean) { closed->set_value(clean); });
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(sv[1], bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;  // the node closed already
      off += static_cast<std::size_t>(n);
    }
    ::shutdown(sv[1], SHUT_WR);  // EOF: a frame left incomplete is never delivered
    auto f = closed->get_future();
    if (f.wait_for(10s) != std::future_status::ready) {
      ++stalls;
      server->close("test: stalled");
      f.wait();
    }
    (f.get() ? closed_clean : closed_bad)++;
    ::close(sv[1]);
    if (i % 1000 == 999) {
      const long now = good_arrived.load();
      CHECK(now > last_good);  // the good peer kept getting through
      last_good = now;
      CHECK_FALSE(good_closed.load());
    }
  }
  stop = true;
  talker.join();
  INFO("bad " << closed_bad << ", clean " << closed_clean);
  CHECK(stalls == 0);
  CHECK(closed_bad > iters / 2);
  CHECK_FALSE(good_closed.load());
  CHECK(good_arrived.load() > 0);
  good_client->close("test over");
  good_server->close("test over");
}
