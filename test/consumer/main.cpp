// Builds against troupe found by find_package(troupe): an install or a build tree.
// Exits 0 only if the actor summed 1..10 correctly.
#include <troupe/troupe.hpp>

struct Add {
  int n;
};
struct Total {};

class Sum : public troupe::actor<Sum> {
 public:
  void on(Add a) { t_ += a.n; }
  int on(Total) const { return t_; }

 private:
  int t_ = 0;
};

int main() {
  troupe::system sys;
  auto s = sys.spawn<Sum>();
  for (int i = 1; i <= 10; ++i) s.send(Add{i});
  return s.ask(Total{}).get() == 55 ? 0 : 1;
}
