// expect: not_declared.*no codec for type T|no codec for type T.*not_declared
// A field whose type has no codec must not compile, and the diagnostic must
// name that type.
#include <troupe/wire/codec.hpp>

struct not_declared {
  int x = 0;
};

struct holder {
  not_declared inner;
  TROUPE_FIELDS(inner);
};

int main() {
  const auto bytes = troupe::wire::encode(holder{});
  return static_cast<int>(bytes.size());
}
