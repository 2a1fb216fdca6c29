#include "internal/det_mode.hpp"

#include <cstddef>

namespace troupe::detail {

namespace {
// splitmix64 of the seed, so nearby seeds give unrelated sequences.
std::uint64_t mix_seed(std::uint64_t s) noexcept {
  std::uint64_t z = s + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return (z ^ (z >> 31)) | 1U;
}
}  // namespace

det_mode::det_mode(std::uint64_t s) noexcept : seed(s), rng_(mix_seed(s)) {}

void det_mode::push(job* j) noexcept {
  lock_guard lk(mu_);
  ready_.push_back(j);
}

bool det_mode::step() noexcept {
  job* j = nullptr;
  {
    lock_guard lk(mu_);
    if (ready_.empty()) return false;
    // xorshift64: the seeded choice of which ready job runs next.
    std::uint64_t& x = rng_;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const auto i = static_cast<std::size_t>(x % ready_.size());
    j = ready_[i];
    ready_[i] = ready_.back();
    ready_.pop_back();
  }
  j->run_job();
  return true;
}

std::size_t det_mode::ready() noexcept {
  lock_guard lk(mu_);
  return ready_.size();
}

void det_mode::on_message(const cell& c, const message& m) noexcept {
  ++steps;
  const char* type = m.type_name();
  auto mix = [this](unsigned char b) { trace_hash = (trace_hash ^ b) * 0x100000001b3ULL; };
  const std::uint64_t id = c.id();
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(id >> (8 * i)));
  for (const char* p = type; *p != '\0'; ++p) mix(static_cast<unsigned char>(*p));
  mix(0);
  if (record_trace) {
    try {
      trace.push_back(trace_event{steps, id, c.type_name(), type});
    } catch (...) {
    }
  }
}

}  // namespace troupe::detail
