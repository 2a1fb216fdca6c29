// expect: encoding can be empty
// A container of a type whose encoding can be empty cannot bound its element
// count by the input size, so it must not compile.
#include <troupe/wire/codec.hpp>
#include <vector>

struct nothing {
  TROUPE_FIELDS();
};

int main() {
  std::vector<nothing> v;
  return troupe::wire::decode(troupe::wire::encode(v), v).ok() ? 0 : 1;
}
