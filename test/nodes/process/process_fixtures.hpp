#pragma once
// Actors, messages and pool functions shared by the process backend tests
// (registered in every process of the test binary, parent and children).

#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <troupe/nodes.hpp>
#include <troupe/troupe.hpp>
#include <vector>

namespace pt {

// One declaration: the name and the fields.
struct Inc {
  int by = 1;
};
TROUPE_MESSAGE(Inc, "pt.inc", by);

struct Get {
  std::uint8_t unused = 0;
  TROUPE_FIELDS(unused);
};
TROUPE_MESSAGE(Get, "pt.get");

struct Echo {
  std::string text;
};
TROUPE_MESSAGE(Echo, "pt.echo", text);

enum class crash_kind : std::uint8_t {
  segv,
  abort,
  exit3,
  throw_error,
  spin,
  alloc,
  error_code0,
  hangup,
};
TROUPE_ENUM_RANGE(crash_kind, crash_kind::segv, crash_kind::hangup);

struct Crash {
  crash_kind how = crash_kind::segv;
  TROUPE_FIELDS(how);
};
TROUPE_MESSAGE(Crash, "pt.crash");

struct Blob {
  std::vector<std::byte> data;
  TROUPE_FIELDS(data);
};
TROUPE_MESSAGE(Blob, "pt.blob");

/// A handler that sleeps for `ms` milliseconds.
struct Nap {
  int ms = 0;
  TROUPE_FIELDS(ms);
};
TROUPE_MESSAGE(Nap, "pt.nap");

/// Asks a child for its open descriptors: one "fd -> target" line each.
struct Fds {
  std::uint8_t unused = 0;
  TROUPE_FIELDS(unused);
};
TROUPE_MESSAGE(Fds, "pt.fds");

/// This process's open descriptors (but the one listing them), as
/// "fd -> target" lines.
inline std::string open_fds() {
  std::string out;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return "opendir failed";
  const int self = ::dirfd(d);
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd == self) continue;
    char target[256] = {};
    const std::string path = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    out += std::to_string(fd) + " -> " +
           (n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "?") + "\n";
  }
  ::closedir(d);
  return out;
}

/// The number of this process's open descriptors (with the one counting).
inline std::size_t fd_count() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

/// As open_fds(), on one line (for a failure's message).
inline std::string fd_list() {
  std::string s = open_fds();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

/// True if this process has no child left, running or a zombie (reaps
/// nothing: it only looks).
inline bool no_children_left() {
  siginfo_t si{};
  return ::waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}

/// Asks a child for its command line (the arguments joined by spaces).
struct Args {
  std::uint8_t unused = 0;
  TROUPE_FIELDS(unused);
};
TROUPE_MESSAGE(Args, "pt.args");

/// A message Counter handles that has no TROUPE_MESSAGE: it cannot cross.
struct Unnamed {
  int v = 0;
};

/// A reply type without a codec, to a message that can cross.
struct Opaque {
  int v = 0;
};
struct AskOpaque {
  int v = 0;
};
TROUPE_MESSAGE(AskOpaque, "pt.ask_opaque", v);

class Counter : public troupe::actor<Counter> {
 public:
  void on(Inc m) { n_ += m.by; }
  int on(Unnamed u) const { return u.v; }
  Opaque on(AskOpaque a) { return Opaque{n_ += a.v}; }
  int on(Get /*unused*/) const { return n_; }
  std::string on(Echo e) const { return e.text + " from " + std::to_string(::getpid()); }
  std::size_t on(Blob b) { return blobs_ += b.data.size(); }
  std::string on(Fds /*unused*/) const { return open_fds(); }
  void on(Nap n) { std::this_thread::sleep_for(std::chrono::milliseconds(n.ms)); }
  std::string on(Args /*unused*/) const {
    std::string all;
    if (FILE* f = std::fopen("/proc/self/cmdline", "rb")) {
      for (int ch = std::fgetc(f); ch != EOF; ch = std::fgetc(f)) {
        all += ch == 0 ? ' ' : static_cast<char>(ch);
      }
      std::fclose(f);
    }
    return all;
  }
  void on(Crash c) {
    switch (c.how) {
      case crash_kind::segv:
        // As a wild pointer would (without UB for UBSan); never returns.
        ::raise(SIGSEGV);
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
      case crash_kind::abort:
        std::abort();
      case crash_kind::exit3:
        std::_Exit(3);
      case crash_kind::throw_error:
        throw std::runtime_error("boom");
      case crash_kind::spin: {
        volatile std::uint64_t x = 0;
        for (;;) x = x + 1;
      }
      case crash_kind::error_code0:
        // A troupe::error whose code is no enumerator ("no error" as an int).
        throw troupe::error(static_cast<troupe::errc>(0), "code zero");
      case crash_kind::hangup:
        // Closes the connection (fd 3) and stops the whole process: the
        // parent sees EOF from a child that is alive but does not exit
        // (unless the child's main thread sees the EOF first and exits).
        ::shutdown(3, SHUT_RDWR);
        ::raise(SIGSTOP);
        break;
      case crash_kind::alloc: {
        std::vector<char> big(std::size_t{3} << 30, 'x');  // 3 GiB
        n_ += big[12345];
        break;
      }
    }
  }

 private:
  int n_ = 0;
  std::size_t blobs_ = 0;
};
TROUPE_ISOLATED_ACTOR(Counter, "pt.counter");

/// An isolated actor with constructor arguments (they cross encoded).
struct Style {
  std::string open;
  std::string close;
  TROUPE_FIELDS(open, close);
};
class Greeter : public troupe::actor<Greeter> {
 public:
  Greeter(std::string greeting, int times, Style style)
      : greeting_(std::move(greeting)), times_(times), style_(std::move(style)) {
    if (times_ < 0) throw std::invalid_argument("times < 0");
  }
  std::string on(Echo e) const {
    std::string out;
    for (int i = 0; i < times_; ++i) out += style_.open + greeting_ + " " + e.text + style_.close;
    return out;
  }

 private:
  std::string greeting_;
  int times_;
  Style style_;
};
TROUPE_ISOLATED_ACTOR(Greeter, "pt.greeter");

// Refs inside messages. Collector lives in the parent; its refs cross.
struct Note {
  std::string text;
};
TROUPE_MESSAGE(Note, "pt.note", text);
struct Notes {};
TROUPE_MESSAGE(Notes, "pt.notes");
struct Shout {
  std::string text;
};
TROUPE_MESSAGE(Shout, "pt.shout", text);

class Collector : public troupe::actor<Collector> {
 public:
  void on(Note n) { notes_.push_back(std::move(n.text)); }
  [[nodiscard]] std::vector<std::string> on(Notes /*unused*/) const { return notes_; }
  [[nodiscard]] std::string on(Shout s) const { return s.text + "!"; }

 private:
  std::vector<std::string> notes_;
};
TROUPE_ISOLATED_ACTOR(Collector, "pt.collector");

/// An actor the isolated Relay spawns in its child; its ref goes back.
class Helper : public troupe::actor<Helper> {
 public:
  [[nodiscard]] std::string on(Echo e) const {
    return "helper " + e.text + " from " + std::to_string(::getpid());
  }
  void on(Inc i) { n_ += i.by; }
  [[nodiscard]] int on(Get /*unused*/) const { return n_; }

 private:
  int n_ = 0;
};
TROUPE_ISOLATED_ACTOR(Helper, "pt.helper");

class Relay;
struct Tell {
  troupe::ref<Collector> to;
  std::string text;
};
TROUPE_MESSAGE(Tell, "pt.tell", to, text);
struct AskVia {
  troupe::ref<Collector> to;
  std::string text;
};
TROUPE_MESSAGE(AskVia, "pt.ask_via", to, text);
struct MakeHelper {};
TROUPE_MESSAGE(MakeHelper, "pt.make_helper");
struct IsHelper {
  troupe::ref<Helper> h;
};
TROUPE_MESSAGE(IsHelper, "pt.is_helper", h);
struct IsMe {
  troupe::ref<Relay> r;
};
TROUPE_MESSAGE(IsMe, "pt.is_me", r);

/// Runs isolated: sends and asks the refs it is given, gives refs back.
class Relay : public troupe::actor<Relay> {
 public:
  void on(Tell t) { t.to.send(Note{t.text + " from " + std::to_string(::getpid())}); }
  troupe::task<std::string> on(AskVia a) {
    // The message is a named local: g++ 12 mis-moves a temporary with a
    // non-trivial destructor inside co_await in a try block.
    Shout s{a.text};
    try {
      co_return co_await a.to.ask(std::move(s));
    } catch (const troupe::error& e) {
      co_return "error " + std::to_string(static_cast<int>(e.value())) + ": " + e.what();
    }
  }
  troupe::ref<Helper> on(MakeHelper /*unused*/) {
    if (!helper_) helper_ = system().spawn<Helper>();
    return helper_;
  }
  [[nodiscard]] bool on(IsHelper m) const { return m.h && m.h == helper_; }
  [[nodiscard]] bool on(IsMe m) const { return m.r == self(); }

 private:
  troupe::ref<Helper> helper_;
};
TROUPE_ISOLATED_ACTOR(Relay, "pt.relay");

/// Waits (up to `d`) until the actor of `r` has terminated (for an
/// isolated one: its child is gone and reaped); true if it did.
template <class A>
bool wait_gone(const troupe::ref<A>& r, std::chrono::milliseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (!r.terminated()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

/// The process id of the actor of `r`.
template <class A>
int pid_of(const troupe::ref<A>& r) {
  return r.location().pid;
}

inline int add(int a, int b) { return a + b; }
TROUPE_POOL_FUNCTION(add);

inline long square(long x) { return x * x; }
TROUPE_POOL_FUNCTION(square);

inline std::string fail_with(std::string why) { throw std::invalid_argument(why); }
TROUPE_POOL_FUNCTION(fail_with);

inline int die_after(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  ::raise(SIGKILL);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}
TROUPE_POOL_FUNCTION(die_after);

inline int my_pid(int /*unused*/) { return static_cast<int>(::getpid()); }
TROUPE_POOL_FUNCTION(my_pid);

inline std::string text_of(std::size_t n) { return std::string(n, 'x'); }
TROUPE_POOL_FUNCTION(text_of);

inline std::size_t length_of(std::string s) { return s.size(); }
TROUPE_POOL_FUNCTION(length_of);

inline int spin_forever(int /*unused*/) {
  volatile std::uint64_t x = 0;
  for (;;) x = x + 1;
}
TROUPE_POOL_FUNCTION(spin_forever);

inline int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
TROUPE_POOL_FUNCTION(sleep_ms);

// Uses `ms` of CPU time (of this thread), then returns it.
inline int burn_cpu(int ms) {
  auto cpu_ms = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  };
  const long until = cpu_ms() + ms;
  volatile std::uint64_t x = 0;
  while (cpu_ms() < until) {
    for (int i = 0; i < 10000; ++i) x = x + 1;
  }
  return ms;
}
TROUPE_POOL_FUNCTION(burn_cpu);

inline void nothing(int /*unused*/) {}
TROUPE_POOL_FUNCTION(nothing);

inline int not_registered(int x) { return x; }

}  // namespace pt
