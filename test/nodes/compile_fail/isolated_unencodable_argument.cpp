// expect: a constructor argument type T .named in this error's template arguments. cannot be
// encoded An isolated actor's constructor arguments cross the process boundary encoded; one without
// a codec does not compile, and the error names it.
#include <troupe/nodes.hpp>
#include <troupe/troupe.hpp>

namespace cf {
struct Handle {  // no TROUPE_FIELDS, no codec
  int fd = -1;
};
struct Ping {
  int v = 0;
  TROUPE_FIELDS(v);
};
TROUPE_MESSAGE(Ping, "cf.ping");
class W : public troupe::actor<W> {
 public:
  explicit W(Handle h) : h_(h) {}
  int on(Ping p) const { return p.v + h_.fd; }

 private:
  Handle h_;
};
TROUPE_ISOLATED_ACTOR(W, "cf.w");
}  // namespace cf

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;
  troupe::system sys;
  auto w = sys.spawn<cf::W>(troupe::isolated, cf::Handle{3});
}
