// counting N: a producer actor sends N increments to one counting actor,
// then asks (request/response) for the count; it must equal N. msgs = N.
#include "common.hpp"

using namespace caf;

using inc_atom = atom_constant<atom("inc")>;
using get_atom = atom_constant<atom("get")>;
using go_atom = atom_constant<atom("go")>;

struct counter_state {
  int64_t count = 0;
};

behavior counter(stateful_actor<counter_state>* self) {
  return {
      [=](inc_atom) { ++self->state.count; },
      [=](get_atom) { return self->state.count; },
  };
}

behavior producer(event_based_actor* self, actor target, int64_t n, actor done) {
  return {
      [=](go_atom) {
        for (int64_t i = 0; i < n; ++i) self->send(target, inc_atom::value);
        self->request(target, infinite, get_atom::value).then([=](int64_t c) {
          self->send(done, c);
        });
      },
  };
}

int main(int argc, char** argv) {
  auto a = bench::args(argc, argv, "N", {10000000});
  int64_t n = a[0];
  int threads = bench::threads();
  actor_system_config cfg;
  bench::configure(cfg, threads);
  actor_system sys{cfg};
  scoped_actor self{sys};
  auto c = sys.spawn(counter);
  auto p = sys.spawn(producer, c, n, actor{self});
  int64_t got = -1;
  bench::timer t;
  self->send(p, go_atom::value);
  self->receive([&](int64_t r) { got = r; });
  double secs = t.seconds();
  bench::emit("counting", n, {}, threads, secs, n, got == n, {bench::p("count", got)});
}
