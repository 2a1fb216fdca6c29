// expect: D needs a handler .void on\(troupe::exit_msg\).
// An actor that traps exits must handle troupe::exit_msg.
#include <troupe/troupe.hpp>

struct Start {};
class Trapper : public troupe::actor<Trapper> {
 public:
  void on(Start /*unused*/) { trap_exit(true); }
};

int main() {
  troupe::system sys;
  sys.spawn<Trapper>().send(Start{});
}
