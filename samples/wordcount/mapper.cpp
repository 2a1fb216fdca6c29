#include "mapper.hpp"

#include <cstdio>
#include <iterator>
#include <map>
#include <stdexcept>
#include <utility>

namespace wordcount {

void count_into(std::string_view text, counts& into) {
  std::string word;
  auto flush = [&] {
    // Apostrophes only inside a word: "'tis" and "boats'" count as "tis", "boats".
    std::size_t b = 0;
    std::size_t e = word.size();
    while (b < e && word[b] == '\'') ++b;
    while (e > b && word[e - 1] == '\'') --e;
    if (e > b) ++into[word.substr(b, e - b)];
    word.clear();
  };
  for (char c : text) {
    if (is_word_char(c)) {
      word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    } else if (!word.empty()) {
      flush();
    }
  }
  if (!word.empty()) flush();
}

reducer::reducer(std::size_t chunks, bool tty, troupe::promise<counts> done)
    : expected_(chunks), tty_(tty), done_(std::move(done)) {
  if (expected_ == 0) done_.set_value(counts{});
}

void reducer::on(partial p) {
  for (auto& [w, n] : p.words) totals_[w] += n;
  ++seen_;
  progress();
  if (seen_ == expected_) {
    done_.set_value(std::move(totals_));
    stop();
  }
}

void reducer::progress() {
  if (tty_) {
    std::printf("\rreduced %zu/%zu chunks", seen_, expected_);
    if (seen_ == expected_) std::printf("\n");
    std::fflush(stdout);
    return;
  }
  // Plain output: one line per quarter.
  const auto quarter = static_cast<unsigned>(seen_ * 4 / expected_);
  if (quarter > last_quarter_) {
    last_quarter_ = quarter;
    std::printf("progress: %u%% of the chunks reduced\n", quarter * 25);
    std::fflush(stdout);
  }
}

namespace {

// Mappers as tasks on the pool. They take chunks from one bounded channel
// (whoever is free takes the next: load balancing without a lock) and send
// each chunk's counts to the reducer.
class threads_backend final : public mapper_backend {
 public:
  threads_backend(troupe::system& sys, unsigned mappers) : sys_(sys), mappers_(mappers) {}
  [[nodiscard]] std::string_view name() const override { return "threads"; }

  void run(std::vector<std::string> chunks, const troupe::ref<reducer>& to) override {
    auto [tx, rx] = troupe::make_channel<std::string>(2 * std::size_t{mappers_});
    for (unsigned i = 0; i < mappers_; ++i) {
      sys_.go([rx = rx, to]() -> troupe::task<> {
            while (auto chunk = co_await rx.recv()) {
              partial p;
              count_into(*chunk, p.words);
              to.send(std::move(p));
            }
          })
          .detach();
    }
    // This (plain) thread feeds the mappers; a full channel makes it wait.
    for (auto& c : chunks) tx.send(std::move(c));
    tx.close();
  }

 private:
  troupe::system& sys_;
  unsigned mappers_;
};

// Mappers in worker processes: a process_pool runs count_chunk in child
// processes (this program, re-executed: see main's first line). imap
// streams the partial counts back in order as chunks finish; this thread
// forwards each to the reducer. A worker that fails throws out of run().
class processes_backend final : public mapper_backend {
 public:
  processes_backend(troupe::system& sys, unsigned mappers) : pool_(sys, mappers) {}
  [[nodiscard]] std::string_view name() const override { return "processes"; }

  void run(std::vector<std::string> chunks, const troupe::ref<reducer>& to) override {
    for (auto& words : pool_.imap(count_chunk, chunks, 4)) {
      partial p;
      p.words.insert(std::make_move_iterator(words.begin()), std::make_move_iterator(words.end()));
      to.send(std::move(p));
    }
  }

 private:
  troupe::process_pool pool_;
};

}  // namespace

std::map<std::string, std::uint64_t> count_chunk(std::string text) {
  counts c;
  count_into(text, c);
  return {std::make_move_iterator(c.begin()), std::make_move_iterator(c.end())};
}

std::unique_ptr<mapper_backend> make_backend(std::string_view kind, troupe::system& sys,
                                             unsigned mappers) {
  if (kind == "threads") return std::make_unique<threads_backend>(sys, mappers);
  if (kind == "processes") return std::make_unique<processes_backend>(sys, mappers);
  throw std::invalid_argument("unknown mapper backend");
}

}  // namespace wordcount
