// skynet N FANOUT: every node with size > 1 spawns min(FANOUT, size)
// children over equal sub-ranges and sums their replies; a leaf (size 1)
// replies its number and quits. N leaves; the root sum must be N*(N-1)/2.
// msgs = number of nodes (each replies once to its parent).
#include <malloc.h>

#include "common.hpp"

using namespace caf;

struct node_state {
  int64_t pending = 0;
  int64_t sum = 0;
};

behavior skynet(stateful_actor<node_state>* self, actor parent, int64_t num, int64_t size,
                int64_t div) {
  if (size == 1) {
    self->send(parent, num);
    self->quit();
    return {};
  }
  int64_t k = size < div ? size : div;
  self->state.pending = k;
  for (int64_t i = 0; i < k; ++i) {
    int64_t lo = num + i * size / k;
    int64_t hi = num + (i + 1) * size / k;
    self->spawn(skynet, actor_cast<actor>(self), lo, hi - lo, div);
  }
  return {
      [=](int64_t v) {
        auto& st = self->state;
        st.sum += v;
        if (--st.pending == 0) {
          self->send(parent, st.sum);
          self->quit();
        }
      },
  };
}

static int64_t nodes(int64_t size, int64_t div) {
  if (size <= 1) return 1;
  int64_t k = size < div ? size : div;
  int64_t total = 1;
  for (int64_t i = 0; i < k; ++i) total += nodes((i + 1) * size / k - i * size / k, div);
  return total;
}

int main(int argc, char** argv) {
  auto a = bench::args(argc, argv, "N FANOUT", {1000000, 10});
  int64_t n = a[0];
  int64_t fanout = a[1];
  if (n < 1 || fanout < 2) {
    std::fprintf(stderr, "skynet needs N >= 1 and FANOUT >= 2\n");
    return 2;
  }
  int threads = bench::threads();
  int64_t count = nodes(n, fanout);
  actor_system_config cfg;
  bench::configure(cfg, threads);
  actor_system sys{cfg};
  scoped_actor self{sys};
  malloc_trim(0);
  long long base = bench::proc_status_kb("VmRSS");
  int64_t sum = -1;
  bench::timer t;
  sys.spawn(skynet, actor{self}, int64_t{0}, n, fanout);
  self->receive([&](int64_t r) { sum = r; });
  double secs = t.seconds();
  long long peak = bench::proc_status_kb("VmHWM");
  double bpa = static_cast<double>(peak - base) * 1024.0 / static_cast<double>(n);
  bench::emit("skynet", n, {bench::p("fanout", fanout)}, threads, secs, count - 1,
              sum == n * (n - 1) / 2,
              {bench::p("sum", sum), bench::p("actors", count), bench::pd("bytes_per_actor", bpa),
               bench::p("peak_rss_kb", peak), bench::p("base_rss_kb", base)});
}
