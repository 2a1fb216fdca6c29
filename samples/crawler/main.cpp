// An I/O-bound crawler. It starts its own HTTP server on 127.0.0.1 serving
// a generated site (some pages slow, some links broken, some URLs that
// stall or drop the connection, some off-site links), then crawls it twice:
// with bounded concurrency and sequentially, and compares.
//
// The crawl is an actor that owns the frontier, the set of URLs seen and
// the counts (no locks). It never waits on a socket: fetches run on a
// dedicated asio thread, and each result comes back to the actor as a
// message. Errors are reported, not fatal; every fetch has a timeout, the
// crawl a page limit and a time limit, and only the local server is
// contacted.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <troupe/troupe.hpp>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include "fetch.hpp"
#include "site.hpp"

using namespace std::chrono_literals;

namespace {

constexpr const char* kUsage = R"(usage: crawler [options]

Starts a local HTTP server on 127.0.0.1 serving a generated site, crawls it
with bounded concurrency and then sequentially, and compares the two: pages,
links, errors and time. Broken links, stalled pages (timeouts) and dropped
connections are reported, not fatal; off-site links are never fetched.

site:
  --pages N          pages of the site, 1..5000 (default 40)
  --latency-ms L     delay of every answer, 0..1000 (default 5)
  --slow-every K     every K-th page is slow, 0..5000 (0: none; default 8)
  --slow-ms S        delay of a slow page, 0..10000 (default 100)
crawl:
  --concurrency C    fetches in flight at once, 1..64 (default 8)
  --timeout-ms T     per-fetch timeout, 10..60000 (default 1000); stalled
                     URLs answer after max(10000, 4 T) ms
  --max-pages M      stop after M fetches, 1..100000 (default 10000)
  --time-limit-s S   stop starting fetches after S seconds, 1..3600
                     (default 60)
  --no-sequential    skip the sequential crawl
  -h, --help         this text
)";

struct options {
  crawl::site_config site;
  unsigned concurrency = 8;
  unsigned timeout_ms = 1000;
  unsigned max_pages = 10000;
  unsigned time_limit_s = 60;
  bool sequential = true;
};

struct usage_error {
  std::string text;
};

unsigned parse_uint(std::string_view name, std::string_view text, unsigned lo, unsigned hi) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi) {
    throw usage_error{std::string(name) + ": expected an integer from " + std::to_string(lo) +
                      " to " + std::to_string(hi) + ", got '" + std::string(text) + "'"};
  }
  return v;
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    std::string_view name = a;
    std::string_view value;
    bool has_value = false;
    if (const auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    auto next = [&]() -> std::string_view {
      if (has_value) return value;
      if (i + 1 >= argc) throw usage_error{std::string(name) + ": missing value"};
      return argv[++i];
    };
    if (name == "--pages") {
      o.site.pages = parse_uint(name, next(), 1, 5000);
    } else if (name == "--latency-ms") {
      o.site.latency_ms = parse_uint(name, next(), 0, 1000);
    } else if (name == "--slow-every") {
      o.site.slow_every = parse_uint(name, next(), 0, 5000);
    } else if (name == "--slow-ms") {
      o.site.slow_ms = parse_uint(name, next(), 0, 10000);
    } else if (name == "--concurrency") {
      o.concurrency = parse_uint(name, next(), 1, 64);
    } else if (name == "--timeout-ms") {
      o.timeout_ms = parse_uint(name, next(), 10, 60000);
    } else if (name == "--max-pages") {
      o.max_pages = parse_uint(name, next(), 1, 100000);
    } else if (name == "--time-limit-s") {
      o.time_limit_s = parse_uint(name, next(), 1, 3600);
    } else if (a == "--no-sequential") {
      o.sequential = false;
    } else {
      throw usage_error{"unknown argument '" + std::string(a) + "'"};
    }
  }
  o.site.stall_ms = std::max(10000U, 4 * o.timeout_ms);
  return o;
}

// ---- the crawl ----------------------------------------------------------------------------

struct crawl_report {
  std::set<std::string> pages;                // fetched with 200 OK
  std::map<std::string, std::string> errors;  // URL -> why
  std::size_t links = 0;                      // hrefs found on the pages
  std::size_t unique = 0;                     // distinct on-site URLs seen
  std::size_t offsite = 0;                    // hrefs to other hosts (not fetched)
  std::size_t max_in_flight = 0;
  bool truncated = false;  // stopped by --max-pages or --time-limit-s
  double seconds = 0;
};

struct crawl_settings {
  std::string label;
  unsigned concurrency;
  unsigned max_pages;
  std::chrono::seconds time_limit;
  unsigned short port;
  bool tty;
};

struct start {};
struct time_up {};

class crawler : public troupe::actor<crawler> {
 public:
  crawler(crawl_settings s, crawl::fetcher& f, troupe::promise<crawl_report> done)
      : s_(std::move(s)),
        fetcher_(f),
        done_(std::move(done)),
        origin_("http://127.0.0.1:" + std::to_string(s_.port)),
        t0_(std::chrono::steady_clock::now()) {}

  void on(start /*unused*/) {
    limit_ = send_after(s_.time_limit, time_up{});
    discover("/page/0");
    pump();
  }

  // A fetch ended (on the I/O thread, which sent us the result).
  void on(crawl::fetch_result r) {
    --in_flight_;
    if (r.error.empty()) {
      r_.pages.insert(r.path);
      scan(r.body);
    } else {
      r_.errors.emplace(r.path, std::move(r.error));
    }
    progress();
    pump();
  }

  void on(time_up /*unused*/) {
    out_of_time_ = true;
    pump();
  }

 private:
  // Starts fetches while there is room and work.
  void pump() {
    while (in_flight_ < s_.concurrency && !frontier_.empty()) {
      if (out_of_time_ || started_ == s_.max_pages) break;
      std::string path = std::move(frontier_.front());
      frontier_.pop_front();
      ++started_;
      ++in_flight_;
      r_.max_in_flight = std::max(r_.max_in_flight, in_flight_);
      // Runs on the fetcher's thread; the result comes back as a message.
      fetcher_.fetch(std::move(path),
                     [me = self()](crawl::fetch_result res) { me.send(std::move(res)); });
    }
    // A limit reached: no new fetches; finish once those in flight are in.
    if (out_of_time_ || started_ == s_.max_pages) {
      if (!frontier_.empty()) r_.truncated = true;
      frontier_.clear();
    }
    if (in_flight_ == 0 && frontier_.empty()) finish();
  }

  // Finds the links of a page.
  void scan(std::string_view html) {
    constexpr std::string_view kHref = "href=\"";
    for (auto pos = html.find(kHref); pos != std::string_view::npos; pos = html.find(kHref, pos)) {
      pos += kHref.size();
      const auto end = html.find('"', pos);
      if (end == std::string_view::npos) break;
      ++r_.links;
      discover(html.substr(pos, end - pos));
      pos = end;
    }
  }

  // Normalizes a link and queues it if it is on-site and new.
  void discover(std::string_view href) {
    href = href.substr(0, href.find('#'));
    if (href.starts_with(origin_)) {
      href.remove_prefix(origin_.size());
      if (href.empty()) href = "/";
    }
    if (!href.starts_with("/")) {  // another host, or a scheme we do not follow
      ++r_.offsite;
      return;
    }
    if (seen_.emplace(href).second) frontier_.emplace_back(href);
  }

  void progress() {
    const std::size_t done = r_.pages.size() + r_.errors.size();
    if (s_.tty) {
      std::printf("\r  %s: %zu fetched, %zu errors, %zu queued, %zu in flight   ", s_.label.c_str(),
                  done, r_.errors.size(), frontier_.size(), in_flight_);
      std::fflush(stdout);
    }
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    limit_.cancel();
    if (s_.tty) std::printf("\r\033[K");
    r_.unique = seen_.size();
    r_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    done_.set_value(std::move(r_));
    stop();
  }

  crawl_settings s_;
  crawl::fetcher& fetcher_;
  troupe::promise<crawl_report> done_;
  std::string origin_;
  std::chrono::steady_clock::time_point t0_;
  std::deque<std::string> frontier_;
  std::unordered_set<std::string> seen_;
  std::size_t in_flight_ = 0;
  std::size_t started_ = 0;
  bool finished_ = false;
  bool out_of_time_ = false;
  troupe::timer limit_;
  crawl_report r_;
};

crawl_report run_crawl(troupe::system& sys, const options& opt, unsigned short port,
                       const std::string& label, unsigned concurrency) {
  crawl::fetcher f(port, std::chrono::milliseconds(opt.timeout_ms), 1 << 20);
  troupe::promise<crawl_report> p;
  auto result = p.get_future();
  crawl_settings s{label,         concurrency,
                   opt.max_pages, std::chrono::seconds(opt.time_limit_s),
                   port,          isatty(STDOUT_FILENO) == 1};
  sys.spawn<crawler>(std::move(s), f, std::move(p)).send(start{});
  crawl_report r = result.get();
  std::cout << label << " crawl (" << concurrency << " at a time): " << r.pages.size() << " pages, "
            << r.links << " links, " << r.errors.size() << " errors"
            << (r.truncated ? " (truncated by a limit)" : "") << '\n';
  std::cout.flush();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  try {
    opt = parse_args(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << "crawler: " << e.text << "\n(try crawler --help)\n";
    return 2;
  }

  crawl::site_server server(opt.site);
  const unsigned slow = opt.site.slow_every == 0 ? 0 : opt.site.pages / opt.site.slow_every;
  std::cout << "crawler: a site of " << opt.site.pages << " pages on 127.0.0.1 (latency "
            << opt.site.latency_ms << " ms, " << slow << " slow pages at " << opt.site.slow_ms
            << " ms), timeout " << opt.timeout_ms << " ms\n";

  troupe::system sys;
  std::vector<std::pair<crawl_report, unsigned>> runs;
  runs.emplace_back(run_crawl(sys, opt, server.port(), "concurrent", opt.concurrency),
                    opt.concurrency);
  if (opt.sequential) runs.emplace_back(run_crawl(sys, opt, server.port(), "sequential", 1), 1);
  sys.shutdown();
  server.stop();

  const crawl_report& c = runs.front().first;
  std::cout << "\nerrors (reported, not fatal):\n";
  for (const auto& [url, why] : c.errors) std::printf("  %-14s %s\n", url.c_str(), why.c_str());

  std::cout << "\nsummary:\n";
  std::printf("  %-11s %11s %6s %6s %7s %9s %7s %9s %8s\n", "crawl", "concurrency", "pages",
              "links", "unique", "off-site", "errors", "in flight", "seconds");
  for (const auto& [r, conc] : runs) {
    std::printf("  %-11s %11u %6zu %6zu %7zu %9zu %7zu %9zu %8.2f\n",
                conc == 1 && runs.size() > 1 ? "sequential" : "concurrent", conc, r.pages.size(),
                r.links, r.unique, r.offsite, r.errors.size(), r.max_in_flight, r.seconds);
  }
  std::cout << "  server: " << server.requests() << " requests served\n";

  bool ok = true;
  if (runs.size() > 1) {
    const crawl_report& s = runs.back().first;
    std::printf("  speed-up, %u at a time over 1: %.2fx\n", runs.front().second,
                s.seconds / c.seconds);
    if (c.truncated || s.truncated) {
      // A limit cut the crawls at points that depend on timing: not comparable.
      std::cout << "check: skipped, a crawl was cut short by --max-pages or --time-limit-s\n";
    } else {
      ok = c.pages == s.pages && c.errors == s.errors && c.links == s.links;
      if (ok) {
        std::cout << "check: both crawls found the same " << c.pages.size() << " pages, " << c.links
                  << " links and " << c.errors.size() << " errors\n";
      } else {
        std::cout << "check: MISMATCH between the concurrent and the sequential crawl\n";
        for (const auto& [label, a, b] :
             {std::tuple{"concurrent", &c, &s}, std::tuple{"sequential", &s, &c}}) {
          for (const auto& [url, why] : a->errors) {
            const auto it = b->errors.find(url);
            if (it == b->errors.end() || it->second != why) {
              std::cout << "  only the " << label << " crawl: " << url << ": " << why << '\n';
            }
          }
        }
      }
    }
  }
  return ok ? 0 : 1;
}
