#pragma once
/// troupe::test_system: a deterministic actor system for tests.
///
/// Limits first:
/// - One thread: every actor, timer callback and coroutine runs on the
///   thread that calls run_until_idle(), step() or advance(). Nothing runs
///   on its own; use the test_system from one thread only.
/// - Nothing may block: future::get() on an ask that has not been handled
///   yet would wait forever, so run the system first
///   (`auto f = r.ask(m); sys.run_until_idle(); f.get();`). A send to a full
///   overflow::block mailbox refuses with send_result::full, like fail.
///   Detached actors run on the test thread too.
/// - Time is virtual: it starts at a fixed point and moves only in
///   advance(); send_after, send_every, supervisor timeouts and restart
///   intensity windows follow it. (Code that reads the real clock itself,
///   or sleeps, is not controlled.)
/// - Each activation handles one message (the throughput is 1), and the
///   next actor to run is chosen among the ready ones by a generator seeded
///   with `seed`. The same seed and the same inputs give the same order,
///   every time; other seeds explore other interleavings. Loop over seeds
///   to search for an ordering bug, and replay a failing seed to debug it.
///
/// The trace is the sequence of (actor id, message type) handled; its hash
/// identifies an interleaving, and record_trace(true) keeps it for reading.
/// Ids are assigned in spawn order, so they are stable across runs.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "troupe/actors/system.hpp"

namespace troupe {

/// One handled message of a test_system run.
struct trace_event {
  std::uint64_t step;        ///< 1-based position in the run
  std::uint64_t actor;       ///< the id of the actor that handled it
  const char* actor_type;    ///< its type ("my::Worker")
  const char* message_type;  ///< the message's type ("my::Ping", "troupe::down")
};

/// A system with no threads and a virtual clock (see the limits above).
/// @note Not thread-safe: one thread drives it.
class test_system : public system {
 public:
  explicit test_system(std::uint64_t seed, system_config cfg = {});
  ~test_system();
  test_system(const test_system&) = delete;
  test_system& operator=(const test_system&) = delete;

  /// Runs ready actors (seeded choice) until none is ready. Timers do not
  /// fire (time stands still). Returns the number of activations.
  std::size_t run_until_idle();
  /// Runs one activation; false if nothing was ready.
  bool step();
  /// Moves the virtual clock forward by `d`: runs until idle, then fires
  /// each timer due within `d` in deadline order (moving the clock to its
  /// deadline), running until idle after each; ends at now() + d.
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    advance_ns(std::chrono::ceil<std::chrono::nanoseconds>(d));
  }
  /// The virtual clock.
  [[nodiscard]] std::chrono::steady_clock::time_point now() const;

  /// The seed this system was made with.
  [[nodiscard]] std::uint64_t seed() const noexcept;
  /// A hash of the trace so far (FNV-1a over actor ids and message types).
  [[nodiscard]] std::uint64_t trace_hash() const noexcept;
  /// Messages handled so far.
  [[nodiscard]] std::uint64_t steps() const noexcept;
  /// Starts (or stops) keeping the trace events for trace().
  void record_trace(bool on);
  /// The events recorded since record_trace(true).
  [[nodiscard]] const std::vector<trace_event>& trace() const noexcept;
  /// Jobs ready to run now.
  [[nodiscard]] std::size_t ready() const;

 private:
  void advance_ns(std::chrono::nanoseconds d);
};

}  // namespace troupe
