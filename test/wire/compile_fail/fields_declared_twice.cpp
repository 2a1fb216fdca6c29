// expect: fields of type T are declared twice
// Fields given both in the type (TROUPE_FIELDS) and in TROUPE_MESSAGE's list
// must not compile: the two lists could disagree about the wire order.
#include <troupe/wire/message.hpp>

namespace twice {
struct point {
  int x = 0;
  int y = 0;
  TROUPE_FIELDS(x, y);
};
TROUPE_MESSAGE(point, "test.twice.point", y, x);
}  // namespace twice

int main() {
  const auto bytes = troupe::wire::encode(twice::point{});
  return static_cast<int>(bytes.size());
}
