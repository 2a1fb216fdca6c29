#pragma once
/// troupe::process_pool: N worker processes (the program re-executed, see
/// troupe/nodes/process.hpp) running functions registered by name, like
/// Python's multiprocessing.Pool.
///
///   int add(int a, int b) { return a + b; }
///   TROUPE_POOL_FUNCTION(add);                   // namespace scope, by its name
///
///   troupe::process_pool pool(sys, 4);
///   int seven = pool.apply(add, 3, 4);
///   auto r = pool.apply_async(add, 3, 4);        // r.ready(), r.successful(), r.get(1s)
///   pool.apply_async(add, std::tuple{3, 4}, on_result, on_error);  // callbacks
///   std::vector<int> v = pool.map(square, inputs, 16);  // chunks of 16 per task
///
/// Arguments and results cross the boundary with troupe::wire codecs
/// (built-ins, TROUPE_FIELDS structs). A function that was not registered
/// is refused with errc::invalid_argument naming it (a function pointer
/// cannot be checked at compile time).
///
/// Each worker runs one task at a time, in the order it received them;
/// tasks go to the worker with the fewest tasks in flight.
/// - An exception in a worker fails that task's future with
///   errc::handler_threw and "<exception type>: <what()>"; the worker lives on.
/// - A worker that dies (crash, kill, missed heartbeats, resource limit)
///   fails each of its tasks with errc::peer_lost ("... peer lost: child
///   1234 killed by signal 9 (SIGKILL)") and is replaced by a new process.
///   Nothing waits forever.
/// - A task over pool_options::task_timeout, or over the CPU limit
///   (per task), fails with errc::timeout; its worker is killed and replaced.
/// - Arguments or a result too large for a frame (isolated_options::max_frame)
///   fail that task with errc::invalid_argument ("arguments not sent: ...",
///   "result too large: ..."); nothing stays counted, the worker lives on.
/// - pool_options::max_tasks_per_child recycles workers transparently.
/// - The callback form of apply_async runs its callbacks on the pool's
///   callback thread, never on the I/O thread.
/// The destructor stops the workers (they finish queued tasks, killed after
/// 1 s) and waits until they are reaped. Destroy the pool before its system.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/nodes/detail/payload.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/codec.hpp"
#include "troupe/wire/reader.hpp"

namespace troupe {
class system;
}

namespace troupe::nodes::detail {

/// Runs a registered function `count` times, reading argument tuples from
/// `in` and writing results to `out`. Throws what the function throws.
using pool_invoker = void (*)(wire::reader& in, std::size_t count, wire::writer& out);

bool register_pool_function(std::string_view name, const void* fn, pool_invoker invoke);
/// The registered name of `fn`; throws errc::invalid_argument if none.
std::string_view pool_function_name(const void* fn);

template <class F>
struct pool_fn_traits;
template <class R, class... P>
struct pool_fn_traits<R (*)(P...)> {
  using result = R;
  using args = std::tuple<std::decay_t<P>...>;
};

template <auto Fn>
void pool_invoke(wire::reader& in, std::size_t count, wire::writer& out) {
  using T = pool_fn_traits<decltype(Fn)>;
  for (std::size_t i = 0; i < count; ++i) {
    typename T::args a{};
    wire::read_value(in, a);
    if (!in.ok())
      throw troupe::error(errc::invalid_argument, in.result("pool arguments").message());
    if constexpr (std::is_void_v<typename T::result>) {
      std::apply(Fn, std::move(a));
    } else {
      wire::write_value(out, std::apply(Fn, std::move(a)));
    }
  }
}

template <auto Fn>
bool register_pool_fn(std::string_view name) {
  using T = pool_fn_traits<decltype(Fn)>;
  wire::detail::require_codec<typename T::args>();
  if constexpr (!std::is_void_v<typename T::result>)
    wire::detail::require_codec<typename T::result>();
  return register_pool_function(name, reinterpret_cast<const void*>(Fn), &pool_invoke<Fn>);
}

/// Writes each element of a std::vector<T> (no count).
template <class T>
void encode_each(wire::writer& w, const void* p) {
  for (const T& v : *static_cast<const std::vector<T>*>(p)) wire::write_value(w, v);
}

struct pool_impl;

/// Shared outcome flag of a pool_result (set before its future completes).
enum class outcome : int { pending = 0, ok = 1, failed = 2 };

}  // namespace troupe::nodes::detail

/// Registers free function `fn` for process pools under its own name.
#define TROUPE_POOL_FUNCTION(fn)                                   \
  [[maybe_unused]] inline const bool troupe_pool_registered_##fn = \
      ::troupe::nodes::detail::register_pool_fn<&(fn)>(#fn)

namespace troupe {

/// The result of process_pool::apply_async (AsyncResult).
template <class R>
class pool_result {
 public:
  pool_result(future<R> f, std::shared_ptr<std::atomic<int>> state)
      : f_(std::move(f)), state_(std::move(state)) {}
  /// True once the task has finished (result or error).
  [[nodiscard]] bool ready() const noexcept { return f_.ready(); }
  /// True if ready and the task returned normally.
  [[nodiscard]] bool successful() const noexcept {
    return ready() &&
           state_->load(std::memory_order_acquire) == static_cast<int>(nodes::detail::outcome::ok);
  }
  /// The result; throws troupe::error (handler_threw, peer_lost, ...).
  R get() { return f_.get(); }
  /// As get(), but throws errc::timeout after `d`.
  template <class Rep, class Period>
  R get(std::chrono::duration<Rep, Period> d) {
    return f_.get(d);
  }
  /// Waits up to `d`; true if ready.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> d) const {
    return f_.wait_for(d);
  }
  future<R>& raw() noexcept { return f_; }

 private:
  future<R> f_;
  std::shared_ptr<std::atomic<int>> state_;
};

/// The results of process_pool::imap, in input order. An input range: one
/// pass, begin() once. Iterating waits for the chunk that holds the next
/// result (a worker that dies fails its chunk with errc::peer_lost, so it
/// never waits forever); a failed chunk's error is thrown by begin() or ++
/// when reached, and iteration may then go on with the next chunk.
template <class R>
class imap_stream {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    using pointer = R*;
    using reference = R&;

    iterator() = default;
    R& operator*() const { return s_->chunk_[s_->pos_]; }
    R* operator->() const { return &s_->chunk_[s_->pos_]; }
    iterator& operator++() {
      ++s_->pos_;
      if (!s_->fetch()) s_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.s_ == b.s_; }

   private:
    friend class imap_stream;
    explicit iterator(imap_stream* s) : s_(s->fetch() ? s : nullptr) {}
    imap_stream* s_ = nullptr;
  };

  explicit imap_stream(std::vector<future<std::vector<R>>> parts) : parts_(std::move(parts)) {}

  iterator begin() { return iterator(this); }
  iterator end() noexcept { return iterator(); }

 private:
  // Makes pos_ name a result, loading chunks as needed; false at the end.
  bool fetch() {
    while (pos_ >= chunk_.size()) {
      if (next_ == parts_.size()) return false;
      chunk_.clear();
      pos_ = 0;
      chunk_ = parts_[next_++].get();  // throws the chunk's error
    }
    return true;
  }

  std::vector<future<std::vector<R>>> parts_;
  std::size_t next_ = 0;
  std::vector<R> chunk_;
  std::size_t pos_ = 0;
};

/// Settings of a process_pool.
struct pool_options {
  /// Each worker's process (heartbeats, limits, frame size). In a pool,
  /// process.limit_cpu_seconds bounds the CPU time of each task, not of the
  /// worker's lifetime: the worker gets no RLIMIT_CPU; the pool's watchdog
  /// reads the worker's CPU time (/proc, every 100 ms while it has a task)
  /// and a task over it fails like one over task_timeout ("... exceeded its
  /// CPU time limit of 2000 ms by 40 ms ..."), its worker killed and replaced.
  nodes::isolated_options process{};
  /// The longest a task may run (0: no limit). A task runs from the moment
  /// its worker could start it (sent to an idle worker, or the reply of the
  /// task before it arrived) until its reply arrives. A task over the limit,
  /// an endless loop included, fails with errc::timeout ("... exceeded its
  /// time limit of 2000 ms by 3 ms ..."); its worker is killed and replaced;
  /// tasks queued behind it on that worker fail with errc::peer_lost (they
  /// never ran, and are not run again). Checked by a watchdog thread of the
  /// pool, not the I/O thread, from the task's progress (its reply), not
  /// from heartbeats.
  std::chrono::milliseconds task_timeout{0};
  /// Tasks a worker runs before it is replaced by a new process (Python's
  /// maxtasksperchild; 0: no limit). Transparent to callers: the worker
  /// takes no task after its last one, runs what it has and exits; a new
  /// process takes its place (recycled() counts them).
  std::size_t max_tasks_per_child = 0;
};

class process_pool {
 public:
  /// Starts `workers` worker processes. Throws troupe::error if one cannot start.
  process_pool(troupe::system& sys, std::size_t workers, const nodes::isolated_options& opts = {});
  process_pool(troupe::system& sys, std::size_t workers, const pool_options& opts);
  ~process_pool();
  process_pool(const process_pool&) = delete;
  process_pool& operator=(const process_pool&) = delete;

  /// fn(args...) in a worker; waits for the result.
  template <class R, class... P, class... A>
  R apply(R (*fn)(P...), A&&... args) {
    return apply_async(fn, std::forward<A>(args)...).get();
  }

  /// fn(args...) in a worker; the result arrives later.
  template <class R, class... P, class... A>
  requires(sizeof...(P) == sizeof...(A)) pool_result<R> apply_async(R (*fn)(P...), A&&... args) {
    using args_t = std::tuple<std::decay_t<P>...>;
    const std::vector<args_t> one{args_t(std::forward<A>(args)...)};
    auto state = std::make_shared<std::atomic<int>>(0);
    promise<R> p;
    future<R> f = p.get_future();
    submit(reinterpret_cast<const void*>(fn), 1, &nodes::detail::encode_each<args_t>, &one,
           [p = std::move(p), state](const nodes::detail::reply_view& r) mutable {
             complete_one(p, *state, r);
           });
    return pool_result<R>(std::move(f), std::move(state));
  }

  /// fn(args...) in a worker, the outcome handed to a callback (Python's
  /// apply_async(f, args, callback, error_callback)):
  ///
  ///   pool.apply_async(add, std::tuple{3, 4}, [](int v) { ... },
  ///                    [](const troupe::error& e) { ... });
  ///
  /// Exactly one of on_result(R) (on_result() for void) and
  /// on_error(const troupe::error&) runs, once, with the same errors get()
  /// would throw (handler_threw, timeout, peer_lost, invalid_argument, ...).
  /// Where: on the pool's callback thread, one per pool, one callback at a
  /// time in completion order; never on the process backend's I/O thread,
  /// never inside this call. A callback may block or call into the pool,
  /// delaying only later callbacks of this pool; it must not wait for
  /// another callback of the same pool. An exception from a callback is
  /// logged and dropped. The destructor runs the callbacks of every task
  /// still in flight (failed with peer_lost if their worker had to be
  /// killed) before it returns.
  template <class R, class... P, class... A, class OnResult, class OnError>
  requires(sizeof...(P) == sizeof...(A)) void apply_async(R (*fn)(P...), std::tuple<A...> args,
                                                          OnResult on_result, OnError on_error) {
    using args_t = std::tuple<std::decay_t<P>...>;
    const std::vector<args_t> one{std::make_from_tuple<args_t>(std::move(args))};
    promise<R> p;
    future<R> f = p.get_future();
    submit(reinterpret_cast<const void*>(fn), 1, &nodes::detail::encode_each<args_t>, &one,
           [p = std::move(p), f = std::move(f), impl = impl_, on_result = std::move(on_result),
            on_error = std::move(on_error)](const nodes::detail::reply_view& r) mutable {
             nodes::detail::complete_reply(p, r, "process_pool", "result", [](bool) {});
             post_callback(impl, [f = std::move(f), on_result = std::move(on_result),
                                  on_error = std::move(on_error)]() mutable {
               if constexpr (std::is_void_v<R>) {
                 try {
                   f.get();
                 } catch (const troupe::error& e) {
                   on_error(e);
                   return;
                 }
                 on_result();
               } else {
                 std::optional<R> v;
                 try {
                   v.emplace(f.get());
                 } catch (const troupe::error& e) {
                   on_error(e);
                   return;
                 }
                 on_result(std::move(*v));
               }
             });
           });
  }

  /// [fn(x) for x in range], in order; `chunksize` elements per task.
  /// Throws the first failed task's error.
  template <class R, class P, class Range>
  std::vector<R> map(R (*fn)(P), const Range& range, std::size_t chunksize = 1) {
    static_assert(!std::is_void_v<R>, "process_pool::map: the function must return a value");
    std::vector<R> out;
    for (auto& part : submit_chunks(fn, range, chunksize)) {
      std::vector<R> v = part.get();
      out.insert(out.end(), std::make_move_iterator(v.begin()), std::make_move_iterator(v.end()));
    }
    return out;
  }

  /// fn(x) for x in range as a stream, in order (Python's Pool.imap): every
  /// task is submitted now, `chunksize` elements each, and a result can be
  /// read as soon as its chunk is done while later chunks still run.
  /// `for (long v : pool.imap(square, xs, 16))` blocks on the next chunk
  /// only; a failed chunk throws its error when iteration reaches it.
  template <class R, class P, class Range>
  imap_stream<R> imap(R (*fn)(P), const Range& range, std::size_t chunksize = 1) {
    static_assert(!std::is_void_v<R>, "process_pool::imap: the function must return a value");
    return imap_stream<R>(submit_chunks(fn, range, chunksize));
  }

  /// Worker processes (live or being replaced).
  [[nodiscard]] std::size_t size() const noexcept;
  /// Workers replaced after they died, since start.
  [[nodiscard]] std::uint64_t replacements() const noexcept;
  /// Workers replaced after max_tasks_per_child tasks, since start.
  [[nodiscard]] std::uint64_t recycled() const noexcept;
  /// Process ids of the current workers (0 for a slot without one).
  [[nodiscard]] std::vector<int> pids() const;

 private:
  // Submits fn over range in chunks; one future per chunk, in order.
  template <class R, class P, class Range>
  std::vector<future<std::vector<R>>> submit_chunks(R (*fn)(P), const Range& range,
                                                    std::size_t chunksize) {
    using arg_t = std::tuple<std::decay_t<P>>;
    if (chunksize == 0) chunksize = 1;
    std::vector<future<std::vector<R>>> parts;
    std::vector<arg_t> chunk;
    auto flush = [&] {
      promise<std::vector<R>> p;
      parts.push_back(p.get_future());
      const std::size_t n = chunk.size();
      submit(reinterpret_cast<const void*>(fn), n, &nodes::detail::encode_each<arg_t>, &chunk,
             [p = std::move(p), n](const nodes::detail::reply_view& r) mutable {
               complete_many(p, n, r);
             });
      chunk.clear();
    };
    for (const auto& x : range) {
      chunk.emplace_back(x);
      if (chunk.size() == chunksize) flush();
    }
    if (!chunk.empty()) flush();
    return parts;
  }

  void submit(const void* fn, std::size_t count, nodes::detail::encode_fn enc, const void* args,
              nodes::detail::reply_fn done);
  // Queues fn for the pool's callback thread.
  static void post_callback(const std::shared_ptr<nodes::detail::pool_impl>& impl,
                            troupe::detail::unique_function<void()> fn);

  template <class R>
  static void complete_one(promise<R>& p, std::atomic<int>& state,
                           const nodes::detail::reply_view& r) {
    using nodes::detail::outcome;
    nodes::detail::complete_reply(p, r, "process_pool", "result", [&state](bool ok) {
      state.store(static_cast<int>(ok ? outcome::ok : outcome::failed), std::memory_order_release);
    });
  }

  template <class R>
  static void complete_many(promise<std::vector<R>>& p, std::size_t n,
                            const nodes::detail::reply_view& r) {
    if (!r.ok) {
      p.set_error(r.code, std::string(r.what));
      return;
    }
    std::vector<R> out(n);
    wire::reader rd(r.body);
    for (R& v : out) wire::read_value(rd, v);
    if (!rd.complete()) {
      p.set_error(errc::peer_lost, "process_pool: bad result: " + rd.result("result").message());
      return;
    }
    p.set_value(std::move(out));
  }

  std::shared_ptr<nodes::detail::pool_impl> impl_;
};

}  // namespace troupe
