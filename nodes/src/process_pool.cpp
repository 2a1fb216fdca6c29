// process_pool: the parent's dispatch and worker replacement, the function
// registry, and the worker's side of a call.

#include "troupe/nodes/process_pool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include "internal/nodes_log.hpp"
#include "internal/peer_link.hpp"
#include "internal/pool_internal.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/nodes/detail/isolated_registry.hpp"  // reply_ok, reply_error
#include "troupe/wire/error.hpp"

namespace troupe::nodes::detail {

namespace {

struct fn_entry {
  std::string name;
  pool_invoker invoke;
};

struct fn_registry {
  std::mutex mu;
  std::map<std::string, pool_invoker, std::less<>> by_name;
  std::map<const void*, std::string> by_addr;
};

fn_registry& functions() {
  static fn_registry r;
  return r;
}

}  // namespace

bool register_pool_function(std::string_view name, const void* fn, pool_invoker invoke) {
  fn_registry& r = functions();
  std::lock_guard lk(r.mu);
  auto [it, inserted] = r.by_name.emplace(std::string(name), invoke);
  if (!inserted && it->second != invoke) {
    throw troupe::error(errc::invalid_argument, "TROUPE_POOL_FUNCTION: two functions are named \"" +
                                                    std::string(name) + "\"");
  }
  r.by_addr[fn] = std::string(name);
  return true;
}

std::string_view pool_function_name(const void* fn) {
  fn_registry& r = functions();
  std::lock_guard lk(r.mu);
  auto it = r.by_addr.find(fn);
  if (it == r.by_addr.end()) {
    throw troupe::error(errc::invalid_argument,
                        "process_pool: the function was not registered; add "
                        "TROUPE_POOL_FUNCTION(name) next to its definition");
  }
  return it->second;  // map nodes are stable
}

void run_pool_call(std::span<const std::byte> body) {
  wire::reader in(body);
  const auto req = in.fixed<std::uint64_t>();
  std::string name;
  wire::read_value(in, name);
  const std::uint64_t count = in.varint();
  if (!in.ok()) throw std::runtime_error("bad call frame");
  pool_invoker invoke = nullptr;
  {
    fn_registry& r = functions();
    std::lock_guard lk(r.mu);
    auto it = r.by_name.find(name);
    if (it != r.by_name.end()) invoke = it->second;
  }
  if (invoke == nullptr) {
    reply_error(req, errc::invalid_argument,
                "process_pool: no function \"" + name + "\" registered in the worker");
    return;
  }
  std::vector<std::byte> out;
  try {
    wire::writer w(out);
    invoke(in, count, w);
    if (!in.complete()) {
      reply_error(req, errc::invalid_argument, in.result("pool arguments").message());
      return;
    }
  } catch (const std::exception& e) {
    reply_error(req, errc::handler_threw,
                "process_pool task " + name + " threw " +
                    troupe::detail::demangle(typeid(e).name()) + ": " + e.what());
    return;
  } catch (...) {
    reply_error(
        req, errc::handler_threw,
        "process_pool task " + name + " threw an exception not derived from std::exception");
    return;
  }
  try {
    reply_ok(
        req,
        [](wire::writer& w, const void* p) {
          w.bytes(*static_cast<const std::vector<std::byte>*>(p));
        },
        &out);
  } catch (const wire::wire_error& e) {
    // Nothing was queued (the encoder rolled back); the task fails, the
    // worker lives on.
    reply_error(req, errc::invalid_argument,
                "process_pool task " + name + ": result too large: " + std::to_string(out.size()) +
                    " bytes do not fit in a frame (" + e.what() + ")");
  }
}

// ---- the parent's side -----------------------------------------------------------

namespace {

using clock = std::chrono::steady_clock;

/// A task sent to a worker and not yet completed.
struct task {
  std::string_view name;        // the registry's, stable
  reply_fn done;                // empty once completed (by its reply or the watchdog)
  clock::time_point started{};  // when it became the worker's running task
  std::chrono::milliseconds cpu_at_start{-1};  // its worker's CPU time then (with a CPU limit)
};

/// The CPU time (user + system, all threads) process `pid` has used; -1 if
/// it cannot be read (the process is gone).
std::chrono::milliseconds process_cpu(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::chrono::milliseconds(-1);
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::chrono::milliseconds(-1);
  buf[n] = '\0';
  // Fields after "(comm)": state is the 3rd field, utime the 14th, stime the 15th.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return std::chrono::milliseconds(-1);
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) != 2) {
    return std::chrono::milliseconds(-1);
  }
  static const long hz = ::sysconf(_SC_CLK_TCK);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>((utime + stime) * 1000 / static_cast<unsigned long long>(hz)));
}

/// How often the watchdog reads the CPU time of busy workers.
constexpr auto cpu_poll = std::chrono::milliseconds(100);

}  // namespace

struct pool_impl : std::enable_shared_from_this<pool_impl> {
  /// One worker process and its tasks in flight, in the order sent (the
  /// child runs them in that order, one at a time: the first one runs).
  struct worker {
    std::shared_ptr<process_peer> peer;
    std::size_t slot = 0;
    std::deque<std::shared_ptr<task>> tasks;  // guarded by pool_impl::mu
    std::size_t sent = 0;                     // tasks given to it (mu)
    bool killed = false;                      // by the watchdog; takes no more tasks
    bool retiring = false;  // had its max_tasks_per_child; stopping once they are done
  };

  pool_impl(troupe::system& s, const troupe::pool_options& o)
      : sys(s),
        opts(o),
        cpu_limit(std::chrono::seconds(o.process.limit_cpu_seconds)),
        spawn_opts(o.process) {
    // The CPU limit holds per task (the watchdog), not per process: a worker
    // that ran many short tasks must not be killed in an innocent one.
    spawn_opts.limit_cpu_seconds = 0;
  }

  troupe::system& sys;
  troupe::pool_options opts;
  std::chrono::milliseconds cpu_limit;  // per task; 0: none
  isolated_options spawn_opts;          // each worker's process (no RLIMIT_CPU)
  mutable std::mutex mu;
  std::condition_variable changed;  // a worker was replaced (or could not be)
  std::vector<std::shared_ptr<worker>> slots;
  std::vector<std::shared_ptr<worker>> retired;  // replaced, still running their last tasks
  bool closing = false;
  std::atomic<std::uint64_t> replaced{0};
  std::atomic<std::uint64_t> recycled{0};

  std::condition_variable watch_cv;  // a task started, or closing
  std::thread watchdog;

  // The callback thread (apply_async with callbacks).
  std::mutex cb_mu;
  std::condition_variable cb_cv;
  std::deque<troupe::detail::unique_function<void()>> cb_queue;
  bool cb_stop = false;
  std::thread cb_thread;

  // The callback thread: runs the queued callbacks, in order, until stopped
  // with none left.
  void run_callbacks() {
    std::unique_lock lk(cb_mu);
    for (;;) {
      cb_cv.wait(lk, [&] { return cb_stop || !cb_queue.empty(); });
      if (cb_queue.empty()) return;
      troupe::detail::unique_function<void()> fn = std::move(cb_queue.front());
      cb_queue.pop_front();
      lk.unlock();
      try {
        fn();
      } catch (const std::exception& e) {
        log_error("troupe.nodes: a process_pool callback threw {}: {}",
                  troupe::detail::demangle(typeid(e).name()), e.what());
      } catch (...) {
        log_error(
            "troupe.nodes: a process_pool callback threw an exception not derived from "
            "std::exception");
      }
      fn = {};  // its captures are destroyed outside the lock
      lk.lock();
    }
  }

  // A new worker for slot i. Called without mu: the new connection's first
  // frame is queued under the link's lock, which encode_call holds while it
  // takes mu.
  std::shared_ptr<worker> make_worker(std::size_t i) {
    std::weak_ptr<pool_impl> weak = weak_from_this();
    auto w = std::make_shared<worker>();
    w->slot = i;
    std::weak_ptr<worker> ww = w;
    w->peer = launch(sys, pool_worker_name, "process_pool worker", spawn_opts,
                     [weak, i, ww](const exit_reason& why) {
                       if (auto self = weak.lock()) self->lost(i, ww.lock(), why);
                     });
    return w;
  }

  // I/O thread, holding mu in lk: a new worker takes slot i from `old`
  // (mu is released while it starts). True if it did.
  bool replace(std::unique_lock<std::mutex>& lk, const std::shared_ptr<worker>& old) {
    const std::size_t i = old->slot;
    lk.unlock();
    std::shared_ptr<worker> w;
    try {
      w = make_worker(i);
    } catch (const std::exception& e) {
      log_error("troupe.nodes: process_pool could not replace a worker: {}", e.what());
    }
    lk.lock();
    if (closing || slots[i] != old) {
      if (w) {
        lk.unlock();
        peer_release(*w->peer, std::chrono::milliseconds(1000));  // stops it (I/O thread)
        lk.lock();
      }
      return false;
    }
    slots[i] = std::move(w);  // empty if it could not start
    return slots[i] != nullptr;
  }

  // I/O thread: a worker is gone; replace it unless closing.
  void lost(std::size_t i, const std::shared_ptr<worker>& w, const exit_reason& why) {
    struct notify {
      std::condition_variable& cv;
      ~notify() { cv.notify_all(); }
    } n{changed};
    std::unique_lock lk(mu);
    if (auto it = std::find(retired.begin(), retired.end(), w); it != retired.end()) {
      retired.erase(it);  // a recycled worker ended
      return;
    }
    if (closing || !w || i >= slots.size() || slots[i] != w) return;
    if (w->retiring) {
      // It ended before its successor was started.
      if (replace(lk, w)) recycled.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    log_warn("troupe.nodes: process_pool worker {} lost ({}); starting a new one",
             peer_pid(*w->peer), why.to_string());
    if (replace(lk, w)) replaced.fetch_add(1, std::memory_order_relaxed);
  }

  // I/O thread: `w` had its last task; a new worker takes its slot while it
  // runs what it has (then it exits: it was sent a stop).
  void recycle(const std::shared_ptr<worker>& w) {
    struct notify {
      std::condition_variable& cv;
      ~notify() { cv.notify_all(); }
    } n{changed};
    std::unique_lock lk(mu);
    if (closing || slots[w->slot] != w) return;
    if (!peer_terminated(*w->peer)) retired.push_back(w);
    if (replace(lk, w)) recycled.fetch_add(1, std::memory_order_relaxed);
  }

  // Caller holds mu: `t` joins w's tasks (in the order the frames are queued).
  void push(worker& w, const std::shared_ptr<task>& t) {
    const bool first = w.tasks.empty();
    w.tasks.push_back(t);
    if (first) {
      start(*t, w);
      watch_cv.notify_all();
    }
  }

  // Caller holds mu: `t` is now the task `w` runs.
  void start(task& t, const worker& w) const {
    t.started = clock::now();
    if (cpu_limit.count() > 0) t.cpu_at_start = process_cpu(peer_pid(*w.peer));
  }

  // Any thread: `t` is done; returns its callback (empty if the watchdog
  // completed it first). The next task of the worker starts now.
  reply_fn complete(worker& w, const std::shared_ptr<task>& t) {
    std::lock_guard lk(mu);
    auto it = std::find(w.tasks.begin(), w.tasks.end(), t);
    if (it != w.tasks.end()) {
      const bool was_first = it == w.tasks.begin();
      w.tasks.erase(it);
      if (was_first && !w.tasks.empty()) start(*w.tasks.front(), w);
    }
    return std::move(t->done);
  }

  // The watchdog thread: kills a worker whose running task is over its time
  // limit, fails that task with errc::timeout and the tasks queued behind it
  // with errc::peer_lost.
  void watch() {
    std::unique_lock lk(mu);
    while (!closing) {
      const auto now = clock::now();
      auto next = clock::time_point::max();
      for (const auto& w : all_workers()) {
        if (!w || w->killed || w->tasks.empty()) continue;
        const task& t = *w->tasks.front();
        std::string over;
        if (opts.task_timeout.count() > 0) {
          const auto deadline = t.started + opts.task_timeout;
          if (deadline <= now) {
            over =
                "time limit of " + std::to_string(opts.task_timeout.count()) + " ms by " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - deadline).count()) +
                " ms";
          }
          next = std::min(next, deadline);
        }
        if (over.empty() && cpu_limit.count() > 0 && t.cpu_at_start.count() >= 0) {
          const auto cpu = process_cpu(peer_pid(*w->peer));
          if (cpu.count() >= 0 && cpu - t.cpu_at_start > cpu_limit) {
            over = "CPU time limit of " + std::to_string(cpu_limit.count()) + " ms by " +
                   std::to_string((cpu - t.cpu_at_start - cpu_limit).count()) + " ms";
          }
          next = std::min(next, now + cpu_poll);
        }
        if (!over.empty()) {
          kill_over_limit(lk, w, over);
          next = now;  // the lock was released: look again
          break;
        }
      }
      if (next == clock::time_point::max()) {
        watch_cv.wait(lk);
      } else if (next > now) {
        watch_cv.wait_until(lk, next);
      }
    }
  }

  // Caller holds mu: the workers, current and retired.
  [[nodiscard]] std::vector<std::shared_ptr<worker>> all_workers() const {
    std::vector<std::shared_ptr<worker>> all = slots;
    all.insert(all.end(), retired.begin(), retired.end());
    return all;
  }

  // Caller holds mu (via lk, released and taken again). `over`: "time
  // limit of 2000 ms by 3 ms".
  void kill_over_limit(std::unique_lock<std::mutex>& lk, const std::shared_ptr<worker>& w,
                       const std::string& over) {
    w->killed = true;
    std::deque<std::shared_ptr<task>> tasks;
    tasks.swap(w->tasks);
    const int pid = peer_pid(*w->peer);
    const std::string name(tasks.front()->name);
    lk.unlock();
    log_warn("troupe.nodes: process_pool task {} exceeded its {}; killing worker {}", name, over,
             pid);
    peer_kill(*w->peer);
    bool first = true;
    for (auto& t : tasks) {
      reply_fn done = std::move(t->done);
      if (!done) continue;
      std::string why = "process_pool task ";
      if (first) {
        why += name;
        why += " exceeded its ";
        why += over;
        why += "; its worker (pid " + std::to_string(pid) + ") was killed";
      } else {
        why += t->name;
        why +=
            " did not run: its worker (pid " + std::to_string(pid) + ") was killed because task ";
        why += name;
        why += " exceeded its limit";
      }
      done(reply_view{false, {}, first ? errc::timeout : errc::peer_lost, why});
      first = false;
    }
    lk.lock();
    changed.notify_all();
  }
};

}  // namespace troupe::nodes::detail

namespace troupe {

namespace {

// The context of a call's encoder: writes the arguments, then records the
// task as sent to its worker (under the link's lock, so in wire order).
struct call_args {
  nodes::detail::encode_fn enc;
  const void* args;
  nodes::detail::pool_impl* impl;
  nodes::detail::pool_impl::worker* w;
  const std::shared_ptr<nodes::detail::task>* t;
};

void encode_call(wire::writer& w, const void* p) {
  const auto& c = *static_cast<const call_args*>(p);
  c.enc(w, c.args);
  std::lock_guard lk(c.impl->mu);
  c.impl->push(*c.w, *c.t);
}

}  // namespace

process_pool::process_pool(troupe::system& sys, std::size_t workers,
                           const nodes::isolated_options& opts)
    : process_pool(sys, workers, pool_options{opts}) {}

process_pool::process_pool(troupe::system& sys, std::size_t workers, const pool_options& opts)
    : impl_(std::make_shared<nodes::detail::pool_impl>(sys, opts)) {
  if (workers == 0) throw error(errc::invalid_argument, "process_pool: zero workers");
  {
    std::lock_guard lk(impl_->mu);
    impl_->slots.resize(workers);
  }
  for (std::size_t i = 0; i < workers; ++i) {
    auto w = impl_->make_worker(i);
    std::lock_guard lk(impl_->mu);
    impl_->slots[i] = std::move(w);
  }
  if (opts.task_timeout.count() > 0 || opts.process.limit_cpu_seconds > 0) {
    impl_->watchdog = std::thread([impl = impl_.get()] { impl->watch(); });
  }
  // It holds the pool's state, so that a callback may even destroy the pool.
  impl_->cb_thread = std::thread([impl = impl_] { impl->run_callbacks(); });
}

void process_pool::post_callback(const std::shared_ptr<nodes::detail::pool_impl>& impl,
                                 troupe::detail::unique_function<void()> fn) {
  {
    std::lock_guard lk(impl->cb_mu);
    impl->cb_queue.push_back(std::move(fn));
  }
  impl->cb_cv.notify_one();
}

process_pool::~process_pool() {
  std::vector<std::shared_ptr<nodes::detail::process_peer>> peers;
  {
    std::lock_guard lk(impl_->mu);
    impl_->closing = true;
    for (auto& w : impl_->all_workers()) {
      if (w) peers.push_back(w->peer);
    }
  }
  impl_->watch_cv.notify_all();
  if (impl_->watchdog.joinable()) impl_->watchdog.join();
  for (auto& p : peers) nodes::detail::peer_stop(*p);
  for (auto& p : peers) nodes::detail::peer_release(*p, std::chrono::milliseconds(1000));
  // Every task has completed: its callback is queued. Run them all, then end.
  {
    std::lock_guard lk(impl_->cb_mu);
    impl_->cb_stop = true;
  }
  impl_->cb_cv.notify_all();
  if (std::this_thread::get_id() == impl_->cb_thread.get_id()) {
    impl_->cb_thread.detach();  // destroyed by a callback: it ends after this one
  } else {
    impl_->cb_thread.join();
  }
}

void process_pool::submit(const void* fn, std::size_t count, nodes::detail::encode_fn enc,
                          const void* args, nodes::detail::reply_fn done) {
  using nodes::detail::pool_impl;
  const std::string_view name = nodes::detail::pool_function_name(fn);
  std::shared_ptr<pool_impl::worker> w;
  bool retire = false;
  {
    std::unique_lock lk(impl_->mu);
    // A worker that just died is being replaced (on the I/O thread): wait
    // for its successor rather than fail, up to the startup timeout.
    const auto deadline = std::chrono::steady_clock::now() + impl_->opts.process.startup_timeout;
    for (;;) {
      bool replacing = false;
      for (const auto& s : impl_->slots) {
        if (!s) continue;
        if (s->killed || s->retiring || nodes::detail::peer_terminated(*s->peer)) {
          replacing = true;
          continue;
        }
        if (!w || s->tasks.size() < w->tasks.size()) w = s;
      }
      if (w || !replacing || nodes::detail::io_runtime::get().on_io_thread() ||
          impl_->changed.wait_until(lk, deadline) == std::cv_status::timeout) {
        break;
      }
    }
    if (!w) {
      lk.unlock();
      nodes::detail::reply_view r{false, {}, errc::peer_lost, "process_pool: no live worker"};
      done(r);
      return;
    }
    const std::size_t most = impl_->opts.max_tasks_per_child;
    retire = most != 0 && ++w->sent == most;
    w->retiring = retire;
  }
  auto t = std::make_shared<nodes::detail::task>();
  t->name = name;
  t->done = std::move(done);
  const call_args c{enc, args, impl_.get(), w.get(), &t};
  nodes::detail::peer_call(*w->peer, name, count, &encode_call, &c,
                           [impl = impl_, w, t](const nodes::detail::reply_view& r) {
                             if (auto d = impl->complete(*w, t)) d(r);
                           });
  if (retire) {
    // Its last task: it runs what it has, then exits; a successor is started
    // on the I/O thread (launching here could wait for it while it waits
    // for mu).
    std::weak_ptr<pool_impl> weak = impl_;
    asio::post(nodes::detail::io_runtime::get().context(), [weak, w] {
      if (auto impl = weak.lock()) impl->recycle(w);
    });
    nodes::detail::peer_stop(*w->peer);
  }
}

std::size_t process_pool::size() const noexcept { return impl_->slots.size(); }

std::uint64_t process_pool::replacements() const noexcept {
  return impl_->replaced.load(std::memory_order_relaxed);
}

std::uint64_t process_pool::recycled() const noexcept {
  return impl_->recycled.load(std::memory_order_relaxed);
}

std::vector<int> process_pool::pids() const {
  std::lock_guard lk(impl_->mu);
  std::vector<int> out;
  for (const auto& w : impl_->slots) out.push_back(w ? nodes::detail::peer_pid(*w->peer) : 0);
  return out;
}

}  // namespace troupe
