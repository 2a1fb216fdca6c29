#pragma once
// The crawler sample's HTTP client: fetches run on a dedicated asio thread
// (never on troupe's pool) and hand each result to a callback there.
#include <asio.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>

namespace crawl {

struct fetch_result {
  std::string path;   ///< what was fetched
  int status = 0;     ///< the HTTP status, 0 if there was no answer
  std::string body;   ///< the body of the answer
  std::string error;  ///< why there is no (usable) answer; empty if ok
};

class fetcher {
 public:
  /// Fetches from 127.0.0.1:`port`; each fetch gives up after `timeout`
  /// and reads at most `max_bytes` of an answer.
  fetcher(unsigned short port, std::chrono::milliseconds timeout, std::size_t max_bytes);
  /// Stops and joins the I/O thread (fetches in flight are dropped).
  ~fetcher();
  fetcher(const fetcher&) = delete;
  fetcher& operator=(const fetcher&) = delete;

  /// Starts a GET of `path`; `done` runs once, on the I/O thread, with the
  /// result. Never blocks. @threadsafe
  void fetch(std::string path, std::function<void(fetch_result)> done);

 private:
  class op;

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::ip::tcp::endpoint server_;
  std::chrono::milliseconds timeout_;
  std::size_t max_bytes_;
  std::thread thread_;
};

}  // namespace crawl
