// smoke: 1000 10
// chameneos N CREATURES: creatures ask a mall to meet; the mall pairs them
// until N meetings happened, then sends each creature home; each reports its
// meetings. Checks total meetings == 2N. (Savina's chameneos; 4 messages per
// meeting.)
#include <memory>
#include <troupe/troupe.hpp>
#include <vector>

#include "bench_util.hpp"

namespace {
enum color : int { red, yellow, blue, faded };
int complement(int a, int b) { return a == b ? a : 3 - a - b; }

class Creature;
struct MeetRequest {
  int color;
  long from;
};
struct MeetCount {
  long count;
};
struct Meet {
  int color;
  long from;
};
struct Change {
  int color;
};
struct Exit {};

class Mall : public troupe::actor<Mall> {
 public:
  Mall(long n, long creatures, std::shared_ptr<troupe::promise<long>> total)
      : remaining_(n), creatures_(creatures), total_(std::move(total)) {}
  void on(std::vector<troupe::ref<Creature>> cs) { creatures_refs_ = std::move(cs); }
  void on(MeetRequest m);
  void on(MeetCount c) {
    sum_ += c.count;
    if (++faded_ == creatures_) total_->set_value(sum_);
  }

 private:
  long remaining_;
  long creatures_;
  std::shared_ptr<troupe::promise<long>> total_;  // outlives set_value()
  std::vector<troupe::ref<Creature>> creatures_refs_;
  long waiting_ = -1;
  int waiting_color_ = 0;
  long faded_ = 0;
  long sum_ = 0;
};

class Creature : public troupe::actor<Creature> {
 public:
  Creature(long id, troupe::ref<Mall> mall)
      : id_(id), color_(static_cast<int>(id % 3)), mall_(std::move(mall)) {}
  void on(std::vector<troupe::ref<Creature>> cs) {
    others_ = std::move(cs);
    mall_.send(MeetRequest{color_, id_});
  }
  void on(Meet m) {
    color_ = complement(color_, m.color);
    ++meetings_;
    others_[static_cast<std::size_t>(m.from)].send(Change{color_});
    mall_.send(MeetRequest{color_, id_});
  }
  void on(Change c) {
    color_ = c.color;
    ++meetings_;
    mall_.send(MeetRequest{color_, id_});
  }
  void on(Exit /*unused*/) {
    color_ = faded;
    mall_.send(MeetCount{meetings_});
    stop();
  }

 private:
  long id_;
  int color_;
  troupe::ref<Mall> mall_;
  std::vector<troupe::ref<Creature>> others_;
  long meetings_ = 0;
};

void Mall::on(MeetRequest m) {
  if (remaining_ > 0) {
    if (waiting_ < 0) {
      waiting_ = m.from;
      waiting_color_ = m.color;
    } else {
      --remaining_;
      creatures_refs_[static_cast<std::size_t>(waiting_)].send(Meet{m.color, m.from});
      waiting_ = -1;
    }
  } else {
    creatures_refs_[static_cast<std::size_t>(m.from)].send(Exit{});
  }
}
}  // namespace

int main(int argc, char** argv) {
  const long n = bench::arg(argc, argv, 1, 1000000);
  const long creatures = bench::arg(argc, argv, 2, 10);
  if (creatures < 2) {
    std::fprintf(stderr, "chameneos: needs at least 2 creatures\n");
    return 2;
  }
  troupe::system sys(troupe::system_config{bench::threads()});
  auto total = std::make_shared<troupe::promise<long>>();
  auto result = total->get_future();
  auto mall = sys.spawn<Mall>(n, creatures, total);
  std::vector<troupe::ref<Creature>> cs;
  for (long i = 0; i < creatures; ++i) cs.push_back(sys.spawn<Creature>(i, mall));
  mall.send(cs);
  bench::stopwatch sw;
  for (auto& c : cs) c.send(cs);
  const long sum = result.get();
  const double t = sw.seconds();
  return bench::report("chameneos", n, {{"creatures", static_cast<double>(creatures)}}, t,
                       4.0 * static_cast<double>(n), sum == 2 * n,
                       {{"meetings", static_cast<double>(sum)}});
}
