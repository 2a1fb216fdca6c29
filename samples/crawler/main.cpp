// An I/O-bound crawler.
//
// With no --url it starts its own HTTP server on 127.0.0.1 serving a
// generated site (some pages slow, some links broken, some URLs that stall
// or drop the connection, some off-site links), then crawls it twice: with
// bounded concurrency and sequentially, and compares.
//
// With --url URL it crawls a real site: that host only (--all-hosts lifts
// it), obeying each host's robots.txt (fetched first), within --max-pages,
// --time-limit and a per-fetch --timeout; it lists the pages found, the
// errors and what robots.txt kept it from, and checks that it fetched every
// URL once, none off-site and none disallowed.
//
// The crawl is an actor that owns the frontier, the set of URLs seen and
// the counts (no locks). It never waits on a socket: fetches run on the
// fetcher's own I/O thread (libcurl's multi interface, see fetch.hpp for why
// libcurl), and each result comes back to the actor as a message. Errors are
// reported, not fatal.
//
//   crawler [--pages N] [--latency-ms L] ... [--no-sequential]
//   crawler --url URL [--all-hosts] [--max-pages M] [--concurrency C]
//           [--time-limit S] [--timeout S | --timeout-ms T]     (CLI11; --help)
#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
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

#include "cli.hpp"
#include "fetch.hpp"
#include "links.hpp"
#include "robots.hpp"
#include "site.hpp"
#include "url.hpp"

namespace {

constexpr std::string_view kAgent = "troupe-crawler";  // robots.txt's name for us
constexpr std::size_t kMaxBody = std::size_t{1} << 20;
constexpr long kMaxRedirects = 5;

struct options {
  crawl::site_config site;
  unsigned concurrency = 8;
  unsigned timeout_ms = 1000;
  unsigned timeout_s = 0;  // --timeout, 0: not given
  unsigned max_pages = 10000;
  unsigned time_limit_s = 60;
  bool no_sequential = false;
  std::string url;
  bool all_hosts = false;
};

// Binds the command line to `o` (CLI11; samples/common/cli.hpp runs it).
void describe(CLI::App& app, options& o) {
  app.description(
      "Crawls a site with bounded concurrency: an actor owns the frontier and the\n"
      "URLs seen, fetches run on one I/O thread (libcurl multi) and come back as\n"
      "messages. Errors (broken links, timeouts, dropped connections) are reported,\n"
      "not fatal.\n\n"
      "Without --url it serves a generated site on 127.0.0.1, crawls it at\n"
      "--concurrency and then one at a time, and checks both found the same\n"
      "(a mismatch exits with status 1). Off-site links are never fetched.\n\n"
      "With --url it crawls that site, one crawl, obeying robots.txt; defaults\n"
      "there: --concurrency 4, --timeout 10, --max-pages 100.");
  const std::string site_group = "The built-in site (without --url)";
  const std::string crawl_group = "Crawl";

  auto* url = app.add_option("--url", o.url,
                             "crawl this http:// or https:// site instead of the built-in one:\n"
                             "its host only, robots.txt obeyed")
                  ->check(CLI::Validator(
                      [](std::string& s) -> std::string {
                        if (crawl::parse_url(s)) return {};
                        return "expected an http:// or https:// URL, got '" + s + "'";
                      },
                      ""))
                  ->type_name("URL")
                  ->group(crawl_group);
  app.add_flag("--all-hosts", o.all_hosts,
               "with --url: follow links to other hosts too (each host's robots.txt\n"
               "is obeyed)")
      ->needs(url)
      ->group(crawl_group);

  app.add_option("--pages", o.site.pages, "pages of the site")
      ->check(CLI::Range(1U, 5000U))
      ->capture_default_str()
      ->excludes(url)
      ->group(site_group);
  app.add_option("--latency-ms", o.site.latency_ms, "delay of every answer")
      ->check(CLI::Range(0U, 1000U))
      ->capture_default_str()
      ->excludes(url)
      ->group(site_group);
  app.add_option("--slow-every", o.site.slow_every, "every K-th page is slow (0: none)")
      ->check(CLI::Range(0U, 5000U))
      ->capture_default_str()
      ->excludes(url)
      ->group(site_group);
  app.add_option("--slow-ms", o.site.slow_ms, "delay of a slow page")
      ->check(CLI::Range(0U, 10000U))
      ->capture_default_str()
      ->excludes(url)
      ->group(site_group);
  app.add_flag("--no-sequential", o.no_sequential, "skip the sequential crawl")
      ->excludes(url)
      ->group(site_group);

  app.add_option("--concurrency", o.concurrency,
                 "fetches in flight at once (default 8; 4 with --url)")
      ->check(CLI::Range(1U, 64U))
      ->group(crawl_group);
  auto* timeout_ms = app.add_option("--timeout-ms", o.timeout_ms,
                                    "per-fetch timeout in ms (default 1000; 10000 with --url);\n"
                                    "the built-in site's stalled URLs answer after\n"
                                    "max(10000, 4 T) ms")
                         ->check(CLI::Range(10U, 60000U))
                         ->group(crawl_group);
  app.add_option("--timeout", o.timeout_s, "per-fetch timeout in seconds")
      ->check(CLI::Range(1U, 60U))
      ->excludes(timeout_ms)
      ->group(crawl_group);
  app.add_option("--max-pages", o.max_pages, "stop after M fetches (default 10000; 100 with --url)")
      ->check(CLI::Range(1U, 100000U))
      ->group(crawl_group);
  app.add_option("--time-limit-s,--time-limit", o.time_limit_s,
                 "stop starting fetches after S seconds")
      ->check(CLI::Range(1U, 3600U))
      ->capture_default_str()
      ->group(crawl_group);
}

// The defaults that differ with --url, and --timeout in ms.
void settle(const CLI::App& app, options& o) {
  if (!o.url.empty()) {
    if (app.count("--concurrency") == 0) o.concurrency = 4;
    if (app.count("--timeout-ms") == 0) o.timeout_ms = 10000;
    if (app.count("--max-pages") == 0) o.max_pages = 100;
  }
  if (o.timeout_s != 0) o.timeout_ms = o.timeout_s * 1000;
  o.site.stall_ms = std::max(10000U, 4 * o.timeout_ms);
}

std::string user_agent() { return std::string(kAgent) + "/" + troupe::version_string; }

// ---- the crawl ----------------------------------------------------------------------------

struct crawl_report {
  std::set<std::string> pages;                       // fetched with a 2xx answer (final URLs)
  std::map<std::string, std::string> errors;         // URL -> why
  std::set<std::string> disallowed;                  // on-site URLs robots.txt kept us from
  std::map<std::string, std::string> robots;         // origin -> what its robots.txt said
  std::map<std::string, crawl::robots_rules> rules;  // origin -> its rules
  std::set<std::string> sites;                       // the hosts crawled ("host[:port]")
  std::vector<std::string> fetched;                  // every URL fetched (robots.txt aside)
  std::size_t links = 0;                             // hrefs found on the pages
  std::size_t unique = 0;                            // distinct on-site URLs seen
  std::size_t offsite = 0;  // hrefs to other hosts or schemes (not fetched)
  std::size_t max_in_flight = 0;
  bool truncated = false;  // stopped by --max-pages or --time-limit
  double seconds = 0;
};

struct crawl_settings {
  std::string label;
  unsigned concurrency;
  unsigned max_pages;
  std::chrono::seconds time_limit;
  crawl::url_parts start_url;
  bool all_hosts;
  bool robots;  // fetch and obey each origin's robots.txt
  bool tty;
};

struct start {};
struct time_up {};
struct robots_fetched {
  std::string origin;
  crawl::fetch_result result;
};

class crawler : public troupe::actor<crawler> {
 public:
  crawler(crawl_settings s, crawl::fetcher& f, troupe::promise<crawl_report> done)
      : s_(std::move(s)),
        fetcher_(f),
        done_(std::move(done)),
        t0_(std::chrono::steady_clock::now()) {}

  void on(start /*unused*/) {
    limit_ = send_after(s_.time_limit, time_up{});
    r_.sites.insert(s_.start_url.site());
    discover(s_.start_url);
    pump();
  }

  // A page fetch ended (on the I/O thread, which sent us the result).
  void on(crawl::fetch_result r) {
    --in_flight_;
    if (r.error.empty()) {
      page(r);
    } else {
      r_.errors.emplace(r.url, std::move(r.error));
    }
    progress();
    pump();
  }

  // An origin's robots.txt came in: its waiting URLs can go on.
  void on(robots_fetched m) {
    --robots_pending_;
    host& h = hosts_[m.origin];
    const crawl::fetch_result& r = m.result;
    if (r.error.empty()) {
      h.rules = crawl::robots_rules::parse(r.body, kAgent);
      r_.robots[m.origin] = describe_rules(h.rules);
    } else if (r.status >= 400 && r.status < 500) {
      r_.robots[m.origin] = "none (" + r.error + "): no restrictions";
    } else {  // unreachable: assume a complete disallow (RFC 9309)
      h.rules = crawl::robots_rules::disallow_all();
      r_.robots[m.origin] = "unavailable (" + r.error + "): nothing fetched there";
      r_.errors.emplace(r.url, r.error);
    }
    r_.rules[m.origin] = h.rules;
    h.ready = true;
    for (const auto& u : h.waiting) admit(h, u);
    h.waiting.clear();
    pump();
  }

  void on(time_up /*unused*/) {
    out_of_time_ = true;
    pump();
  }

 private:
  struct host {
    bool asked = false;  // its robots.txt fetch started
    bool ready = false;  // its robots.txt is in
    crawl::robots_rules rules;
    std::vector<crawl::url_parts> waiting;  // URLs found before its robots.txt was in
  };

  [[nodiscard]] bool limit_reached() const { return out_of_time_ || started_ == s_.max_pages; }

  // Starts fetches while there is room and work.
  void pump() {
    while (in_flight_ < s_.concurrency && !frontier_.empty() && !limit_reached()) {
      std::string url = std::move(frontier_.front());
      frontier_.pop_front();
      ++started_;
      ++in_flight_;
      r_.max_in_flight = std::max(r_.max_in_flight, in_flight_);
      r_.fetched.push_back(url);
      // Runs on the fetcher's thread; the result comes back as a message.
      fetcher_.fetch(std::move(url),
                     [me = self()](crawl::fetch_result res) { me.send(std::move(res)); });
    }
    // A limit reached: no new fetches; finish once those in flight are in.
    if (limit_reached()) {
      if (!frontier_.empty()) r_.truncated = true;
      frontier_.clear();
    }
    if (in_flight_ == 0 && robots_pending_ == 0 && frontier_.empty()) finish();
  }

  // A page came in (2xx): count it once, under the URL it ended at, and
  // scan it for links if it is HTML.
  void page(const crawl::fetch_result& r) {
    const auto moved = crawl::parse_url(r.final_url);
    const std::string url = moved ? moved->url : r.url;
    if (url != r.url && moved) {  // redirected
      seen_.insert(url);
      if (!on_site(*moved)) {
        if (r.url != s_.start_url.url) {
          r_.errors.emplace(r.url, "redirected off-site to " + url);
          return;
        }
        r_.sites.insert(moved->site());  // the start page moved: its new host is the site
      }
    }
    if (!r_.pages.insert(url).second) return;  // reached before, by another URL
    const std::string_view type = r.content_type;
    if (!type.empty() && type.find("html") == std::string_view::npos) return;
    std::string base_href;
    const std::vector<std::string> hrefs = crawl::extract_links(r.body, &base_href);
    std::string base = url;
    if (!base_href.empty()) {
      if (const auto b = crawl::resolve(url, base_href)) base = b->url;
    }
    for (const auto& href : hrefs) {
      ++r_.links;
      if (const auto u = crawl::resolve(base, href)) {
        discover(*u);
      } else {
        ++r_.offsite;  // mailto:, javascript:, ... or unparsable
      }
    }
  }

  [[nodiscard]] bool on_site(const crawl::url_parts& u) const {
    return s_.all_hosts || r_.sites.contains(u.site());
  }

  // Queues a URL if it is on-site and new, once its origin's robots.txt
  // allows it.
  void discover(const crawl::url_parts& u) {
    if (!on_site(u)) {
      ++r_.offsite;
      return;
    }
    if (!seen_.insert(u.url).second) return;
    if (!s_.robots) {
      frontier_.push_back(u.url);
      return;
    }
    const std::string origin = u.origin();
    host& h = hosts_[origin];
    if (h.ready) return admit(h, u);
    h.waiting.push_back(u);
    if (h.asked) return;
    h.asked = true;
    ++robots_pending_;
    fetcher_.fetch(origin + "/robots.txt", [me = self(), origin](crawl::fetch_result res) {
      me.send(robots_fetched{origin, std::move(res)});
    });
  }

  void admit(const host& h, const crawl::url_parts& u) {
    if (h.rules.allowed(u.path)) {
      frontier_.push_back(u.url);
    } else {
      r_.disallowed.insert(u.url);
    }
  }

  static std::string describe_rules(const crawl::robots_rules& rules) {
    const auto& all = rules.rules();
    if (all.empty()) return "no rules for us";
    std::string s = std::to_string(all.size()) + (all.size() == 1 ? " rule" : " rules") + " (";
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i == 4) {
        s += ", ...";
        break;
      }
      s += std::string(i == 0 ? "" : ", ") + (all[i].allow ? "Allow: " : "Disallow: ") +
           all[i].pattern;
    }
    return s + ")";
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
  std::chrono::steady_clock::time_point t0_;
  std::deque<std::string> frontier_;
  std::unordered_set<std::string> seen_;
  std::map<std::string, host> hosts_;  // by origin
  std::size_t in_flight_ = 0;
  std::size_t robots_pending_ = 0;
  std::size_t started_ = 0;
  bool finished_ = false;
  bool out_of_time_ = false;
  troupe::timer limit_;
  crawl_report r_;
};

crawl_report run_crawl(troupe::system& sys, crawl::fetcher& f, crawl_settings s) {
  troupe::promise<crawl_report> p;
  auto result = p.get_future();
  const std::string label = s.label;
  const unsigned concurrency = s.concurrency;
  sys.spawn<crawler>(std::move(s), f, std::move(p)).send(start{});
  crawl_report r = result.get();
  std::cout << label << " crawl (" << concurrency << " at a time): " << r.pages.size() << " pages, "
            << r.links << " links, " << r.errors.size() << " errors"
            << (r.truncated ? " (truncated by a limit)" : "") << '\n';
  std::cout.flush();
  return r;
}

// `url` without its origin if it has that one ("/a/b"), else whole.
std::string shown(const std::string& url, const std::string& origin) {
  if (url.size() > origin.size() && url.starts_with(origin) && url[origin.size()] == '/') {
    return url.substr(origin.size());
  }
  return url;
}

void print_errors(const crawl_report& r, const std::string& origin) {
  std::cout << "\nerrors (reported, not fatal):\n";
  if (r.errors.empty()) std::cout << "  none\n";
  for (const auto& [url, why] : r.errors) {
    std::printf("  %-14s %s\n", shown(url, origin).c_str(), why.c_str());
  }
}

void print_summary_head() {
  std::cout << "\nsummary:\n";
  std::printf("  %-11s %11s %6s %6s %7s %9s %7s %9s %8s\n", "crawl", "concurrency", "pages",
              "links", "unique", "off-site", "errors", "in flight", "seconds");
}

void print_summary_row(const char* label, unsigned concurrency, const crawl_report& r) {
  std::printf("  %-11s %11u %6zu %6zu %7zu %9zu %7zu %9zu %8.2f\n", label, concurrency,
              r.pages.size(), r.links, r.unique, r.offsite, r.errors.size(), r.max_in_flight,
              r.seconds);
}

crawl::fetch_options fetch_options(const options& opt) {
  crawl::fetch_options f;
  f.timeout = std::chrono::milliseconds(opt.timeout_ms);
  f.max_bytes = kMaxBody;
  f.max_redirects = kMaxRedirects;
  f.user_agent = user_agent();
  return f;
}

// The built-in site, crawled concurrently and then sequentially.
int crawl_builtin_site(const options& opt) {
  crawl::site_server server(opt.site);
  const unsigned slow = opt.site.slow_every == 0 ? 0 : opt.site.pages / opt.site.slow_every;
  std::cout << "crawler: a site of " << opt.site.pages << " pages on 127.0.0.1 (latency "
            << opt.site.latency_ms << " ms, " << slow << " slow pages at " << opt.site.slow_ms
            << " ms), timeout " << opt.timeout_ms << " ms\n";
  const auto first =
      crawl::parse_url("http://127.0.0.1:" + std::to_string(server.port()) + "/page/0");
  if (!first) {
    std::cerr << "crawler: cannot make the start URL\n";
    return 1;
  }
  const std::string origin = first->origin();

  crawl::fetcher fetcher(fetch_options(opt));
  std::vector<std::pair<crawl_report, unsigned>> runs;
  {
    troupe::system sys;
    auto settings = [&](std::string label, unsigned concurrency) {
      return crawl_settings{
          std::move(label), concurrency, opt.max_pages, std::chrono::seconds(opt.time_limit_s),
          *first,           false,       false,         isatty(STDOUT_FILENO) == 1};
    };
    runs.emplace_back(run_crawl(sys, fetcher, settings("concurrent", opt.concurrency)),
                      opt.concurrency);
    if (!opt.no_sequential)
      runs.emplace_back(run_crawl(sys, fetcher, settings("sequential", 1)), 1);
    sys.shutdown();
  }
  server.stop();

  const crawl_report& c = runs.front().first;
  print_errors(c, origin);
  print_summary_head();
  for (const auto& [r, conc] : runs) {
    print_summary_row(conc == 1 && runs.size() > 1 ? "sequential" : "concurrent", conc, r);
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
              std::cout << "  only the " << label << " crawl: " << shown(url, origin) << ": " << why
                        << '\n';
            }
          }
        }
      }
    }
  }
  return ok ? 0 : 1;
}

// A real site, from --url.
int crawl_url(const options& opt) {
  const auto first = crawl::parse_url(opt.url);
  if (!first) {  // the option's validator let it through: cannot happen
    std::cerr << "crawler: --url: not an http(s) URL: '" << opt.url << "'\n";
    return 2;
  }
  const std::string origin = first->origin();
  std::cout << "crawler: " << first->url << " ("
            << (opt.all_hosts ? "every host" : "this host only") << ", robots.txt obeyed), "
            << opt.concurrency << " at a time, timeout " << opt.timeout_ms << " ms, at most "
            << opt.max_pages << " pages in " << opt.time_limit_s << " s, as " << user_agent()
            << '\n';

  crawl::fetcher fetcher(fetch_options(opt));
  crawl_report r;
  {
    troupe::system sys;
    r = run_crawl(sys, fetcher,
                  crawl_settings{"url", opt.concurrency, opt.max_pages,
                                 std::chrono::seconds(opt.time_limit_s), *first, opt.all_hosts,
                                 true, isatty(STDOUT_FILENO) == 1});
    sys.shutdown();
  }

  for (const auto& [o, what] : r.robots) std::cout << "robots.txt of " << o << ": " << what << '\n';
  std::cout << "\npages found (" << r.pages.size() << "):\n";
  for (const auto& p : r.pages) std::cout << "  " << shown(p, origin) << '\n';
  print_errors(r, origin);
  std::cout << "\nnot fetched, disallowed by robots.txt (" << r.disallowed.size() << "):\n";
  for (const auto& u : r.disallowed) std::cout << "  " << shown(u, origin) << '\n';
  print_summary_head();
  print_summary_row("url", opt.concurrency, r);
  std::cout << "  robots.txt: " << r.disallowed.size()
            << (r.disallowed.size() == 1 ? " URL" : " URLs") << " disallowed, not fetched\n";

  // What the crawl must never do, checked on what it did.
  std::set<std::string> once;
  std::vector<std::string> wrong;
  for (const auto& u : r.fetched) {
    if (!once.insert(u).second) wrong.push_back("fetched twice: " + u);
    const auto p = crawl::parse_url(u);
    if (!p) {
      wrong.push_back("not an http(s) URL: " + u);
      continue;
    }
    if (!opt.all_hosts && !r.sites.contains(p->site())) wrong.push_back("off-site: " + u);
    const auto rules = r.rules.find(p->origin());
    if (rules == r.rules.end() || !rules->second.allowed(p->path)) {
      wrong.push_back("not allowed by robots.txt: " + u);
    }
  }
  if (r.pages.empty()) wrong.emplace_back("no page could be fetched");
  if (wrong.empty()) {
    std::cout << "check: " << r.pages.size() << " pages from " << r.fetched.size()
              << " fetches, every URL fetched once, none off-site, none disallowed by robots.txt\n";
    return 0;
  }
  std::cout << "check: FAILED\n";
  for (const auto& w : wrong) std::cout << "  " << w << '\n';
  return 1;
}

// curl_global_init once, before any other curl call; cleaned up at exit.
struct curl_global {
  curl_global() : ok(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {}
  ~curl_global() {
    if (ok) curl_global_cleanup();
  }
  curl_global(const curl_global&) = delete;
  curl_global& operator=(const curl_global&) = delete;
  bool ok;
};

}  // namespace

int main(int argc, char** argv) {
  const curl_global curl;
  if (!curl.ok) {
    std::cerr << "crawler: curl_global_init failed\n";
    return 1;
  }
  options opt;
  CLI::App app{"", "crawler"};
  describe(app, opt);
  if (auto rc = sample_cli::parse(app, argc, argv)) return *rc;
  settle(app, opt);
  return opt.url.empty() ? crawl_builtin_site(opt) : crawl_url(opt);
}
