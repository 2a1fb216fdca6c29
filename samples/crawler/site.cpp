#include "site.hpp"

#include <charconv>
#include <chrono>
#include <string_view>
#include <utility>

namespace crawl {

std::string page_html(const site_config& cfg, unsigned i, unsigned short port) {
  const unsigned n = cfg.pages;
  std::string links;
  auto link = [&](const std::string& href) {
    links += "  <li><a href=\"" + href + "\">" + href + "</a></li>\n";
  };
  if (i + 1 < n) link("/page/" + std::to_string(i + 1));
  if (i + 2 < n) link("/page/" + std::to_string(i + 2) + "#top");
  link("/page/" + std::to_string((i * 7 + 3) % n));
  link("/page/" + std::to_string((i * 13 + 5) % n));
  link("http://127.0.0.1:" + std::to_string(port) + "/page/" + std::to_string((i * 3) % n));
  if (i % 9 == 4) link("/missing/" + std::to_string(i));
  if (i % 17 == 6) link("/stall/" + std::to_string(i));
  if (i % 15 == 10) link("/reset/" + std::to_string(i));
  if (i % 5 == 0) link("http://example.org/" + std::to_string(i));
  return "<!doctype html>\n<html><head><title>page " + std::to_string(i) +
         "</title></head>\n<body>\n<h1 id=\"top\">page " + std::to_string(i) + "</h1>\n<ul>\n" +
         links + "</ul>\n</body></html>\n";
}

namespace {

std::string response(int code, std::string_view reason, const std::string& body) {
  return "HTTP/1.0 " + std::to_string(code) + " " + std::string(reason) +
         "\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// The number after `prefix` in `path`, or -1.
long number_after(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return -1;
  path.remove_prefix(prefix.size());
  long v = -1;
  const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), v);
  if (ec != std::errc{} || end != path.data() + path.size()) return -1;
  return v;
}

}  // namespace

// One connection: read the request, wait (latency), answer, close.
class site_server::session : public std::enable_shared_from_this<session> {
 public:
  session(site_server& srv, asio::ip::tcp::socket s)
      : srv_(srv), sock_(std::move(s)), timer_(srv.io_) {}

  void start() {
    asio::async_read_until(sock_, asio::dynamic_buffer(request_, 8192), "\r\n\r\n",
                           [self = shared_from_this()](std::error_code ec, std::size_t /*n*/) {
                             if (!ec) self->route();
                           });
  }

 private:
  void route() {
    ++srv_.requests_;
    const site_config& cfg = srv_.cfg_;
    // "GET <path> HTTP/1.x"
    std::string_view req(request_);
    std::string_view path;
    if (req.starts_with("GET ")) {
      req.remove_prefix(4);
      path = req.substr(0, req.find(' '));
    }
    unsigned delay = cfg.latency_ms;
    if (const long i = number_after(path, "/page/"); i >= 0 && i < static_cast<long>(cfg.pages)) {
      const auto page = static_cast<unsigned>(i);
      if (cfg.slow_every != 0 && page % cfg.slow_every == cfg.slow_every - 1) delay = cfg.slow_ms;
      answer_ = response(200, "OK", page_html(cfg, page, srv_.port_));
    } else if (path.starts_with("/stall/")) {
      delay = cfg.stall_ms;
      answer_ = response(200, "OK", "<html>late</html>\n");
    } else if (path.starts_with("/reset/")) {
      return close();  // no answer at all
    } else {
      answer_ = response(404, "Not Found", "<html>not found</html>\n");
    }
    timer_.expires_after(std::chrono::milliseconds(delay));
    timer_.async_wait([self = shared_from_this()](std::error_code ec) {
      if (ec) return;
      asio::async_write(self->sock_, asio::buffer(self->answer_),
                        [self](std::error_code /*ec*/, std::size_t /*n*/) { self->close(); });
    });
  }

  void close() {
    std::error_code ignored;
    sock_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    sock_.close(ignored);
  }

  site_server& srv_;
  asio::ip::tcp::socket sock_;
  asio::steady_timer timer_;
  std::string request_;
  std::string answer_;
};

site_server::site_server(site_config cfg)
    : cfg_(cfg), acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

site_server::~site_server() { stop(); }

void site_server::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

void site_server::accept() {
  acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket s) {
    if (ec) return;  // the acceptor was closed
    std::make_shared<session>(*this, std::move(s))->start();
    accept();
  });
}

}  // namespace crawl
