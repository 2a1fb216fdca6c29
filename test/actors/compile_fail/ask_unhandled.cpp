// expect: ask\(M\): the actor type A has no handler on\(M\)
// Asking with a message type the actor has no handler for must not compile.
#include <troupe/troupe.hpp>

struct Handled {};
struct Question {};
class A : public troupe::actor<A> {
 public:
  int on(Handled /*unused*/) { return 1; }
};

int main() {
  troupe::system sys;
  auto f = sys.spawn<A>().ask(Question{});
  (void)f;
}
