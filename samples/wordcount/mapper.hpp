#pragma once
// The map and reduce steps of the wordcount sample, and the mapper backends
// that run the map step.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <troupe/troupe.hpp>
#include <unordered_map>
#include <vector>

namespace wordcount {

using counts = std::unordered_map<std::string, std::uint64_t>;

/// Letters, digits and the apostrophe make up words; case is ignored.
inline bool is_word_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '\'';
}

/// Adds the words of `text` to `into` (the map step, and the reference count).
void count_into(std::string_view text, counts& into);

/// A mapper's result for one chunk.
struct partial {
  counts words;
};

/// Owns the totals: adds up partial counts, one message at a time, and
/// completes `done` when `chunks` partials have arrived.
class reducer : public troupe::actor<reducer> {
 public:
  reducer(std::size_t chunks, bool tty, troupe::promise<counts> done);
  void on(partial p);

 private:
  void progress();

  std::size_t expected_;
  std::size_t seen_ = 0;
  unsigned last_quarter_ = 0;
  bool tty_;
  counts totals_;
  troupe::promise<counts> done_;
};

/// The map step as a process-pool function: the counts of one chunk (a
/// std::map: its codec crosses the process boundary).
std::map<std::string, std::uint64_t> count_chunk(std::string text);
TROUPE_POOL_FUNCTION(count_chunk);

/// Runs the map step: counts every chunk and sends each chunk's partial to
/// the reducer. The `threads` backend runs its mappers as tasks on the
/// system's pool; the `processes` backend runs count_chunk in a
/// process_pool of worker processes.
class mapper_backend {
 public:
  mapper_backend() = default;
  mapper_backend(const mapper_backend&) = delete;
  mapper_backend& operator=(const mapper_backend&) = delete;
  virtual ~mapper_backend() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  /// Hands out `chunks` to the mappers; returns once every chunk has been
  /// handed out (the reducer learns when the last is counted).
  virtual void run(std::vector<std::string> chunks, const troupe::ref<reducer>& to) = 0;
};

/// The backend `kind` with `mappers` mappers, running in `sys`.
std::unique_ptr<mapper_backend> make_backend(std::string_view kind, troupe::system& sys,
                                             unsigned mappers);

}  // namespace wordcount
