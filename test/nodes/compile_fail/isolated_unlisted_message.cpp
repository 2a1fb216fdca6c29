// expect: message type M is not in the list given to TROUPE_ISOLATED_ACTOR
// Sending an isolated actor a message type it handles but that is not in
// its registered list does not compile.
#include <troupe/nodes.hpp>
#include <troupe/troupe.hpp>

namespace cf {
struct Listed {
  int v = 0;
  TROUPE_FIELDS(v);
};
TROUPE_MESSAGE(Listed, "cf.listed");
struct Unlisted {
  int v = 0;
  TROUPE_FIELDS(v);
};
TROUPE_MESSAGE(Unlisted, "cf.unlisted");

class A : public troupe::actor<A> {
 public:
  void on(Listed /*unused*/) {}
  void on(Unlisted /*unused*/) {}
};
TROUPE_ISOLATED_ACTOR(A, "cf.a", Listed);
}  // namespace cf

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;
  troupe::system sys;
  auto a = troupe::spawn_isolated<cf::A>(sys);
  a.send(cf::Unlisted{});
}
