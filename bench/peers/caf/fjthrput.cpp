// fjthrput N ACTORS: fork-join throughput (Savina). A driver actor sends N
// messages to each of ACTORS workers, round-robin; each message carries
// theta=37.2 and the worker does a tiny compute (s = sin(theta); acc += s*s).
// Then the driver asks every worker for its count: each must be exactly N.
// msgs = N*ACTORS.
#include <cmath>

#include "common.hpp"

using namespace caf;

using get_atom = atom_constant<atom("get")>;
using go_atom = atom_constant<atom("go")>;

struct worker_state {
  int64_t count = 0;
  double acc = 0;
};

behavior worker(stateful_actor<worker_state>* self) {
  return {
      [=](double theta) {
        double s = std::sin(theta);
        self->state.acc += s * s;
        ++self->state.count;
      },
      [=](get_atom) { return std::make_tuple(self->state.count, self->state.acc); },
  };
}

struct driver_state {
  size_t replies = 0;
  bool ok = true;
  double sum = 0;
};

behavior driver(stateful_actor<driver_state>* self, std::vector<actor> workers, int64_t n,
                double theta, actor done) {
  return {
      [=](go_atom) {
        for (int64_t i = 0; i < n; ++i)
          for (auto& w : workers) self->send(w, theta);
        for (auto& w : workers)
          self->request(w, infinite, get_atom::value).then([=](int64_t count, double acc) {
            auto& st = self->state;
            st.ok = st.ok && count == n;
            st.sum += acc;
            if (++st.replies == workers.size()) {
              double s = std::sin(theta);
              double expect = static_cast<double>(n) * static_cast<double>(workers.size()) * s * s;
              st.ok = st.ok && std::fabs(st.sum - expect) < 1e-6 * expect + 1e-9;
              self->send(done, st.ok);
            }
          });
      },
  };
}

int main(int argc, char** argv) {
  auto a = bench::args(argc, argv, "N ACTORS", {100000, 60});
  int64_t n = a[0];
  int64_t actors = a[1] < 1 ? 1 : a[1];
  int threads = bench::threads();
  actor_system_config cfg;
  bench::configure(cfg, threads);
  actor_system sys{cfg};
  scoped_actor self{sys};
  std::vector<actor> workers;
  for (int64_t i = 0; i < actors; ++i) workers.push_back(sys.spawn(worker));
  double theta = 37.2;
  auto d = sys.spawn(driver, workers, n, theta, actor{self});
  bool ok = false;
  bench::timer t;
  self->send(d, go_atom::value);
  self->receive([&](bool r) { ok = r; });
  double secs = t.seconds();
  bench::emit("fjthrput", n, {bench::p("actors", actors)}, threads, secs, n * actors, ok);
}
