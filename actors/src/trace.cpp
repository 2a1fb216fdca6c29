// The tracer: per-thread ring buffers of fixed-size events, and the writer
// of the Chrome trace event file.
//
// Recording (any thread): a thread's first event attaches a ring to it (under
// the registry's mutex, once); every event after that touches only the
// thread's own ring. Quiescence at stop is a Dekker handshake: a writer
// raises its ring's `busy` flag, then checks `g_on`; stop clears `g_on`, then
// waits until no ring is busy. Both sides use seq_cst, so either the writer
// sees the trace off, or stop sees it busy and waits; after that the rings
// are read and reset with no writer inside. Rings are never freed (the
// tracer is never destroyed): a ring whose thread ended is retired, written
// by the next stop, and then given to a new thread.

#include "internal/trace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "internal/log.hpp"
#include "troupe/actors/detail/cpu_relax.hpp"
#include "troupe/actors/detail/thread_annotations.hpp"
#include "troupe/actors/error.hpp"

namespace troupe::detail::trace {

std::atomic<bool> g_on{false};

namespace {

constexpr std::size_t kDetail = 46;

struct event {
  std::uint64_t ts;    // ns on the trace clock
  std::uint64_t dur;   // 'X' only
  const char* name;    // static
  const char* actor;   // static, or null
  std::uint64_t id;    // the actor's id
  std::uint32_t flow;  // 'X': the flow ended here; 's': the flow started
  // 'X': the pid of the process whose flow `flow` ended here (a frame from
  // a peer), or 0 for this process's own.
  std::uint32_t flow_pid;
  char ph;  // 'X', 's', 'i'
  std::uint8_t detail_len;
  std::array<char, kDetail> detail;
};
static_assert(sizeof(event) == 96);

struct ring {
  std::atomic<bool> busy{false};
  std::uint64_t head = 0;  // events written this session (owner; stop reads it quiescent)
  std::vector<event> slots;
  std::uint32_t tid = 0;  // fixed
  std::string name;       // under the tracer's mutex
  bool retired = false;   // its thread ended; under the tracer's mutex
};

struct tracer {
  mutex mu;
  std::vector<std::unique_ptr<ring>> rings TROUPE_GUARDED_BY(mu);
  std::vector<ring*> free_rings TROUPE_GUARDED_BY(mu);  // retired and written
  std::size_t capacity TROUPE_GUARDED_BY(mu) = 0;       // of this session
  std::uint64_t epoch_ns = 0;                           // written before g_on is raised
  std::FILE* file TROUPE_GUARDED_BY(mu) = nullptr;
  std::string path TROUPE_GUARDED_BY(mu);
  const void* owner TROUPE_GUARDED_BY(mu) = nullptr;
  bool running TROUPE_GUARDED_BY(mu) = false;
  std::atomic<std::uint32_t> next_flow{0};
  std::uint32_t next_tid TROUPE_GUARDED_BY(mu) = 0;
  // TROUPE_TRACE's SIGINT hook: the handler writes a byte here; a thread
  // stops the trace and re-raises.
  int sig_pipe[2] = {-1, -1};
  std::thread sig_thread;
  bool sig_installed = false;
  struct sigaction old_sigint {};
};

// Never destroyed: threads may record while the program exits.
tracer& the_tracer() {
  static auto* t = new tracer;  // NOLINT(cppcoreguidelines-owning-memory)
  return *t;
}

std::uint64_t clock_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

struct holder {
  ring* r = nullptr;
  std::string name;
  holder() = default;
  holder(const holder&) = delete;
  holder& operator=(const holder&) = delete;
  ~holder() {
    if (r == nullptr) return;
    tracer& t = the_tracer();
    lock_guard lk(t.mu);
    r->retired = true;
  }
};
thread_local holder tl_holder;

// The calling thread's ring, attached on first use; null if out of memory
// or the trace stopped meanwhile.
ring* my_ring() noexcept {
  holder& h = tl_holder;
  if (h.r != nullptr) [[likely]]
    return h.r;
  tracer& t = the_tracer();
  try {
    lock_guard lk(t.mu);
    if (!t.running) return nullptr;
    ring* r = nullptr;
    if (!t.free_rings.empty()) {
      r = t.free_rings.back();
      t.free_rings.pop_back();
      r->retired = false;
    } else {
      auto fresh = std::make_unique<ring>();
      fresh->tid = ++t.next_tid;
      fresh->slots.resize(t.capacity);
      r = fresh.get();
      t.rings.push_back(std::move(fresh));
    }
    r->name = h.name.empty() ? "thread " + std::to_string(r->tid) : h.name;
    h.r = r;
    return r;
  } catch (...) {
    return nullptr;
  }
}

// Writes one event into the calling thread's ring (see the file comment).
template <class Fill>
void record(Fill fill) noexcept {
  ring* r = my_ring();
  if (r == nullptr) return;
  r->busy.store(true, std::memory_order_seq_cst);
  if (g_on.load(std::memory_order_seq_cst)) {
    event& e = r->slots[r->head % r->slots.size()];
    fill(e);
    ++r->head;
  }
  r->busy.store(false, std::memory_order_release);
}

// ---- the JSON writer --------------------------------------------------------

// Appends `s` as a JSON string body: quotes, backslashes and control
// characters escaped; bytes that are not valid UTF-8 become U+FFFD.
void append_escaped(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "\\u%04x", c);
      out += buf.data();
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      // A UTF-8 sequence: its length from the lead byte, then continuations.
      std::size_t n = 0;
      if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
        n = 2;
      } else if ((c & 0xF0) == 0xE0) {
        n = 3;
      } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
        n = 4;
      }
      bool ok = n != 0 && i + n <= s.size();
      for (std::size_t k = 1; ok && k < n; ++k) {
        ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      }
      if (ok) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out += "\\ufffd";
        ++i;
      }
    }
  }
}

void append_str(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

// Microseconds with three decimals (Chrome's ts unit is the microsecond).
void append_us(std::string& out, std::uint64_t ns) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%llu.%03llu", static_cast<unsigned long long>(ns / 1000),
                static_cast<unsigned long long>(ns % 1000));
  out += buf.data();
}

// A flow's id in the file: unique across the processes of one run, so the
// files of a parent and its children merge into one trace (tools/
// trace_merge.py) with their arrows. pid < 2^22 (Linux's pid_max) keeps it
// within JSON's exact integers (2^53).
std::string flow_json_id(long pid, std::uint32_t flow) {
  return std::to_string((static_cast<std::uint64_t>(pid) << 31) | (flow & 0x7FFFFFFFU));
}

void append_event(std::string& out, const event& e, std::uint64_t epoch, long pid,
                  std::uint32_t tid) {
  const std::uint64_t ts = e.ts >= epoch ? e.ts - epoch : 0;
  const std::string head =
      ",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"ts\":";
  auto actor_arg = [&] {
    if (e.actor == nullptr) return;
    out += "\"actor\":";
    append_str(out, std::string(e.actor) + "#" + std::to_string(e.id));
  };
  const std::string_view detail(e.detail.data(), e.detail_len);
  switch (e.ph) {
    case 'X': {
      out += R"({"ph":"X","cat":)";
      out += e.actor != nullptr ? "\"handler\"" : (e.flow_pid != 0 ? "\"link\"" : "\"task\"");
      out += ",\"name\":";
      append_str(out, e.actor != nullptr ? std::string(e.actor) + " <- " + e.name : e.name);
      out += head;
      append_us(out, ts);
      out += ",\"dur\":";
      append_us(out, e.dur);
      out += ",\"args\":{";
      actor_arg();
      out += "}}";
      if (e.flow != 0) {
        // The end of the send's arrow, bound to this slice ("bp":"e").
        out += ",\n{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"message\",\"name\":\"message\",\"id\":";
        out += flow_json_id(e.flow_pid != 0 ? static_cast<long>(e.flow_pid) : pid, e.flow);
        out += head;
        append_us(out, ts);
        out += '}';
      }
      break;
    }
    case 's':
      out += R"({"ph":"s","cat":"message","name":"message","id":)";
      out += flow_json_id(pid, e.flow);
      out += head;
      append_us(out, ts);
      out += ",\"args\":{";
      actor_arg();
      out += "}}";
      break;
    default:  // 'i'
      out += R"({"ph":"i","s":"t","cat":"troupe","name":)";
      append_str(out, e.name);
      out += head;
      append_us(out, ts);
      out += ",\"args\":{";
      actor_arg();
      if (!detail.empty()) {
        if (e.actor != nullptr) out += ',';
        out += "\"detail\":";
        append_str(out, detail);
      }
      out += "}}";
      break;
  }
}

// Writes the whole trace; the rings are quiescent. Returns the summary.
trace_summary write_file(tracer& t) TROUPE_REQUIRES(t.mu) {
  trace_summary sum;
  sum.path = t.path;
  const long pid = static_cast<long>(::getpid());
  std::string out = "{\"traceEvents\":[\n";
  out += R"({"ph":"M","name":"process_name","pid":)" + std::to_string(pid) +
         R"(,"args":{"name":"troupe )" + std::to_string(pid) + R"("}})";
  bool failed = false;
  std::FILE* const file = t.file;
  auto flush = [&] {
    if (!failed && std::fwrite(out.data(), 1, out.size(), file) != out.size()) failed = true;
    out.clear();
  };
  for (const auto& r : t.rings) {
    if (r->head == 0) continue;
    ++sum.threads;
    out += ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + std::to_string(pid) +
           R"(,"tid":)" + std::to_string(r->tid) + R"(,"args":{"name":)";
    append_str(out, r->name);
    out += "}}";
    const std::uint64_t cap = r->slots.size();
    const std::uint64_t first = r->head > cap ? r->head - cap : 0;
    sum.dropped += first;
    for (std::uint64_t i = first; i < r->head; ++i) {
      out += ",\n";
      append_event(out, r->slots[i % cap], t.epoch_ns, pid, r->tid);
      ++sum.events;
      if (out.size() > (1U << 20)) flush();
    }
  }
  out += "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"dropped_events\":" +
         std::to_string(sum.dropped) + ",\"events\":" + std::to_string(sum.events) + "}}\n";
  flush();
  if (std::fclose(t.file) != 0) failed = true;
  t.file = nullptr;
  if (failed) {
    throw std::system_error(errno != 0 ? errno : EIO, std::generic_category(),
                            "trace_stop: writing " + t.path);
  }
  return sum;
}

void sigint_handler(int /*sig*/) {
  const tracer& t = the_tracer();
  const char b = 1;
  if (t.sig_pipe[1] >= 0) {
    [[maybe_unused]] const auto n = ::write(t.sig_pipe[1], &b, 1);
  }
}

}  // namespace

std::uint64_t now() noexcept { return clock_ns(); }

namespace {

// A slice [start, now) that ends flow `flow` of process `flow_pid` (0: ours).
void record_slice(const char* name, const char* actor, std::uint64_t id, std::uint64_t start,
                  std::uint32_t flow, std::uint32_t flow_pid) noexcept {
  const std::uint64_t end = clock_ns();
  record([&](event& e) {
    e.ts = start;
    e.dur = end - start;
    e.name = name;
    e.actor = actor;
    e.id = id;
    e.flow = flow;
    e.flow_pid = flow_pid;
    e.ph = 'X';
    e.detail_len = 0;
  });
}

}  // namespace

void slice(const char* name, const char* actor, std::uint64_t id, std::uint64_t start,
           std::uint32_t flow) noexcept {
  record_slice(name, actor, id, start, flow, 0);
}

void slice_from(const char* name, std::uint64_t start, std::uint32_t peer_pid,
                std::uint32_t flow) noexcept {
  record_slice(name, nullptr, 0, start, flow, peer_pid);
}

std::uint32_t flow_start(const char* to, std::uint64_t id) noexcept {
  std::uint32_t f = the_tracer().next_flow.fetch_add(1, std::memory_order_relaxed) + 1;
  if (f == 0) f = 1;  // wrapped: 0 means "no flow"
  bool recorded = false;
  record([&](event& e) {
    e.ts = clock_ns();
    e.dur = 0;
    e.name = "message";
    e.actor = to;
    e.id = id;
    e.flow = f;
    e.flow_pid = 0;
    e.ph = 's';
    e.detail_len = 0;
    recorded = true;
  });
  return recorded ? f : 0;
}

void instant(const char* name, const char* actor, std::uint64_t id,
             std::string_view detail) noexcept {
  record([&](event& e) {
    e.ts = clock_ns();
    e.dur = 0;
    e.name = name;
    e.actor = actor;
    e.id = id;
    e.flow = 0;
    e.flow_pid = 0;
    e.ph = 'i';
    const std::size_t n = std::min(detail.size(), kDetail);
    if (n != 0) std::memcpy(e.detail.data(), detail.data(), n);  // data() may be null
    e.detail_len = static_cast<std::uint8_t>(n);
  });
}

void name_thread(std::string name) noexcept {
  holder& h = tl_holder;
  try {
    h.name = std::move(name);
    if (h.r != nullptr) {
      tracer& t = the_tracer();
      lock_guard lk(t.mu);
      h.r->name = h.name;
    }
  } catch (...) {  // out of memory: the track keeps its old name
  }
}

void start(const std::string& path, const trace_options& opts, const void* owner) {
  if (opts.ring_events < 16) {
    throw error(errc::invalid_argument, "trace_start: ring_events must be at least 16, got " +
                                            std::to_string(opts.ring_events));
  }
  tracer& t = the_tracer();
  lock_guard lk(t.mu);
  if (t.running) {
    throw error(errc::invalid_argument,
                "trace_start: a trace is already being recorded into " + t.path);
  }
  std::FILE* f = std::fopen(path.c_str(), "we");
  if (f == nullptr) {
    throw std::system_error(errno, std::generic_category(), "trace_start: opening " + path);
  }
  // No writer is inside a ring (the trace is off and the last stop waited
  // for them): reset every ring for this session.
  for (auto& r : t.rings) {
    r->head = 0;
    if (r->slots.size() != opts.ring_events) {
      r->slots.clear();
      r->slots.shrink_to_fit();
      r->slots.resize(opts.ring_events);
    }
  }
  t.capacity = opts.ring_events;
  t.file = f;
  t.path = path;
  t.owner = owner;
  t.running = true;
  t.epoch_ns = clock_ns();
  g_on.store(true, std::memory_order_seq_cst);
}

trace_summary stop() {
  tracer& t = the_tracer();
  unique_lock lk(t.mu);
  if (!t.running) throw error(errc::invalid_argument, "trace_stop: no trace is being recorded");
  g_on.store(false, std::memory_order_seq_cst);
  // Wait for writers inside a ring (each is a few stores away from done).
  for (const auto& r : t.rings) {
    while (r->busy.load(std::memory_order_seq_cst)) cpu_relax();
  }
  t.running = false;
  t.owner = nullptr;
  trace_summary sum;
  try {
    sum = write_file(t);
  } catch (...) {
    for (auto& r : t.rings) {
      if (r->retired) t.free_rings.push_back(r.get());
    }
    throw;
  }
  // Retired rings are written: new threads may have them.
  for (auto& r : t.rings) {
    if (r->retired &&
        std::find(t.free_rings.begin(), t.free_rings.end(), r.get()) == t.free_rings.end()) {
      t.free_rings.push_back(r.get());
    }
  }
  lk.unlock();
  logger()->info("trace: wrote {} events of {} threads to {}{}", sum.events, sum.threads, sum.path,
                 sum.dropped != 0 ? " (" + std::to_string(sum.dropped) + " dropped)" : "");
  return sum;
}

void stop_if_owner(const void* owner) noexcept {
  tracer& t = the_tracer();
  {
    lock_guard lk(t.mu);
    if (!t.running || t.owner != owner) return;
  }
  try {
    stop();
  } catch (const std::exception& e) {
    logger()->error("trace: {}", e.what());
  }
}

void finish_before_exit() noexcept {
  tracer& t = the_tracer();
  {
    lock_guard lk(t.mu);
    if (!t.running) return;
  }
  try {
    stop();
  } catch (const std::exception& e) {
    logger()->error("trace: {}", e.what());
  }
}

void start_from_env(const void* owner) noexcept {
  const char* env = std::getenv("TROUPE_TRACE");  // NOLINT(concurrency-mt-unsafe): at construction
  if (env == nullptr || *env == '\0') return;
  tracer& t = the_tracer();
  {
    lock_guard lk(t.mu);
    if (t.running) return;
  }
  try {
    std::string path = env;
    // The process backend re-executes the program: a child writes a file of
    // its own, named by its pid, next to its parent's.
    const std::string me = std::to_string(static_cast<long>(::getpid()));
    const char* first = std::getenv("TROUPE_TRACE_PID");  // NOLINT(concurrency-mt-unsafe)
    const bool child = first != nullptr && me != first;
    if (child) {
      const std::string stem = path.ends_with(".json") ? path.substr(0, path.size() - 5) : path;
      path = stem + "." + me + ".json";
    } else {
      ::setenv("TROUPE_TRACE_PID", me.c_str(), 1);  // NOLINT(concurrency-mt-unsafe): for children
    }
    start(path, {}, owner);
    // One time base for the files of a run (steady_clock is the machine's
    // CLOCK_MONOTONIC): a child measures from its parent's start, so merged
    // files line up.
    if (child) {
      // NOLINTNEXTLINE(concurrency-mt-unsafe): at construction
      if (const char* ep = std::getenv("TROUPE_TRACE_EPOCH"); ep != nullptr) {
        char* end = nullptr;
        const unsigned long long v = std::strtoull(ep, &end, 10);
        if (end != ep && *end == '\0') {
          lock_guard lk(t.mu);
          if (v <= t.epoch_ns) t.epoch_ns = v;
        }
      }
    } else {
      std::uint64_t epoch = 0;
      {
        lock_guard lk(t.mu);
        epoch = t.epoch_ns;
      }
      // NOLINTNEXTLINE(concurrency-mt-unsafe): read by the children it starts
      ::setenv("TROUPE_TRACE_EPOCH", std::to_string(epoch).c_str(), 1);
    }
    logger()->info("trace: recording into {} (TROUPE_TRACE)", path);
    // SIGINT writes the file first, when the program left SIGINT as it was.
    struct sigaction cur {};
    if (!t.sig_installed && ::sigaction(SIGINT, nullptr, &cur) == 0 && cur.sa_handler == SIG_DFL &&
        ::pipe2(t.sig_pipe, O_CLOEXEC) == 0) {
      t.sig_thread = std::thread([&t] {
        name_thread("trace SIGINT watcher");
        char b = 0;
        const auto n = ::read(t.sig_pipe[0], &b, 1);
        if (n != 1) return;
        bool running = false;
        {
          lock_guard lk(t.mu);
          running = t.running;
        }
        if (running) {
          try {
            stop();
          } catch (const std::exception& e) {
            logger()->error("trace: {}", e.what());
          }
        }
        ::sigaction(SIGINT, &t.old_sigint, nullptr);
        ::raise(SIGINT);
      });
      t.sig_thread.detach();
      struct sigaction sa {};
      sa.sa_handler = sigint_handler;
      ::sigemptyset(&sa.sa_mask);
      ::sigaction(SIGINT, &sa, &t.old_sigint);
      t.sig_installed = true;
    }
  } catch (const std::exception& e) {
    logger()->error("trace: TROUPE_TRACE={}: {}", env, e.what());
  }
}

}  // namespace troupe::detail::trace
