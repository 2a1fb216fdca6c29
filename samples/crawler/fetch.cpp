#include "fetch.hpp"

#include <array>
#include <charconv>
#include <memory>
#include <string_view>
#include <utility>

namespace crawl {

// One GET: connect, write the request, read to EOF; a timer closes the
// socket when the time is up. Lives on the I/O thread only.
class fetcher::op : public std::enable_shared_from_this<op> {
 public:
  op(fetcher& f, std::string path, std::function<void(fetch_result)> done)
      : f_(f), sock_(f.io_), timer_(f.io_), done_(std::move(done)) {
    result_.path = std::move(path);
  }

  void start() {
    timer_.expires_after(f_.timeout_);
    timer_.async_wait([self = shared_from_this()](std::error_code ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;
      std::error_code ignored;
      self->sock_.close(ignored);  // the pending operation ends with an error
    });
    sock_.async_connect(f_.server_, [self = shared_from_this()](std::error_code ec) {
      if (ec) return self->fail(ec);
      self->request_ = "GET " + self->result_.path +
                       " HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: troupe-crawler\r\n\r\n";
      asio::async_write(self->sock_, asio::buffer(self->request_),
                        [self](std::error_code ec2, std::size_t /*n*/) {
                          if (ec2) return self->fail(ec2);
                          self->read();
                        });
    });
  }

 private:
  void read() {
    sock_.async_read_some(asio::buffer(buf_),
                          [self = shared_from_this()](std::error_code ec, std::size_t n) {
                            if (!ec) {
                              self->raw_.append(self->buf_.data(), n);
                              if (self->raw_.size() > self->f_.max_bytes_) {
                                return self->finish("answer larger than " +
                                                    std::to_string(self->f_.max_bytes_) + " bytes");
                              }
                              return self->read();
                            }
                            if (ec == asio::error::eof) return self->parse();
                            self->fail(ec);
                          });
  }

  void parse() {
    if (raw_.empty()) return finish("connection closed without a response");
    // "HTTP/1.x <code> <reason>\r\n...\r\n\r\n<body>"
    std::string_view r(raw_);
    const auto head_end = r.find("\r\n\r\n");
    const auto sp = r.find(' ');
    int code = 0;
    if (r.starts_with("HTTP/1.") && sp != std::string_view::npos &&
        head_end != std::string_view::npos) {
      std::from_chars(r.data() + sp + 1, r.data() + r.size(), code);
    }
    if (code < 100 || code > 599) return finish("malformed response");
    result_.status = code;
    result_.body = raw_.substr(head_end + 4);
    if (code != 200) {
      const auto eol = r.find("\r\n");
      return finish(std::string(r.substr(sp + 1, eol - sp - 1)));  // "404 Not Found"
    }
    finish({});
  }

  void fail(std::error_code ec) {
    if (timed_out_) return finish("timeout after " + std::to_string(f_.timeout_.count()) + " ms");
    finish(ec.message());
  }

  void finish(std::string error) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    std::error_code ignored;
    sock_.close(ignored);
    result_.error = std::move(error);
    done_(std::move(result_));
  }

  fetcher& f_;
  asio::ip::tcp::socket sock_;
  asio::steady_timer timer_;
  std::function<void(fetch_result)> done_;
  fetch_result result_;
  std::string request_;
  std::string raw_;
  std::array<char, 4096> buf_{};
  bool finished_ = false;
  bool timed_out_ = false;
};

fetcher::fetcher(unsigned short port, std::chrono::milliseconds timeout, std::size_t max_bytes)
    : work_(asio::make_work_guard(io_)),
      server_(asio::ip::address_v4::loopback(), port),
      timeout_(timeout),
      max_bytes_(max_bytes),
      thread_([this] { io_.run(); }) {}

fetcher::~fetcher() {
  work_.reset();
  io_.stop();
  thread_.join();
}

void fetcher::fetch(std::string path, std::function<void(fetch_result)> done) {
  asio::post(io_, [this, path = std::move(path), done = std::move(done)]() mutable {
    std::make_shared<op>(*this, std::move(path), std::move(done))->start();
  });
}

}  // namespace crawl
