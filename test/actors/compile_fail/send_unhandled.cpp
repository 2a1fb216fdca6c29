// expect: has no handler on\(M\) for the message type M
// Sending a message type the actor has no handler for must not compile.
#include <troupe/troupe.hpp>

struct Handled {};
struct NotHandled {};
class A : public troupe::actor<A> {
 public:
  void on(Handled /*unused*/) {}
};

int main() {
  troupe::system sys;
  sys.spawn<A>().send(NotHandled{});
}
