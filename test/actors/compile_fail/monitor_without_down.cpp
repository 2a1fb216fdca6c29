// expect: the watcher D needs a handler .void on\(troupe::down\).
// An actor that monitors another must handle troupe::down.
#include <troupe/troupe.hpp>

struct Start {
  troupe::actor_addr target;
};
class Watcher : public troupe::actor<Watcher> {
 public:
  void on(Start s) { monitor(s.target); }
};

int main() {
  troupe::system sys;
  sys.spawn<Watcher>().send(Start{});
}
