// expect: send_after: the actor type A has no handler on\(M\) for M
// A delayed send is checked like a send.
#include <chrono>
#include <troupe/troupe.hpp>

struct Handled {};
struct Other {};
class A : public troupe::actor<A> {
 public:
  void on(Handled /*unused*/) {}
};

int main() {
  troupe::system sys;
  sys.send_after(sys.spawn<A>(), std::chrono::milliseconds(1), Other{});
}
