// A pipeline of actors: source -> square -> filter -> sum. Each stage is an
// actor holding its own state; an End message flows behind the data and
// closes each stage in turn (per-sender order is guaranteed).
#include <cstdint>
#include <iostream>
#include <troupe/troupe.hpp>

struct Num {
  std::int64_t v;
};
struct End {};

class Sum : public troupe::actor<Sum> {
 public:
  explicit Sum(troupe::promise<std::pair<std::int64_t, std::int64_t>> done)
      : done_(std::move(done)) {}
  void on(Num n) {
    total_ += n.v;
    ++count_;
  }
  void on(End /*unused*/) {
    done_.set_value(std::pair{count_, total_});
    stop();
  }

 private:
  troupe::promise<std::pair<std::int64_t, std::int64_t>> done_;
  std::int64_t total_ = 0;
  std::int64_t count_ = 0;
};

// Keeps multiples of `k`.
class Filter : public troupe::actor<Filter> {
 public:
  Filter(std::int64_t k, troupe::ref<Sum> next) : k_(k), next_(std::move(next)) {}
  void on(Num n) {
    if (n.v % k_ == 0) next_.send(n);
  }
  void on(End e) {
    next_.send(e);
    stop();
  }

 private:
  std::int64_t k_;
  troupe::ref<Sum> next_;
};

class Square : public troupe::actor<Square> {
 public:
  explicit Square(troupe::ref<Filter> next) : next_(std::move(next)) {}
  void on(Num n) { next_.send(Num{n.v * n.v}); }
  void on(End e) {
    next_.send(e);
    stop();
  }

 private:
  troupe::ref<Filter> next_;
};

int main() {
  constexpr std::int64_t kLimit = 100000;
  troupe::system sys;
  troupe::promise<std::pair<std::int64_t, std::int64_t>> done;
  auto result = done.get_future();

  auto sum = sys.spawn<Sum>(std::move(done));
  auto filter = sys.spawn<Filter>(3, sum);
  auto square = sys.spawn<Square>(filter);

  for (std::int64_t i = 1; i <= kLimit; ++i) square.send(Num{i});
  square.send(End{});

  auto [count, total] = result.get();
  // The same computation in a plain loop, to check the pipeline.
  std::int64_t expect = 0;
  for (std::int64_t i = 1; i <= kLimit; ++i) {
    if ((i * i) % 3 == 0) expect += i * i;
  }
  std::cout << "squares divisible by 3 among 1.." << kLimit << ": " << count << '\n';
  std::cout << "their sum: " << total << '\n';
  std::cout << (total == expect ? "matches the sequential loop" : "MISMATCH") << '\n';
  const auto report = sys.shutdown();
  std::cout << "undelivered at shutdown: " << report.undelivered << '\n';
  return total == expect ? 0 : 1;
}
