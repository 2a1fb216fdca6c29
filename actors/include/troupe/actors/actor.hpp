#pragma once
/// troupe::actor<D>: the base of a typed actor.
///
/// Derive `class D : public troupe::actor<D>` and give D public handler
/// overloads `R on(M)`. D's handlers run one message at a time (never
/// concurrently), so D's members need no locks. Overrides of on_start() and
/// on_stop() run on D's thread before the first and after the last message
/// (of each incarnation, for a supervised actor that is restarted).
///
/// An actor can watch others: monitor() (a `troupe::down` when the target
/// terminates), link() (exits propagate both ways) and trap_exit() (receive
/// linked exits as `troupe::exit_msg` instead of dying); see
/// troupe/actors/monitor.hpp for the rules.
///
/// @note Member functions are for D's own handlers: only the thread running
/// D may call them.

#include <chrono>
#include <string>
#include <type_traits>
#include <utility>

#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/envelope.hpp"
#include "troupe/actors/detail/notice.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/monitor.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/actors/timer.hpp"

namespace troupe {

template <class D>
class actor {
 public:
  actor(const actor&) = delete;
  actor& operator=(const actor&) = delete;

  /// A ref to this actor.
  [[nodiscard]] ref<D> self() const noexcept { return ref<D>(static_cast<detail::box<D>*>(cell_)); }

  /// The system this actor runs in.
  [[nodiscard]] troupe::system& system() const noexcept { return detail::owner(cell_->core()); }

  /// Stops this actor after the current handler returns; messages still
  /// queued become dead letters (queued asks fail with errc::actor_dead).
  void stop() noexcept { cell_->stop_self(); }

  /// Stops this actor after the current handler with reason `why` (e.g. an
  /// abnormal reason, so that a transient child is restarted and links
  /// fire, without throwing).
  void stop(exit_reason why) noexcept { cell_->exit_self(std::move(why)); }

  /// Sends `m` to this actor after `delay`.
  template <class M, class Rep, class Period>
  timer send_after(std::chrono::duration<Rep, Period> delay, M&& m) {
    return system().send_after(self(), delay, std::forward<M>(m));
  }

  /// Sends a copy of `m` to this actor every `period` until cancelled or stopped.
  template <class M, class Rep, class Period>
  timer send_every(std::chrono::duration<Rep, Period> period, M&& m) {
    return system().send_every(self(), period, std::forward<M>(m));
  }

  /// Runs `fn(future<T>)` inside this actor (as a message, one at a time
  /// with the handlers) once `f` is ready. If the actor has terminated by
  /// then, fn is dropped.
  template <class T, class F>
  requires std::is_invocable_v<F&, future<T>>
  void when_ready(future<T> f, F fn) {
    f.then([me = self(), fn = std::move(fn)](future<T> ready) mutable {
      auto call = [fn = std::move(fn), fut = std::move(ready)](D& /*unused*/) mutable {
        fn(std::move(fut));
      };
      me.cell_ptr()->enqueue(new detail::closure_node<D, decltype(call)>(
          std::move(call), detail::message::kind::notice));
    });
  }

  /// Monitors `target`: D receives exactly one `troupe::down` (handled by
  /// D's `on(troupe::down)`) when it terminates, at once if it already has.
  /// Needs on(troupe::down). Throws std::bad_alloc; errc::invalid_argument
  /// for an empty target.
  monitor_id monitor(const actor_addr& target) {
    if constexpr (handles<D, down>) {
      if (!target) throw_empty("actor::monitor");
      return monitor_id{
          detail::monitor_attach(*cell_, *target.cell_ptr(), new detail::down_node<D>())};
    } else {
      static_assert(detail::always_false<D>,
                    "troupe::actor<D>::monitor: the watcher D needs a handler "
                    "`void on(troupe::down)` to receive the down message");
      return {};
    }
  }

  /// Stops monitor `id`: after this returns, no `down` for it is handled.
  /// False if it was not active (already fired, or unknown).
  bool demonitor(monitor_id id) noexcept { return detail::demonitor(*cell_, id.value); }

  /// Links this actor with `other`, both ways: when either's incarnation
  /// ends abnormally the other exits too (reason `linked`), unless it traps
  /// exits. Linking to a terminated actor delivers its exit at once;
  /// linking twice is one link. Throws std::bad_alloc; errc::invalid_argument
  /// for an empty ref.
  void link(const actor_addr& other) {
    if (!other) throw_empty("actor::link");
    detail::link_cells(*cell_, *other.cell_ptr());
  }

  /// Removes the link with `other` (an exit signal already queued from it
  /// is then ignored). False if they were not linked.
  bool unlink(const actor_addr& other) noexcept {
    return other && detail::unlink_cells(*cell_, *other.cell_ptr());
  }

  /// Traps exits: linked exits (and a supervisor's stop request) arrive as
  /// `troupe::exit_msg` to D's `on(troupe::exit_msg)` instead of stopping D.
  /// Needs on(troupe::exit_msg). Lasts for this incarnation.
  void trap_exit(bool on) {
    if constexpr (handles<D, exit_msg>) {
      detail::set_trap_exit(*cell_, on);
    } else {
      static_assert(detail::always_false<D>,
                    "troupe::actor<D>::trap_exit: D needs a handler `void on(troupe::exit_msg)` "
                    "to receive trapped exits");
    }
  }
  /// True if this actor traps exits.
  [[nodiscard]] bool trap_exit() const noexcept { return cell_->trapping_exits(); }

  /// Hooks; hide them in D to use them. Exceptions from on_start fail the
  /// actor; exceptions from on_stop are logged.
  void on_start() {}
  void on_stop() {}

 protected:
  actor() : cell_(detail::construct_scope::current()) {
    if (cell_ == nullptr) throw_not_spawned();
  }
  ~actor() = default;

 private:
  [[noreturn]] static void throw_empty(const char* op) {
    throw error(errc::invalid_argument, std::string(op) + ": empty actor ref");
  }
  [[noreturn]] static void throw_not_spawned() {
    throw error(errc::invalid_argument,
                "troupe::actor: actors are created with system::spawn<A>(), not directly");
  }

  detail::cell* cell_;
};

}  // namespace troupe
