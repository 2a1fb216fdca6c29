#pragma once
// The crawler sample's HTTP client, on libcurl's multi interface. One I/O
// thread owns the CURLM handle and drives every transfer in a
// curl_multi_poll loop; fetch() queues a request on an unbounded troupe
// channel (no lock) and wakes that thread with curl_multi_wakeup. Each result is handed to a
// callback on the I/O thread, never on troupe's pool.
//
// Why libcurl multi rather than Boost.Beast: libcurl is a C library packaged
// by Debian (libcurl4-openssl-dev); it handles redirects, chunked bodies,
// gzip, TLS, proxies and timeouts itself, and one thread drives any number
// of transfers. Beast is a toolkit for writing HTTP code: all of that would
// have to be written here, on top of asio.
//
// curl_global_init must have been called (main does) before a fetcher is
// made, and curl_global_cleanup only after the last one is gone.
#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <troupe/troupe.hpp>
#include <unordered_map>
#include <vector>

namespace crawl {

struct fetch_options {
  std::chrono::milliseconds timeout{10000};  ///< per fetch, redirects included
  std::size_t max_bytes = 1 << 20;           ///< the most of a (decoded) body read
  long max_redirects = 5;                    ///< redirects followed per fetch
  std::string user_agent = "troupe-crawler";
};

struct fetch_result {
  std::string url;           ///< what was asked for
  std::string final_url;     ///< where it ended, after redirects
  int status = 0;            ///< the last HTTP status, 0 if there was no answer
  std::string content_type;  ///< the Content-Type of the answer, if any
  std::string body;          ///< the body of the answer (decoded if it was gzipped)
  std::string error;         ///< why there is no (usable) answer; empty if ok (2xx)
};

class fetcher {
 public:
  /// Starts the I/O thread.
  explicit fetcher(fetch_options opt);
  /// Stops and joins the I/O thread. Transfers still in flight are dropped
  /// (their callbacks never run) and every curl handle is freed.
  ~fetcher();
  fetcher(const fetcher&) = delete;
  fetcher& operator=(const fetcher&) = delete;

  /// Starts a GET of `url`; `done` runs once, on the I/O thread, with the
  /// result. Never blocks on the network. @threadsafe
  void fetch(std::string url, std::function<void(fetch_result)> done);

  struct transfer;  ///< one fetch in flight (fetch.cpp's, for curl's callbacks)

 private:
  struct request {
    std::string url;
    std::function<void(fetch_result)> done;
  };

  void run();
  void start(request r);
  void finish(CURL* easy, CURLcode code);

  fetch_options opt_;
  CURLM* multi_;
  // Requests to start, from any thread to the I/O thread.
  std::pair<troupe::sender<request>, troupe::receiver<request>> queue_ =
      troupe::make_channel<request>(troupe::unbounded);
  std::atomic<bool> stopping_{false};
  std::unordered_map<CURL*, std::unique_ptr<transfer>> active_;  // the I/O thread's only
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace crawl
