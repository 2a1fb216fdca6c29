// pingpong N: two event-based actors exchange N round trips (2N messages).
#include "common.hpp"

using namespace caf;

using ping_atom = atom_constant<atom("ping")>;
using pong_atom = atom_constant<atom("pong")>;
using go_atom = atom_constant<atom("go")>;

behavior pong(event_based_actor* self) {
  return {
      [=](ping_atom, int64_t v) {
        self->send(actor_cast<actor>(self->current_sender()), pong_atom::value, v);
      },
  };
}

struct ping_state {
  int64_t received = 0;
};

behavior ping(stateful_actor<ping_state>* self, actor buddy, int64_t n, actor done) {
  return {
      [=](go_atom) {
        if (n == 0)
          self->send(done, int64_t{0});
        else
          self->send(buddy, ping_atom::value, int64_t{1});
      },
      [=](pong_atom, int64_t v) {
        ++self->state.received;
        if (v >= n)
          self->send(done, self->state.received);
        else
          self->send(buddy, ping_atom::value, v + 1);
      },
  };
}

int main(int argc, char** argv) {
  auto a = bench::args(argc, argv, "N", {1000000});
  int64_t n = a[0];
  int threads = bench::threads();
  actor_system_config cfg;
  bench::configure(cfg, threads);
  actor_system sys{cfg};
  scoped_actor self{sys};
  auto po = sys.spawn(pong);
  auto pi = sys.spawn(ping, po, n, actor{self});
  int64_t got = -1;
  bench::timer t;
  self->send(pi, go_atom::value);
  self->receive([&](int64_t r) { got = r; });
  double secs = t.seconds();
  bench::emit("pingpong", n, {}, threads, secs, 2 * n, got == n);
}
