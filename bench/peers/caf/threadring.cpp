// threadring N RING: RING actors 0..RING-1 in a ring; actor 0 receives the
// token with value N; each hop decrements it and forwards to (i+1)%RING; the
// actor receiving 0 is the winner and must be N % RING. msgs = N hops.
#include "common.hpp"

using namespace caf;

using next_atom = atom_constant<atom("next")>;

struct node_state {
  actor next;
};

behavior ring_node(stateful_actor<node_state>* self, int64_t id, actor done) {
  return {
      [=](next_atom, const actor& next) { self->state.next = next; },
      [=](int64_t v) {
        if (v == 0)
          self->send(done, id);
        else
          self->send(self->state.next, v - 1);
      },
  };
}

int main(int argc, char** argv) {
  auto a = bench::args(argc, argv, "N RING", {10000000, 503});
  int64_t n = a[0];
  int64_t ring = a[1] < 1 ? 1 : a[1];
  int threads = bench::threads();
  actor_system_config cfg;
  bench::configure(cfg, threads);
  actor_system sys{cfg};
  scoped_actor self{sys};
  std::vector<actor> nodes;
  nodes.reserve(static_cast<size_t>(ring));
  for (int64_t i = 0; i < ring; ++i) nodes.push_back(sys.spawn(ring_node, i, actor{self}));
  for (int64_t i = 0; i < ring; ++i)
    self->send(nodes[static_cast<size_t>(i)], next_atom::value,
               nodes[static_cast<size_t>((i + 1) % ring)]);
  // FIFO per sender: every node learns its successor before the token comes.
  int64_t winner = -1;
  bench::timer t;
  self->send(nodes[0], n);
  self->receive([&](int64_t w) { winner = w; });
  double secs = t.seconds();
  bench::emit("threadring", n, {bench::p("ring", ring)}, threads, secs, n, winner == n % ring,
              {bench::p("winner", winner)});
}
