// expect: include <troupe/nodes.hpp>
// spawn<A>(troupe::isolated) needs the process backend's header; without it
// the call names the header instead of failing at link time.
#include <troupe/actors.hpp>

namespace cf {
class B : public troupe::actor<B> {
 public:
  void on(int /*unused*/) {}
};
}  // namespace cf

int main() {
  troupe::system sys;
  auto b = sys.spawn<cf::B>(troupe::isolated);
}
