#include "internal/peer_link.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "internal/nodes_log.hpp"
#include "troupe/actors/detail/job.hpp"
#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/error.hpp"

namespace troupe::nodes::detail {

// ---- io_runtime -------------------------------------------------------------

io_runtime& io_runtime::get() {
  static io_runtime rt;
  return rt;
}

io_runtime::io_runtime() : work_(asio::make_work_guard(ctx_)) {
  completion_thread_ = std::thread([this] {
    troupe::detail::trace::name_thread("nodes completions");
    run_completions();
  });
  thread_ = std::thread([this] {
    troupe::detail::trace::name_thread("nodes I/O");
    thread_id_.store(std::this_thread::get_id(), std::memory_order_release);
    troupe::detail::refuse_blocking_here();
    for (;;) {
      try {
        ctx_.run();
        return;
      } catch (const std::exception& e) {
        log_error("troupe.nodes: I/O thread handler threw: {}", e.what());
      }
    }
  });
}

io_runtime::~io_runtime() {
  work_.reset();
  ctx_.stop();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lk(completion_mu_);
    completion_stop_ = true;
  }
  completion_cv_.notify_all();
  if (completion_thread_.joinable()) completion_thread_.join();
}

void io_runtime::complete(troupe::detail::unique_function<void()> fn) {
  {
    std::lock_guard lk(completion_mu_);
    completions_.push_back(std::move(fn));
  }
  completion_cv_.notify_one();
}

void io_runtime::run_completions() {
  completion_id_.store(std::this_thread::get_id(), std::memory_order_release);
  troupe::detail::refuse_blocking_here();
  for (;;) {
    troupe::detail::unique_function<void()> fn;
    {
      std::unique_lock lk(completion_mu_);
      completion_cv_.wait(lk, [&] { return completion_stop_ || !completions_.empty(); });
      if (completions_.empty()) return;  // stopping, and everything queued has run
      fn = std::move(completions_.front());
      completions_.pop_front();
    }
    try {
      fn();
    } catch (const std::exception& e) {
      log_error("troupe.nodes: a reply callback threw: {}", e.what());
    } catch (...) {
      log_error("troupe.nodes: a reply callback threw");
    }
  }
}

void io_runtime::run_sync(const std::function<void()>& fn) {
  if (on_io_thread()) {
    fn();
    return;
  }
  // A failure comes back as its code and text, thrown anew on this thread:
  // an exception object shared by both threads (exception_ptr) is released
  // by whichever drops it last, inside the uninstrumented runtime.
  std::promise<void> done;
  std::optional<troupe::errc> code;
  std::string what;
  bool failed = false;
  asio::post(ctx_, [&] {
    try {
      fn();
    } catch (const troupe::error& e) {
      failed = true;
      code = e.value();
      what = e.what();
      const std::string suffix = ": " + e.code().message();
      if (what.size() >= suffix.size() &&
          what.compare(what.size() - suffix.size(), suffix.size(), suffix) == 0) {
        what.resize(what.size() - suffix.size());
      }
    } catch (const std::exception& e) {
      failed = true;
      what = e.what();
    } catch (...) {
      failed = true;
      what = "an exception that is not a std::exception";
    }
    done.set_value();
  });
  done.get_future().get();
  if (failed) {
    if (code) throw troupe::error(*code, what);
    throw std::runtime_error(what);
  }
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// ---- peer_link --------------------------------------------------------------

peer_link::peer_link(asio::io_context& ctx, int fd, link_config cfg)
    : ctx_(ctx),
      sock_(ctx),
      timer_(ctx),
      cfg_(std::move(cfg)),
      dec_(cfg_.max_frame),
      enc_(cfg_.max_frame) {
  asio::error_code ec;
  sock_.assign(asio::local::stream_protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    throw std::system_error(ec, "troupe.nodes: assign socket");
  }
  // The handshake is the first frame out, before anything a sender queues.
  wire::handshake h;
  h.role = cfg_.my_role;
  h.pid = static_cast<std::int32_t>(::getpid());
  h.max_frame = static_cast<std::uint32_t>(cfg_.max_frame);
  h.name = cfg_.name;
  std::vector<std::byte> hello;
  if (cfg_.version == wire::protocol_version) {
    hello = wire::encode_handshake(h);
  } else {  // a test of the peer's refusal: encode_handshake writes the build's version
    hello = wire::encode_handshake(h);
    hello[4] = static_cast<std::byte>(cfg_.version & 0xFF);
    hello[5] = static_cast<std::byte>(cfg_.version >> 8);
  }
  enc_.add_bytes(hello);
}

peer_link::~peer_link() = default;

void peer_link::start(frame_handler on_frame, close_handler on_close) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  asio::post(ctx_, [self = shared_from_this()] {
    self->start_time_ = std::chrono::steady_clock::now();
    self->last_rx_ = self->start_time_;
    self->do_read();
    self->arm_heartbeat();
    std::unique_lock lk(self->mu_);
    self->started_ = true;
    self->kick(lk);
  });
}

bool peer_link::wait_for_room(std::unique_lock<std::mutex>& lk, bool force, bool may_wait) {
  if (closed_) return false;
  if (force || enc_.size() < cfg_.send_queue_bytes) return true;
  // Full: a plain thread waits; a pool worker or the I/O thread is refused.
  if (!may_wait || troupe::detail::on_pool_worker() || io_runtime::get().on_io_thread()) {
    return false;
  }
  room_.wait(lk, [&] { return closed_ || enc_.size() < cfg_.send_queue_bytes; });
  return !closed_;
}

void peer_link::kick(std::unique_lock<std::mutex>& lk) {
  if (writing_ || closed_ || enc_.empty()) return;
  writing_ = true;
  lk.unlock();
  asio::post(ctx_, [self = shared_from_this()] { self->do_write(); });
}

bool peer_link::write_now(std::unique_lock<std::mutex>& lk) {
  if (writing_ || closed_ || !started_ || enc_.empty()) return false;
  inflight_.clear();
  enc_.swap(inflight_);
  // Under mu_: fail() closes the socket under mu_ too, so the fd is ours.
  const ssize_t n = ::send(sock_.native_handle(), inflight_.data(), inflight_.size(),
                           MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(inflight_.size())) {
    inflight_.clear();
    room_.notify_all();
    if (!parked_.empty()) {
      told t;
      admit_parked(t);
      kick(lk);  // writes what was admitted (unlocks if it posts)
      if (lk.owns_lock()) lk.unlock();
      tell(t);
    }
    return true;
  }
  // Partial, would block, or an error: the I/O thread writes the rest (and
  // meets the error itself).
  inflight_off_ = n > 0 ? static_cast<std::size_t>(n) : 0;
  writing_ = true;
  lk.unlock();
  asio::post(ctx_, [self = shared_from_this()] { self->write_inflight(); });
  return true;
}

void peer_link::write_inflight() {
  const std::size_t off = inflight_off_;  // set before the post that runs this
  asio::async_write(sock_, asio::buffer(inflight_.data() + off, inflight_.size() - off),
                    [self = shared_from_this()](const asio::error_code& ec, std::size_t /*n*/) {
                      if (ec) {
                        self->write_failed("write: " + ec.message());
                        return;
                      }
                      self->do_write();
                    });
}

void peer_link::do_write() {
  std::unique_lock lk(mu_);
  if (closed_) {
    writing_ = false;
    return;
  }
  if (enc_.empty()) {
    writing_ = false;
    if (close_after_flush_) {
      lk.unlock();
      fail(std::string(closed_by_us), true);
    }
    return;
  }
  inflight_.clear();
  inflight_off_ = 0;
  enc_.swap(inflight_);
  room_.notify_all();
  told t;
  admit_parked(t);  // written after this write, by the next do_write
  lk.unlock();
  tell(t);
  write_inflight();
}

void peer_link::post_parked(frame_kind kind, void (*enc)(wire::writer&, const void*),
                            const void* value, troupe::detail::park_callback* cb) {
  std::unique_lock lk(mu_);
  if (closed_) {
    lk.unlock();
    cb->done(send_result::closed);
    return;
  }
  if (parked_.empty() && enc_.size() < cfg_.send_queue_bytes) {
    enc_.add([&](wire::writer& w) {  // a throw leaves cb untold, for the caller
      w.byte(static_cast<std::uint8_t>(kind));
      enc(w, value);
    });
    kick(lk);
    if (lk.owns_lock()) lk.unlock();
    cb->done(send_result::ok);
    return;
  }
  parked_.push_back(parked_frame{kind, enc, value, cb});
}

void peer_link::admit_parked(told& out) {
  if (parked_.empty()) return;
  try {
    out.reserve(out.size() + parked_.size());
  } catch (...) {
    return;  // out of memory: admitted at the next room
  }
  while (!parked_.empty() && enc_.size() < cfg_.send_queue_bytes) {
    const parked_frame p = parked_.front();
    parked_.pop_front();
    try {
      enc_.add([&](wire::writer& w) {
        w.byte(static_cast<std::uint8_t>(p.kind));
        p.enc(w, p.value);
      });
      out.emplace_back(p.cb, send_result::ok);
    } catch (const std::exception& e) {
      log_warn("troupe.nodes: link {}: a waiting send was not sent: {}", cfg_.name, e.what());
      out.emplace_back(p.cb, send_result::full);
    }
  }
}

void peer_link::close_parked(told& out) {
  try {
    out.reserve(out.size() + parked_.size());
  } catch (...) {
  }
  while (!parked_.empty()) {
    out.emplace_back(parked_.front().cb, send_result::closed);
    parked_.pop_front();
  }
}

void peer_link::tell(told& out) noexcept {
  for (auto& [cb, r] : out) cb->done(r);
  out.clear();
}

void peer_link::write_failed(std::string why) {
  if (failed_) return;
  if (!handshaken()) {
    fail(why, false);
    return;
  }
  // The peer is gone or going (EPIPE, ECONNRESET): nothing more is sent,
  // but what it wrote before it went is still read, to EOF; the link then
  // closes with this reason.
  told t;
  {
    std::lock_guard lk(mu_);
    closed_ = true;
    writing_ = false;
    enc_.clear();
    close_parked(t);
    asio::error_code ignored;
    sock_.shutdown(asio::socket_base::shutdown_send, ignored);
  }
  room_.notify_all();
  tell(t);
  if (write_error_.empty()) write_error_ = std::move(why);
}

void peer_link::do_read() {
  std::span<std::byte> space;
  try {
    space = dec_.prepare();  // may grow the buffer
  } catch (const std::exception& e) {
    fail(std::string("read: ") + e.what(), false);
    return;
  }
  sock_.async_read_some(
      asio::buffer(space.data(), space.size()),
      [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
        if (self->failed_) return;
        if (ec) {
          if (!self->write_error_.empty()) {
            self->fail(self->write_error_ + " (read to the end: " + ec.message() + ")", false);
          } else if (ec == asio::error::eof) {
            self->fail(self->handshaken() ? "connection closed by peer (EOF)"
                                          : "connection closed by peer before the handshake",
                       self->handshaken());
          } else {
            self->fail("read: " + ec.message(), false);
          }
          return;
        }
        // Nothing read may throw out of here into the I/O thread: an
        // exception (an allocation that failed while decoding) closes this
        // link with the reason.
        try {
          self->dec_.commit(n);
          while (auto payload = self->dec_.next()) {
            self->on_payload(*payload);
            if (self->failed_) return;
          }
        } catch (const std::exception& e) {
          self->fail(std::string("read: ") + e.what(), false);
          return;
        }
        if (!self->dec_.ok()) {
          self->fail("bad frame: " + self->dec_.error().message(), false);
          return;
        }
        self->do_read();
      });
}

void peer_link::on_payload(std::span<const std::byte> payload) {
  last_rx_ = std::chrono::steady_clock::now();
  if (!handshaken()) {
    wire::handshake h;
    const wire::status s = wire::decode_handshake(payload, h);
    if (!s) {
      fail("handshake refused: " + s.message(), false);
      return;
    }
    if (h.role != cfg_.peer_role) {
      fail("handshake refused: peer role " + std::to_string(static_cast<int>(h.role)) +
               ", expected " + std::to_string(static_cast<int>(cfg_.peer_role)),
           false);
      return;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(sock_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      fail("handshake refused: SO_PEERCRED: " + errno_text(errno), false);
      return;
    }
    if (cred.uid != ::getuid()) {
      fail("handshake refused: peer uid " + std::to_string(cred.uid) + " is not ours (" +
               std::to_string(::getuid()) + ")",
           false);
      return;
    }
    // (SO_PEERCRED's pid of a socketpair is its creator's, the parent's: the
    // child's pid is checked from the handshake.)
    if (cfg_.expected_pid != 0 && h.pid != cfg_.expected_pid) {
      fail("handshake refused: peer pid " + std::to_string(h.pid) + ", expected " +
               std::to_string(cfg_.expected_pid),
           false);
      return;
    }
    peer_hello_ = std::move(h);
    handshaken_.store(true, std::memory_order_release);
    return;
  }
  if (payload.empty()) {
    fail("bad frame: empty payload (no frame kind)", false);
    return;
  }
  const auto kind = static_cast<frame_kind>(payload[0]);
  if (kind == frame_kind::heartbeat) {
    if (payload.size() != 1) {
      fail("bad frame: a heartbeat carrying " + std::to_string(payload.size() - 1) + " byte(s)",
           false);
    }
    return;
  }
  if (kind < frame_kind::spawn || kind > last_frame_kind) {
    fail("bad frame: unknown frame kind " + std::to_string(static_cast<int>(payload[0])), false);
    return;
  }
  try {
    on_frame_(kind, payload.subspan(1));
  } catch (const std::exception& e) {
    fail(std::string("bad frame: ") + e.what(), false);
  } catch (...) {
    fail("bad frame: an exception that is not a std::exception", false);
  }
}

void peer_link::arm_heartbeat() {
  timer_.expires_after(cfg_.heartbeat_interval);
  timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (ec || self->failed_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!self->handshaken()) {
      if (now - self->start_time_ > self->cfg_.startup_timeout) {
        self->fail(
            "no handshake within " + std::to_string(self->cfg_.startup_timeout.count()) + " ms",
            false);
        return;
      }
    } else {
      const auto silent =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - self->last_rx_);
      if (silent > self->cfg_.heartbeat_timeout) {
        self->fail("missed heartbeats: silent for " + std::to_string(silent.count()) +
                       " ms (timeout " + std::to_string(self->cfg_.heartbeat_timeout.count()) +
                       " ms)",
                   false);
        return;
      }
    }
    (void)self->post(frame_kind::heartbeat, true);
    self->arm_heartbeat();
  });
}

void peer_link::close(std::string why) {
  asio::post(ctx_, [self = shared_from_this(), why = std::move(why)] { self->fail(why, false); });
}

void peer_link::close_after_flush() {
  std::unique_lock lk(mu_);
  close_after_flush_ = true;
  if (!writing_) {
    writing_ = true;
    lk.unlock();
    asio::post(ctx_, [self = shared_from_this()] { self->do_write(); });
  }
}

bool peer_link::closed() const {
  std::lock_guard lk(mu_);
  return closed_;
}

void peer_link::fail(const std::string& why, bool clean) {
  if (failed_) return;
  failed_ = true;
  asio::error_code ignored;
  told t;
  {
    // The socket is closed under mu_: write_now() uses its fd under mu_.
    std::lock_guard lk(mu_);
    closed_ = true;
    enc_.clear();
    close_parked(t);
    sock_.shutdown(asio::socket_base::shutdown_both, ignored);
    sock_.close(ignored);
  }
  room_.notify_all();
  tell(t);
  timer_.cancel();
  if (clean) {
    log_debug("troupe.nodes: link {} closed: {}", cfg_.name, why);
  } else {
    log_warn("troupe.nodes: link {} closed: {}", cfg_.name, why);
  }
  if (on_close_) {
    auto cb = std::move(on_close_);
    on_frame_ = nullptr;
    cb(why, clean);
  }
}

}  // namespace troupe::nodes::detail
