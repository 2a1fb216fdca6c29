#pragma once
/// troupe::actor<D>: the base of a typed actor.
///
/// Derive `class D : public troupe::actor<D>` and give D public handler
/// overloads `R on(M)`. D's handlers run one message at a time (never
/// concurrently), so D's members need no locks. Overrides of on_start() and
/// on_stop() run on D's thread before the first and after the last message.
///
/// @note Member functions are for D's own handlers: only the thread running
/// D may call them.

#include <chrono>
#include <type_traits>
#include <utility>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/nodes.hpp"
#include "troupe/actors/future.hpp"
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
      me.cell_ptr()->enqueue(new detail::closure_node<D, decltype(call)>(std::move(call)));
    });
  }

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
  [[noreturn]] static void throw_not_spawned() {
    throw error(errc::invalid_argument,
                "troupe::actor: actors are created with system::spawn<A>(), not directly");
  }

  detail::cell* cell_;
};

}  // namespace troupe
