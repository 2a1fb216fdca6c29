// expect: every message type needs a stable name .TROUPE_MESSAGE
// A message without a TROUPE_MESSAGE name cannot cross a process boundary.
#include <troupe/nodes.hpp>
#include <troupe/troupe.hpp>

namespace cf {
struct Named {
  int v = 0;
  TROUPE_FIELDS(v);
};
TROUPE_MESSAGE(Named, "cf.named");
struct Plain {
  int v = 0;
  TROUPE_FIELDS(v);
};

class C : public troupe::actor<C> {
 public:
  void on(Named /*unused*/) {}
  void on(Plain /*unused*/) {}
};
TROUPE_ISOLATED_ACTOR(C, "cf.c", Named, Plain);
}  // namespace cf

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;
  troupe::system sys;
  auto c = troupe::spawn_isolated<cf::C>(sys);
  c.send(cf::Plain{});
}
