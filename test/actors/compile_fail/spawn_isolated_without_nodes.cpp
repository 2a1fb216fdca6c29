// expect: (isolated.+ is not a member of .+troupe|no member named 'isolated' in namespace 'troupe')
// The core names no extension: troupe::isolated is the process backend's
// spawn placement, declared by <troupe/nodes.hpp> only.
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
