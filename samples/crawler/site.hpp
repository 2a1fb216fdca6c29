#pragma once
// The crawler sample's test site: an HTTP/1.0 server on 127.0.0.1 (an
// ephemeral port) serving a generated site, on its own asio thread.
#include <asio.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

namespace crawl {

struct site_config {
  unsigned pages = 40;        ///< /page/0 .. /page/<pages-1>
  unsigned latency_ms = 5;    ///< delay before each answer
  unsigned slow_every = 8;    ///< every slow_every-th page is slow (0: none)
  unsigned slow_ms = 100;     ///< delay of a slow page
  unsigned stall_ms = 10000;  ///< delay of a /stall/ URL (meant to exceed the client's timeout)
};

/// What the site links to, besides its pages (the same rules the server
/// answers by; the crawler does not use them, it discovers them):
///   page i links to /page/i+1, /page/i+2#top, two pseudo-random pages, the
///   absolute URL of /page/(i*3)%N, and
///   i % 9 == 4:  /missing/i  (404: a broken link)
///   i % 17 == 6: /stall/i    (answers after stall_ms: a timeout)
///   i % 15 == 10: /reset/i   (closes the connection without an answer)
///   i % 5 == 0:  http://example.org/i  (off-site: must not be fetched)
std::string page_html(const site_config& cfg, unsigned i, unsigned short port);

class site_server {
 public:
  /// Listens on 127.0.0.1 (an ephemeral port) and starts serving.
  explicit site_server(site_config cfg);
  /// Stops and joins the server thread.
  ~site_server();
  site_server(const site_server&) = delete;
  site_server& operator=(const site_server&) = delete;

  [[nodiscard]] unsigned short port() const noexcept { return port_; }
  /// Stops serving (pending answers are dropped) and joins the thread.
  void stop();
  /// Requests received; read it after stop().
  [[nodiscard]] std::size_t requests() const noexcept { return requests_; }

 private:
  class session;
  void accept();

  site_config cfg_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::size_t requests_ = 0;  // touched only by the server thread
  std::thread thread_;
};

}  // namespace crawl
