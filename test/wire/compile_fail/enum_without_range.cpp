// expect: loose.*has no fixed underlying type
// An enum without a fixed underlying type needs TROUPE_ENUM_RANGE: decoding
// a value outside its enumerators' range would be undefined behaviour.
#include <troupe/wire/codec.hpp>

enum loose { loose_a, loose_b };

int main() {
  loose v = loose_a;
  const auto bytes = troupe::wire::encode(v);
  return troupe::wire::decode(bytes, v).ok() ? 0 : 1;
}
