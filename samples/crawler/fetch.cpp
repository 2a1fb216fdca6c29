#include "fetch.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace crawl {

// One GET in flight: the curl easy handle's private state. Lives on the I/O
// thread only.
struct fetcher::transfer {
  std::string url;
  std::function<void(fetch_result)> done;
  std::size_t max_bytes = 0;
  std::string body;
  std::string status_line;  // "404 Not Found", of the last answer (after redirects)
  bool too_big = false;
  char errors[CURL_ERROR_SIZE] = {};
};

namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<fetcher::transfer*>(user);
  const std::size_t len = size * n;
  if (t->body.size() + len > t->max_bytes) {
    t->too_big = true;
    return 0;  // the transfer ends with CURLE_WRITE_ERROR
  }
  t->body.append(data, len);
  return len;
}

// Called for every header line of every answer, redirects included; keeps
// the status line's code and reason ("HTTP/1.1 404 Not Found").
std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<fetcher::transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    const auto sp = line.find(' ');
    line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) {
      line.remove_suffix(1);
    }
    t->status_line = line;
  }
  return size * n;
}

// With no proxy exceptions of the user's own, loopback is never proxied (the
// built-in site and the tests serve on 127.0.0.1).
bool user_set_no_proxy() {
  return std::getenv("no_proxy") != nullptr || std::getenv("NO_PROXY") != nullptr;
}

}  // namespace

fetcher::fetcher(fetch_options opt) : opt_(std::move(opt)), multi_(curl_multi_init()) {
  if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
  thread_ = std::thread([this] { run(); });
}

fetcher::~fetcher() {
  stopping_.store(true);
  curl_multi_wakeup(multi_);
  thread_.join();
  curl_multi_cleanup(multi_);
}

void fetcher::fetch(std::string url, std::function<void(fetch_result)> done) {
  // Unbounded: never full; closed only by the destructor.
  (void)queue_.first.try_send(request{std::move(url), std::move(done)});
  curl_multi_wakeup(multi_);  // thread-safe; a wake-up before the poll is not lost
}

void fetcher::run() {
  while (!stopping_.load()) {
    while (auto r = queue_.second.try_recv()) start(std::move(*r));
    int running = 0;
    curl_multi_perform(multi_, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
      if (m->msg == CURLMSG_DONE) finish(m->easy_handle, m->data.result);
    }
    // Sleeps until a socket is ready, curl's next timeout, or a wake-up.
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
  }
  for (auto& [easy, t] : active_) {  // dropped: the crawl is over
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
  }
  active_.clear();
}

void fetcher::start(request r) {
  auto t = std::make_unique<transfer>();
  t->url = std::move(r.url);
  t->done = std::move(r.done);
  t->max_bytes = opt_.max_bytes;
  CURL* e = curl_easy_init();
  if (e == nullptr) {
    fetch_result res;
    res.url = t->url;
    res.error = "curl_easy_init failed";
    t->done(std::move(res));
    return;
  }
  curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errors);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, opt_.max_redirects);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl decodes (gzip, ...)
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(opt_.timeout.count()));
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(opt_.max_bytes));
  curl_easy_setopt(e, CURLOPT_USERAGENT, opt_.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  if (!user_set_no_proxy()) curl_easy_setopt(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
  if (const CURLMcode mc = curl_multi_add_handle(multi_, e); mc != CURLM_OK) {
    curl_easy_cleanup(e);
    fetch_result res;
    res.url = t->url;
    res.error = curl_multi_strerror(mc);
    t->done(std::move(res));
    return;
  }
  active_.emplace(e, std::move(t));
}

void fetcher::finish(CURL* easy, CURLcode code) {
  const auto it = active_.find(easy);
  if (it == active_.end()) return;
  const std::unique_ptr<transfer> t = std::move(it->second);
  active_.erase(it);

  fetch_result r;
  r.url = t->url;
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  r.status = static_cast<int>(status);
  char* text = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &text) == CURLE_OK && text != nullptr) {
    r.final_url = text;
  }
  text = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &text) == CURLE_OK && text != nullptr) {
    r.content_type = text;
  }
  if (t->too_big || code == CURLE_FILESIZE_EXCEEDED) {
    r.error = "answer larger than " + std::to_string(opt_.max_bytes) + " bytes";
  } else if (code == CURLE_OPERATION_TIMEDOUT) {
    r.error = "timeout after " + std::to_string(opt_.timeout.count()) + " ms";
  } else if (code == CURLE_GOT_NOTHING) {
    r.error = "connection closed without a response";
  } else if (code != CURLE_OK) {
    r.error = curl_easy_strerror(code);
    if (t->errors[0] != '\0') r.error += std::string(" (") + t->errors + ")";
  } else if (status < 200 || status > 299) {
    r.error = t->status_line.empty() ? "HTTP status " + std::to_string(status) : t->status_line;
  }
  r.body = std::move(t->body);
  curl_multi_remove_handle(multi_, easy);
  curl_easy_cleanup(easy);
  t->done(std::move(r));
}

}  // namespace crawl
