// expect: A must derive from troupe::actor<A>
// spawn<A> requires A to derive from troupe::actor<A>.
#include <troupe/troupe.hpp>

struct Plain {
  void on(int /*unused*/) {}
  void on_start() {}
};

int main() {
  troupe::system sys;
  sys.spawn<Plain>();
}
