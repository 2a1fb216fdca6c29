#pragma once
/// troupe::supervisor: restarts failed actors; supervision trees.
///
/// Limits first:
/// - A restart re-creates the actor's object in place: its ref, its mailbox
///   and the messages queued in it are kept; its state, links, monitors and
///   trap_exit are not. The message whose handler threw is a dead letter
///   (counted `crashed`, logged with the reason); nothing else is lost.
/// - Messages sent while a child is between incarnations wait in its
///   mailbox (a bounded one fills up, and its policy applies).
/// - A stop takes effect at a message boundary: a handler that never
///   returns cannot be stopped or killed (and a tree shutdown then waits for
///   it). Use a detached actor for blocking work.
/// - Children start one at a time, in the order they were added: the next
///   one is constructed once the previous one's on_start has returned.
///   Messages sent to a child that has not started yet wait for it.
/// - Monitors of a child see only its final termination, never a restart.
///
/// Usage:
/// ```
/// auto sup = sys.spawn<troupe::supervisor>(troupe::supervisor_options{
///     .strategy = troupe::strategy::one_for_one, .max_restarts = 3, .within = 5s});
/// troupe::ref<Db> db = troupe::start_child<Db>(sup, {.name = "db"}, "dsn");
/// auto workers = troupe::start_child<troupe::supervisor>(sup, {.name = "workers"},
///                                                        troupe::supervisor_options{});
/// troupe::ref<Worker> w = troupe::start_child<Worker>(workers, {}, db);
/// ```
///
/// Semantics, after Erlang/OTP:
/// - restart kinds: a permanent child is always restarted, a transient one
///   only after an abnormal exit (not normal/shutdown), a temporary one
///   never (it terminates for good, with its exit reason).
/// - strategies: one_for_one restarts the child that exited; one_for_all
///   stops the others (reverse start order) and restarts all (start order);
///   rest_for_one does so for the exited child and those started after it.
/// - intensity: more than `max_restarts` restarts within `within` and the
///   supervisor gives up: it stops its children (reverse start order) and
///   exits with reason restart_limit, which its own supervisor handles like
///   any child failure (escalation). A root supervisor then terminates for
///   good, and so do its children.
/// - shutdown: a supervisor asked to stop (ref.stop(), system shutdown, its
///   own supervisor's shutdown) stops its children one by one in reverse
///   start order: a child that traps exits gets an `exit_msg` (reason
///   shutdown) and decides; one that does not stops after the messages
///   already queued. A child that has not stopped within its
///   `child_options::shutdown` is killed. A supervised supervisor stopped by
///   someone other than its supervisor only suspends its children, so that
///   its supervisor can restart the whole subtree.
///
/// The supervisor's handlers run on the pool like any actor's; all
/// functions here are @threadsafe.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "troupe/actors/actor.hpp"
#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/mailbox.hpp"
#include "troupe/actors/monitor.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/system.hpp"

namespace troupe {

/// Which children a supervisor restarts when one exits.
enum class strategy : unsigned char {
  one_for_one,   ///< only the child that exited
  one_for_all,   ///< all children
  rest_for_one,  ///< the child that exited and the ones started after it
};

/// When a child is restarted.
enum class restart : unsigned char {
  permanent,  ///< always
  transient,  ///< after an abnormal exit (not normal or shutdown)
  temporary,  ///< never
};

/// Settings of a supervisor.
struct supervisor_options {
  troupe::strategy strategy = troupe::strategy::one_for_one;
  /// More restarts than this within `within` and the supervisor gives up.
  unsigned max_restarts = 3;
  std::chrono::milliseconds within = std::chrono::seconds(5);
};

/// How a supervisor treats one child.
struct child_options {
  std::string name;  ///< for logs and which_children; default "<type>#<id>"
  troupe::restart restart = troupe::restart::permanent;
  /// How long a graceful stop may take before the child is killed;
  /// milliseconds::max() waits forever (advisable for a supervisor child,
  /// whose own children have timeouts of their own).
  std::chrono::milliseconds shutdown = std::chrono::seconds(5);
  spawn_options spawn;  ///< bounded mailbox, detached thread
};

/// Wraps a factory for start_child: `troupe::with_factory([cfg] { return Worker(cfg); })`.
/// The factory is called for every (re)start and must return an A prvalue.
template <class F>
struct factory_t {
  F make;
};
template <class F>
factory_t<std::decay_t<F>> with_factory(F&& f) {
  return {std::forward<F>(f)};
}

/// ask(which_children{}): one entry per child, in start order.
struct which_children {};
/// What which_children reports about one child.
struct child_status {
  enum class state : unsigned char {
    running,   ///< an incarnation is running
    starting,  ///< an incarnation is being constructed or in its on_start
    absent,    ///< between incarnations (restarting, or not started yet)
    stopping,  ///< asked to stop, not stopped yet
  };
  std::string name;
  actor_addr addr;
  state status = state::running;
  std::uint64_t restarts = 0;  ///< restarts of this child by this supervisor
  exit_reason last_exit;       ///< why its last incarnation ended (normal if none did)
};
/// send/ask(terminate_child{r}): stops child `r` for good (graceful, then
/// killed after its shutdown timeout) and removes it; ask yields false if
/// `r` is not a child of this supervisor.
struct terminate_child {
  actor_addr child;
};

namespace detail {
struct sup_state;
struct sup_events;

/// One step of a supervisor's plan (executed in order, one wait at a time).
struct sup_step {
  enum class op : unsigned char {
    suspend,    ///< end the child's incarnation (keep its mailbox); wait for it
    stop,       ///< graceful stop (exit_msg or stop after what is queued); wait for it
    start,      ///< start a new incarnation of an absent child; wait until its on_start returned
    terminate,  ///< terminate an absent child for good with `why`, and forget it
    finish,     ///< end the supervisor's own incarnation with `why`
  };
  op what;
  cell* child;
  exit_reason why;
};

/// Gives `c` its child part (factory, supervisor) before it is activated.
void make_child(cell& c, unique_function<void(cell&)> factory, cell* supervisor);
/// Hands the (activated, absent) child `c` to its supervisor, which starts
/// it; if the supervisor is gone, `c` is terminated. Consumes one
/// reference to `c`.
void adopt_child(cell* supervisor, cell* c, child_options opts) noexcept;
}  // namespace detail

/// An actor that supervises children (see the top of this header).
class supervisor : public actor<supervisor> {
 public:
  explicit supervisor(supervisor_options opts = {});
  ~supervisor();
  supervisor(const supervisor&) = delete;
  supervisor& operator=(const supervisor&) = delete;

  void on_start();
  std::vector<child_status> on(which_children /*unused*/) const;
  bool on(terminate_child m);
  /// From its own supervisor (a tree shutdown) or a linked actor.
  void on(exit_msg m);

  /// The options this supervisor runs with.
  [[nodiscard]] const supervisor_options& options() const noexcept { return opts_; }

 private:
  friend struct detail::sup_events;
  friend struct detail::stop_interceptor<supervisor>;

  bool intercept_stop(bool shutdown);
  void child_exited(detail::cell* c, exit_reason why);
  void adopt(detail::cell* c, child_options opts);
  void stop_timeout(detail::cell* c, std::uint64_t seq);
  void child_started(detail::cell* c);

  void handle_exit(std::size_t i, const exit_reason& why);
  bool note_restart();
  void escalate(std::size_t i, const exit_reason& why);
  void begin_shutdown(exit_reason finish, bool terminate_children);
  void run_plan();
  void arm_stop_timer(std::size_t i);
  [[nodiscard]] std::size_t find(const detail::cell* c) const noexcept;
  void remove(std::size_t i) noexcept;
  [[nodiscard]] std::string describe() const;

  supervisor_options opts_;
  detail::cell* cell_ = nullptr;           // this supervisor's cell
  std::shared_ptr<detail::sup_state> st_;  // the children; kept across this supervisor's restarts
  std::deque<detail::sup_step> plan_;
  std::deque<std::pair<detail::cell*, exit_reason>> deferred_;  // exits to handle after the plan
  std::deque<std::chrono::steady_clock::time_point> restarts_;  // within the intensity window
  bool shutting_down_ = false;
  bool terminating_ = false;  // shutting down for good (not suspending for a restart)
  exit_reason finish_reason_;
};

namespace detail {
template <>
struct stop_interceptor<supervisor> {
  static constexpr bool value = true;
  static bool intercept(supervisor& s, bool shutdown) { return s.intercept_stop(shutdown); }
};

template <class A, class Make>
ref<A> start_child_impl(const ref<supervisor>& sup, child_options opts, Make make) {
  static_assert(std::is_base_of_v<actor<A>, A>,
                "troupe::start_child<A>: A must derive from troupe::actor<A>");
  static_assert(!std::is_abstract_v<A>, "troupe::start_child<A>: A must not be abstract");
  if (!sup) throw_empty_ref("start_child");
  cell* sc = sup.cell_ptr();
  system_core& core = sc->core();
  box<A>* b = spawn_cell<A>(core, opts.spawn, /*supervised=*/true, [&](box<A>& c) {
    make_child(
        c,
        [mk = std::move(make)](cell& x) mutable {
          ::new (static_cast<box<A>&>(x).storage()) A(mk());
        },
        sc);
  });
  b->add_ref();  // for adopt_child
  adopt_child(sc, b, std::move(opts));
  return ref<A>(typename ref<A>::adopt_t{}, b);
}
}  // namespace detail

/// Adds a child to `sup`: an `A` constructed from copies of `args` at every
/// (re)start. Returns its ref at once, valid across restarts; messages sent
/// before it starts wait for it. If `sup` has terminated, the child is
/// terminated (sends to it become dead letters). Throws
/// errc::system_shutdown during shutdown, errc::invalid_argument for an
/// empty `sup`.
template <class A, class... Args>
ref<A> start_child(const ref<supervisor>& sup, child_options opts, Args&&... args) {
  return detail::start_child_impl<A>(
      sup, std::move(opts),
      [tup = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() {
        return std::make_from_tuple<A>(tup);
      });
}

/// As start_child, with a factory called at every (re)start:
/// `start_child<Worker>(sup, {}, troupe::with_factory([cfg] { return Worker(cfg); }))`.
template <class A, class F>
ref<A> start_child(const ref<supervisor>& sup, child_options opts, factory_t<F> f) {
  static_assert(std::is_same_v<std::invoke_result_t<F&>, A>,
                "troupe::start_child<A>(sup, opts, with_factory(f)): f() must return an A");
  return detail::start_child_impl<A>(sup, std::move(opts),
                                     [fn = std::move(f.make)]() mutable { return fn(); });
}

}  // namespace troupe
