// troupe::test_system: the deterministic mode (see test_system.hpp).

#include "troupe/actors/test_system.hpp"

#include "internal/core.hpp"

namespace troupe {

test_system::test_system(std::uint64_t seed, system_config cfg)
    : system(detail::deterministic_t{seed}, cfg) {}

test_system::~test_system() = default;

std::size_t test_system::run_until_idle() {
  std::size_t n = 0;
  while (core().det->step()) ++n;
  return n;
}

bool test_system::step() { return core().det->step(); }

void test_system::advance_ns(std::chrono::nanoseconds d) {
  auto& c = core();
  run_until_idle();
  const auto until = c.timers.now() + d;
  while (c.timers.fire_due(until)) run_until_idle();
  c.timers.set_now(until);
}

std::chrono::steady_clock::time_point test_system::now() const {
  return const_cast<test_system*>(this)->core().timers.now();
}

std::uint64_t test_system::seed() const noexcept {
  return const_cast<test_system*>(this)->core().det->seed;
}

std::uint64_t test_system::trace_hash() const noexcept {
  return const_cast<test_system*>(this)->core().det->trace_hash;
}

std::uint64_t test_system::steps() const noexcept {
  return const_cast<test_system*>(this)->core().det->steps;
}

void test_system::record_trace(bool on) { core().det->record_trace = on; }

const std::vector<trace_event>& test_system::trace() const noexcept {
  return const_cast<test_system*>(this)->core().det->trace;
}

std::size_t test_system::ready() const {
  return const_cast<test_system*>(this)->core().det->ready();
}

}  // namespace troupe
