#pragma once
/// troupe::system: the actor runtime (worker pool, timers, logging, stats).
///
/// Create one per program (several are allowed; they share nothing). The
/// destructor shuts down (draining) and joins every thread it started.
/// Public member functions are @threadsafe except where noted.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/envelope.hpp"
#include "troupe/actors/detail/notice.hpp"
#include "troupe/actors/detail/unique_function.hpp"
#include "troupe/actors/introspect.hpp"
#include "troupe/actors/mailbox.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/registry.hpp"
#include "troupe/actors/timer.hpp"
#include "troupe/actors/trace.hpp"

namespace troupe {

template <class D>
class actor;

/// Settings fixed at construction.
struct system_config {
  /// Worker threads of the pool; 0 means std::thread::hardware_concurrency().
  unsigned workers = 0;
  /// Most messages one actor handles per activation before yielding its
  /// worker to the next ready actor (fairness against throughput).
  unsigned throughput = 64;
  /// Time every actor's handlers from the start (actor_info::busy). Timing
  /// costs two clock reads per batch of messages (about 25 ns on this
  /// project's test machine), so by default it begins at the first call of
  /// system::actors() or metrics_text(): a program nobody looks at pays
  /// nothing.
  bool time_handlers = false;
};

/// Dead letters by reason (see system_stats::dead_letters).
struct dead_letter_counts {
  std::uint64_t actor_dead = 0;    ///< sent to, or queued at, an actor that terminated
  std::uint64_t mailbox_full = 0;  ///< refused by a full bounded mailbox (overflow::fail, or block
                                   ///< where the sender may not wait)
  std::uint64_t dropped = 0;       ///< discarded by overflow::drop_newest / drop_oldest
  std::uint64_t crashed = 0;       ///< the message whose handler threw (it was handled, and lost)
  /// The sum of all reasons.
  [[nodiscard]] std::uint64_t total() const noexcept {
    return actor_dead + mailbox_full + dropped + crashed;
  }
};

/// A snapshot of counters (each read atomically, not all at one instant).
struct system_stats {
  std::size_t live_actors = 0;           ///< spawned and not yet terminated (a supervised actor
                                         ///< between two incarnations is live)
  std::uint64_t spawned = 0;             ///< actors spawned since start (supervised children too)
  std::uint64_t messages_processed = 0;  ///< handler invocations since start
  std::uint64_t dead_letters = 0;  ///< messages not delivered, all reasons (= by_reason.total())
  dead_letter_counts dead_letters_by_reason;  ///< the same, per reason
  std::uint64_t actor_failures = 0;           ///< incarnations that ended by an exception
  std::uint64_t restarts = 0;                 ///< restarts made by supervisors
};

/// How shutdown() treats the actors that are still alive.
enum class shutdown_mode {
  drain,  ///< each actor handles what is already in its mailbox, then stops
  now,    ///< each actor stops after its current handler; the rest is dropped
};

/// What shutdown() found.
struct shutdown_report {
  std::size_t actors_stopped = 0;    ///< actors alive when shutdown began
  std::uint64_t undelivered = 0;     ///< messages turned into dead letters during shutdown
  std::size_t timers_cancelled = 0;  ///< timers still pending
  /// True when nothing was left undelivered.
  [[nodiscard]] bool clean() const noexcept { return undelivered == 0 && timers_cancelled == 0; }
  /// One line: "stopped 3 actors, 0 undelivered messages, 1 timer cancelled".
  [[nodiscard]] std::string to_string() const;
};

/// Tag: spawn the actor on a dedicated thread, so blocking calls in its
/// handlers never stall the pool.
struct detached_t {
  explicit detached_t() = default;
};
inline constexpr detached_t detached{};

/// A spawn placement: a tag, defined by an extension, that starts an actor
/// somewhere other than this process's pool (the process backend's tag
/// starts it in a child process, see docs/nodes.md). A placement declares
/// `using spawn_placement = void;` and a const member
///
///     template <class A, class... Args>
///     auto spawn(troupe::system& sys, Args&&... args) const;
///
/// which system::spawn<A>(tag, args...) calls, returning what it returns.
/// The core knows no placement by name, as asio's io_context knows no
/// co_spawn.
template <class T>
concept spawn_placement = requires {
  typename std::remove_cvref_t<T>::spawn_placement;
};

namespace detail {
// A spawn in flight is counted from prepare_spawn to finish_spawn or
// spawn_failed, so shutdown waits for it.
std::uint64_t prepare_spawn(system_core& core);  // throws errc::system_shutdown
void finish_spawn(system_core& core, cell* c, bool detached, bool schedule_now) noexcept;
void spawn_failed(system_core& core) noexcept;
/// Gives `c` a bounded mailbox (before it is activated). Throws
/// errc::invalid_argument for a policy without capacity, std::bad_alloc.
void make_bounded(cell& c, const spawn_options& opts);
/// `state`: the timer's state, made by the caller (null: a new one).
timer add_timer(system_core& core, std::chrono::nanoseconds delay, std::chrono::nanoseconds period,
                unique_function<bool()> fire, std::shared_ptr<timer_state> state = nullptr);
/// A runtime timer: keeps firing during shutdown (supervisor stop timeouts).
timer add_internal_timer(system_core& core, std::chrono::nanoseconds delay,
                         unique_function<bool()> fire);
troupe::system& owner(system_core& core) noexcept;
troupe::registry& registry_of(system_core& core) noexcept;
/// True if the first of Args is a spawn option (detached_t, spawn_options)
/// or a spawn placement.
template <class... Args>
inline constexpr bool first_is_spawn_option = false;
template <class First, class... Rest>
inline constexpr bool first_is_spawn_option<First, Rest...> =
    std::is_same_v<std::remove_cvref_t<First>, spawn_options> ||
    std::is_same_v<std::remove_cvref_t<First>, troupe::detached_t> || spawn_placement<First>;
/// Tag for the constructor of a test_system.
struct deterministic_t {
  std::uint64_t seed;
};

/// Holds the cell of the actor being constructed, for actor<D>'s constructor.
class construct_scope {
 public:
  explicit construct_scope(cell* c) noexcept;
  ~construct_scope();
  construct_scope(const construct_scope&) = delete;
  construct_scope& operator=(const construct_scope&) = delete;
  static cell* current() noexcept;

 private:
  cell* saved_;
};

template <class A>
constexpr bool overrides_on_start() {
  return !std::is_same_v<decltype(&A::on_start), void (actor<A>::*)()>;
}

/// A message of send_after/send_every. It is handled only if its timer was
/// not cancelled by then: once cancel() returns, a tick already queued is
/// dropped when its turn comes.
template <class A, class M>
class tick_node final : public message {
 public:
  template <class X>
  tick_node(std::shared_ptr<const timer_state> st, X&& x)
      : st_(std::move(st)), inner_(std::forward<X>(x)) {}
  void run(cell& c) override {
    if (!st_->cancelled.load(std::memory_order_seq_cst)) inner_.run(c);
  }
  [[nodiscard]] const char* type_name() const noexcept override { return inner_.type_name(); }

 private:
  std::shared_ptr<const timer_state> st_;
  send_node<A, M> inner_;
};

/// Sends a tick of the timer `st` to `c`, never waiting (the timer thread
/// must not block): a full bounded mailbox refuses it.
template <class A, class M, class X>
send_result send_tick(cell* c, const std::shared_ptr<timer_state>& st, X&& x) {
  struct args {
    const std::shared_ptr<timer_state>* st;
    std::remove_reference_t<X>* x;
    static message* make(void* a) {
      auto* s = static_cast<args*>(a);
      return new tick_node<A, M>(*s->st, std::forward<X>(*s->x));
    }
  };
  if (c->remote()) [[unlikely]] {
    return remote_send<A, M>(c, x, false);
  }
  if (c->bounded()) [[unlikely]] {
    args a{&st, std::addressof(x)};
    return c->bounded_send(node_maker{&a, &args::make}, send_wait::never);
  }
  return c->enqueue(new tick_node<A, M>(st, std::forward<X>(x)));
}

/// The one spawn sequence, for system::spawn and start_child: allocates
/// A's cell, gives it its bounded mailbox and extension block, runs
/// `init(box)` (which constructs the actor, or installs a supervised
/// child's factory) and activates the cell. A throw anywhere frees the cell
/// and propagates. A `supervised` cell starts without its object and awake
/// (its supervisor holds the token and starts it); any other cell is
/// scheduled at once if A has an on_start.
template <class A, class Init>
box<A>* spawn_cell(system_core& core, const spawn_options& opts, bool supervised, Init&& init) {
  constexpr bool has_start = overrides_on_start<A>();
  const std::uint64_t id = prepare_spawn(core);
  box<A>* b = nullptr;
  try {
    b = new box<A>(core, id, has_start, /*start_awake=*/supervised || has_start);
  } catch (...) {
    spawn_failed(core);
    throw;
  }
  try {
    if (supervised) b->set_absent();
    if (opts.capacity != 0 || opts.policy != overflow::fail) make_bounded(*b, opts);
    if (opts.detached) b->ensure_ext();  // holds the thread's runner
    std::forward<Init>(init)(*b);
  } catch (...) {
    b->abort_spawn();
    spawn_failed(core);
    throw;
  }
  finish_spawn(core, b, opts.detached, /*schedule_now=*/!supervised && has_start);
  return b;
}

template <class Rep, class Period>
std::chrono::nanoseconds to_ns(std::chrono::duration<Rep, Period> d) {
  return std::chrono::ceil<std::chrono::nanoseconds>(d);
}

/// Starts a task on `sys`; defined in troupe/actors/task.hpp.
template <class F>
auto go_impl(troupe::system& sys, F&& f);
}  // namespace detail

class system {
 public:
  explicit system(system_config cfg = {});
  /// Shuts down (drain) if shutdown() was not called, then joins all threads.
  /// Must not run inside an actor of this system (a pool worker or a
  /// detached actor's thread): shutdown() refuses there, and a destructor
  /// that throws ends the program.
  ~system();
  system(const system&) = delete;
  system& operator=(const system&) = delete;

  /// Creates actor `A` (constructed here, with `args`) on the worker pool.
  /// A's on_start() runs on the pool before its first message.
  /// Throws errc::system_shutdown once shutdown has begun, and whatever A's
  /// constructor throws.
  template <class A, class... Args>
  requires(!detail::first_is_spawn_option<Args...>) ref<A> spawn(Args&&... args) {
    return spawn_impl<A>(spawn_options{}, std::forward<Args>(args)...);
  }

  /// As spawn(), but A runs on a thread of its own (for blocking I/O).
  template <class A, class... Args>
  ref<A> spawn(detached_t /*tag*/, Args&&... args) {
    return spawn_impl<A>(spawn_options{true, 0, overflow::fail}, std::forward<Args>(args)...);
  }

  /// As spawn(), with options: a bounded mailbox
  /// (`spawn<A>(troupe::bounded(100, troupe::overflow::block), args...)`),
  /// a detached thread. Throws errc::invalid_argument if a capacity is 0
  /// with a policy other than the default.
  template <class A, class... Args>
  ref<A> spawn(const spawn_options& opts, Args&&... args) {
    return spawn_impl<A>(opts, std::forward<Args>(args)...);
  }

  /// Starts A where `where` says (a spawn placement from an extension, see
  /// spawn_placement) and returns that placement's handle.
  template <class A, class Where, class... Args>
  requires spawn_placement<Where>
  auto spawn(const Where& where, Args&&... args) {
    return where.template spawn<A>(*this, std::forward<Args>(args)...);
  }

  /// Runs a coroutine on the pool: `f` is a troupe::task<T>, or a callable
  /// returning one (kept alive until the task ends, and given a
  /// std::stop_token if it takes one). Returns a troupe::task_handle<T> to
  /// wait for, cancel or drop. Needs troupe/actors/task.hpp. Throws
  /// errc::system_shutdown once shutdown has begun.
  template <class F>
  auto go(F&& f) {
    return detail::go_impl(*this, std::forward<F>(f));
  }

  /// Sends `m` to `to` once, after `delay`.
  template <class A, class M, class Rep, class Period>
  timer send_after(const ref<A>& to, std::chrono::duration<Rep, Period> delay, M&& m) {
    using msg_t = std::remove_cvref_t<M>;
    static_assert(handles<A, msg_t>,
                  "troupe::system::send_after: the actor type A has no handler on(M) for M");
    if (!to) detail::throw_empty_ref("system::send_after");
    auto st = std::make_shared<detail::timer_state>();
    return detail::add_timer(
        *core_, detail::to_ns(delay), std::chrono::nanoseconds{0},
        [to, st, msg = msg_t(std::forward<M>(m))]() mutable {
          detail::send_tick<A, msg_t>(to.cell_ptr(), st, std::move(msg));
          return false;
        },
        st);
  }

  /// Sends a copy of `m` to `to` every `period` (first after one period),
  /// until cancelled or until `to` has terminated.
  template <class A, class M, class Rep, class Period>
  timer send_every(const ref<A>& to, std::chrono::duration<Rep, Period> period, M&& m) {
    using msg_t = std::remove_cvref_t<M>;
    static_assert(handles<A, msg_t>,
                  "troupe::system::send_every: the actor type A has no handler on(M) for M");
    static_assert(std::is_copy_constructible_v<msg_t>,
                  "troupe::system::send_every: the message type M must be copyable");
    auto p = detail::to_ns(period);
    if (p <= std::chrono::nanoseconds{0}) throw_bad_period();
    if (!to) detail::throw_empty_ref("system::send_every");
    auto st = std::make_shared<detail::timer_state>();
    return detail::add_timer(
        *core_, p, p,
        [to, st, msg = msg_t(std::forward<M>(m))]() {
          // A full bounded mailbox skips a tick; a dead actor ends the timer.
          return detail::send_tick<A, msg_t>(to.cell_ptr(), st, msg) != send_result::closed;
        },
        st);
  }

  /// Stops every actor (see shutdown_mode), cancels timers, joins the
  /// workers, and reports what was left. Idempotent: later calls return the
  /// first report. Throws errc::would_block_worker if called from an actor
  /// of this system (a pool worker or a detached actor's thread).
  shutdown_report shutdown(shutdown_mode mode = shutdown_mode::drain);

  /// Counters of this system.
  [[nodiscard]] system_stats stats() const;

  /// The live actors, by id: type, name, state, mailbox depth, messages
  /// handled, time in handlers (counted from the first call, unless
  /// system_config::time_handlers), restarts. Takes each registry shard's lock
  /// for the length of a walk (no lock per message keeps the figures); for
  /// a dashboard or a debugging hook, not a hot path. @threadsafe
  [[nodiscard]] std::vector<actor_info> actors() const;
  /// The system's counters as values, with the mailbox depth over all live
  /// actors. @threadsafe
  [[nodiscard]] system_metrics metrics() const;
  /// metrics() and the per-type sums of actors() in Prometheus' text
  /// exposition format (version 0.0.4), every family prefixed `troupe_`,
  /// ready to serve on a /metrics endpoint. @threadsafe
  [[nodiscard]] std::string metrics_text() const;

  /// Starts recording a trace of the runtime into `path` (a Chrome trace
  /// event file: open it in Perfetto or chrome://tracing, or draw it with
  /// tools/trace_svg.py): handler runs named by actor and message type, an
  /// arrow from each send to the run that took it, task resumes, and
  /// instants for spawn, exit, restart, dead letter, timer fire and channel
  /// close, one track per thread. One trace per process at a time; it
  /// records every system of the process. The file is opened now (a bad
  /// path throws std::system_error here) and written by trace_stop(), or by
  /// this system's shutdown. Throws troupe::error (invalid_argument) if a
  /// trace is already running. TROUPE_TRACE=<path> in the environment
  /// starts one when the system is constructed. docs/observability.md.
  void trace_start(const std::string& path, trace_options opts = {});
  /// Stops the trace and writes its file; throws troupe::error
  /// (invalid_argument) if none is running, std::system_error if writing
  /// failed.
  trace_summary trace_stop();

  /// The actors registered by name in this system (see troupe/actors/registry.hpp).
  [[nodiscard]] troupe::registry& registry() noexcept { return detail::registry_of(*core_); }

  /// Number of pool worker threads.
  [[nodiscard]] unsigned workers() const noexcept;

  /// The runtime core, for troupe components (channels, coroutines).
  [[nodiscard]] detail::system_core& core() noexcept { return *core_; }

 protected:
  /// A deterministic system (troupe::test_system): no threads.
  system(detail::deterministic_t mode, system_config cfg);

 private:
  template <class A, class... Args>
  ref<A> spawn_impl(const spawn_options& opts, Args&&... args) {
    static_assert(std::is_base_of_v<actor<A>, A>,
                  "troupe::system::spawn<A>: A must derive from troupe::actor<A>");
    static_assert(!std::is_abstract_v<A>, "troupe::system::spawn<A>: A must not be abstract");
    detail::box<A>* b =
        detail::spawn_cell<A>(*core_, opts, /*supervised=*/false, [&](detail::box<A>& c) {
          detail::construct_scope scope(&c);
          ::new (c.storage()) A(std::forward<Args>(args)...);
        });
    return ref<A>(typename ref<A>::adopt_t{}, b);
  }
  [[noreturn]] static void throw_bad_period();

  detail::system_core* core_;
};

}  // namespace troupe
