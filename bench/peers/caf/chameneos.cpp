// chameneos N CREATURES: the Savina chameneos protocol. A mall actor pairs
// meeting requests until N meetings have happened, then answers every
// further request with "exit". A paired creature computes its new color,
// tells its partner ("change"), counts the meeting and asks the mall again;
// at "exit" it fades and reports its meeting count to the mall. The reported
// counts must sum to 2N. msgs = 4N (two requests, one forward, one change
// per meeting).
#include "common.hpp"

using namespace caf;

using meet_atom = atom_constant<atom("meet")>;
using change_atom = atom_constant<atom("change")>;
using exit_atom = atom_constant<atom("exit")>;
using count_atom = atom_constant<atom("count")>;

enum color : int { red = 0, yellow = 1, blue = 2, faded = 3 };

static int complement(int a, int b) { return a == b ? a : 3 - a - b; }

struct mall_state {
  int64_t remaining = 0;
  actor waiting;
  int64_t faded = 0;
  int64_t sum = 0;
};

behavior mall(stateful_actor<mall_state>* self, int64_t n, int64_t creatures, actor done) {
  self->state.remaining = n;
  return {
      [=](meet_atom, int c, const actor& from) {
        auto& st = self->state;
        if (st.remaining > 0) {
          if (!st.waiting) {
            st.waiting = from;
          } else {
            --st.remaining;
            self->send(st.waiting, meet_atom::value, c, from);
            st.waiting = nullptr;
          }
        } else {
          self->send(from, exit_atom::value);
        }
      },
      [=](count_atom, int64_t meetings) {
        auto& st = self->state;
        st.sum += meetings;
        if (++st.faded == creatures) {
          self->send(done, st.sum);
          self->quit();
        }
      },
  };
}

struct creature_state {
  int color = 0;
  int64_t meetings = 0;
};

behavior creature(stateful_actor<creature_state>* self, actor the_mall, int initial) {
  self->state.color = initial;
  self->send(the_mall, meet_atom::value, initial, actor_cast<actor>(self));
  return {
      [=](meet_atom, int other, const actor& partner) {
        auto& st = self->state;
        st.color = complement(st.color, other);
        ++st.meetings;
        self->send(partner, change_atom::value, st.color);
        self->send(the_mall, meet_atom::value, st.color, actor_cast<actor>(self));
      },
      [=](change_atom, int c) {
        auto& st = self->state;
        st.color = c;
        ++st.meetings;
        self->send(the_mall, meet_atom::value, st.color, actor_cast<actor>(self));
      },
      [=](exit_atom) {
        self->state.color = faded;
        self->send(the_mall, count_atom::value, self->state.meetings);
        self->quit();
      },
  };
}

int main(int argc, char** argv) {
  auto a = bench::args(argc, argv, "N CREATURES", {1000000, 10});
  int64_t n = a[0];
  int64_t creatures = a[1];
  if (creatures < 2) {
    std::fprintf(stderr, "chameneos needs at least 2 creatures\n");
    return 2;
  }
  int threads = bench::threads();
  actor_system_config cfg;
  bench::configure(cfg, threads);
  actor_system sys{cfg};
  scoped_actor self{sys};
  int64_t sum = -1;
  bench::timer t;
  auto m = sys.spawn(mall, n, creatures, actor{self});
  for (int64_t i = 0; i < creatures; ++i) sys.spawn(creature, m, static_cast<int>(i % 3));
  self->receive([&](int64_t r) { sum = r; });
  double secs = t.seconds();
  bench::emit("chameneos", n, {bench::p("creatures", creatures)}, threads, secs, 4 * n,
              sum == 2 * n, {bench::p("meetings", sum)});
}
