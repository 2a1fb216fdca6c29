// expect: register A with TROUPE_ISOLATED_ACTOR
// Spawning an actor type in a child process without registering it does not
// compile.
#include <troupe/nodes.hpp>
#include <troupe/troupe.hpp>

namespace cf {
class B : public troupe::actor<B> {
 public:
  void on(int /*unused*/) {}
};
}  // namespace cf

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;
  troupe::system sys;
  auto b = sys.spawn<cf::B>(troupe::isolated);  // spawn_isolated<cf::B>(sys) alike
}
