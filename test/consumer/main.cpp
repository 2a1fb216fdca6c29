// Builds against troupe found by find_package(troupe) (an install or a build
// tree) or by pkg-config. Exits 0 only if the actor summed 1..10 correctly and
// the headers' version is the one the package declares (EXPECT_VERSION).
#include <cstdio>
#include <cstring>
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
  if (std::strcmp(troupe::version_string, EXPECT_VERSION) != 0) {
    std::fprintf(stderr, "headers are troupe %s, the package says %s\n", troupe::version_string,
                 EXPECT_VERSION);
    return 1;
  }
  troupe::system sys;
  auto s = sys.spawn<Sum>();
  for (int i = 1; i <= 10; ++i) s.send(Add{i});
  return s.ask(Total{}).get() == 55 ? 0 : 1;
}
