// Every decode error kind, each from its own malformed input, and the
// encoder's refusals. Messages must name the field path and the numbers.

#include <catch2/catch.hpp>
#include <limits>
#include <troupe/wire/codec.hpp>

#include "fuzz/fuzz_types.hpp"
#include "wire_test_util.hpp"

namespace wire = troupe::wire;
using troupe::fuzz::color;
using troupe::fuzz::point;
using troupe::fuzz::tree;
using troupe::test::bytes_of;
using wire::wire_errc;

namespace {

template <class T>
wire::status decode_as(const std::vector<std::byte>& b, const wire::limits& lim = {}) {
  T out{};
  return wire::decode(b, out, lim);
}

// CHECKs the code and that the message contains each of `parts`.
void check_error(const wire::status& s, wire_errc code,
                 std::initializer_list<std::string_view> parts = {}) {
  INFO(s.message());
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == code);
  for (std::string_view p : parts) CHECK(s.message().find(p) != std::string::npos);
}

}  // namespace

TEST_CASE("truncated: the input ends inside a fixed-width value", "[wire][errors]") {
  check_error(decode_as<point>(bytes_of({1, 0, 0, 0, 2, 0})), wire_errc::truncated,
              {"point at .y", "byte 4 of 6", "need 4 bytes, 2 left"});
  check_error(decode_as<std::uint64_t>({}), wire_errc::truncated);
  check_error(decode_as<bool>({}), wire_errc::truncated);
  // Inside a varint.
  check_error(decode_as<std::string>(bytes_of({0x80})), wire_errc::truncated);
}

TEST_CASE("bad_varint: over 10 bytes, over 64 bits, or not minimal", "[wire][errors]") {
  check_error(decode_as<std::string>(bytes_of({0x80, 0x00})), wire_errc::bad_varint,
              {"not minimal"});
  check_error(decode_as<std::string>(
                  bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02})),
              wire_errc::bad_varint, {"exceeds 64 bits"});
  check_error(decode_as<std::string>(
                  bytes_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00})),
              wire_errc::bad_varint);
}

TEST_CASE("length_overflow: a string longer than the bytes left", "[wire][errors]") {
  check_error(decode_as<std::string>(bytes_of({0xAC, 0x02, 'a', 'b'})), wire_errc::length_overflow,
              {"length 300 with 2 bytes left"});
  // The largest varint: no overflow in the check, no allocation.
  check_error(decode_as<std::string>(
                  bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})),
              wire_errc::length_overflow);
}

TEST_CASE("length_overflow: a string longer than max_string", "[wire][errors]") {
  wire::limits lim;
  lim.max_string = 3;
  check_error(decode_as<std::string>(bytes_of({4, 'a', 'b', 'c', 'd'}), lim),
              wire_errc::length_overflow, {"exceeds the limit 3"});
  CHECK(decode_as<std::string>(bytes_of({3, 'a', 'b', 'c'}), lim).ok());
}

TEST_CASE("count_overflow: more elements than the bytes left can hold", "[wire][errors]") {
  // 3 int32 need 12 bytes; 8 are there.
  check_error(decode_as<std::vector<std::int32_t>>(bytes_of({3, 1, 0, 0, 0, 2, 0, 0, 0})),
              wire_errc::count_overflow,
              {"count 3 of elements of at least 4 bytes with 8 bytes left"});
  // Strings take at least one byte each.
  check_error(decode_as<std::vector<std::string>>(bytes_of({3, 0, 0})), wire_errc::count_overflow);
  check_error(decode_as<std::map<std::int32_t, bool>>(bytes_of({1, 1, 2, 3, 4})),
              wire_errc::count_overflow, {"at least 5 bytes"});
  check_error(decode_as<std::vector<std::uint8_t>>(
                  bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})),
              wire_errc::count_overflow);
}

TEST_CASE("count_overflow: more elements than max_elements", "[wire][errors]") {
  wire::limits lim;
  lim.max_elements = 2;
  check_error(decode_as<std::vector<std::uint8_t>>(bytes_of({3, 1, 2, 3}), lim),
              wire_errc::count_overflow, {"exceeds the limit 2"});
}

TEST_CASE("depth_exceeded: nesting beyond max_depth", "[wire][errors]") {
  // tree{label, kids}: each level is a struct and a vector (two levels).
  tree t{"leaf", {}};
  for (int i = 0; i < 31; ++i) t = tree{"n", {t}};  // 32 trees: depth 63
  const auto ok_bytes = wire::encode(t);
  CHECK(decode_as<tree>(ok_bytes).ok());
  wire::limits lim;
  lim.max_depth = 10;
  check_error(decode_as<tree>(ok_bytes, lim), wire_errc::depth_exceeded,
              {"max_depth 10", "tree at .kids[0].kids[0]"});
  CHECK_THROWS_MATCHES(wire::encode(tree{"n", {t}}), wire::wire_error,
                       Catch::Matchers::Predicate<wire::wire_error>([](const wire::wire_error& e) {
                         return e.kind() == wire_errc::depth_exceeded;
                       }));
}

TEST_CASE("depth_exceeded: a payload nested a million levels deep", "[wire][errors]") {
  // Each level: an empty label (0) and one kid (1); the stack would overflow
  // long before a million levels without the limit.
  std::vector<std::byte> b;
  b.reserve(2'000'002);
  for (int i = 0; i < 1'000'000; ++i) {
    b.push_back(std::byte{0});
    b.push_back(std::byte{1});
  }
  b.push_back(std::byte{0});
  b.push_back(std::byte{0});
  check_error(decode_as<tree>(b), wire_errc::depth_exceeded, {"max_depth 64"});

  // The same through a variant: expr{variant<int64, vector<expr>>}.
  std::vector<std::byte> e;
  for (int i = 0; i < 1'000'000; ++i) {
    e.push_back(std::byte{1});  // alternative 1: vector<expr>
    e.push_back(std::byte{1});  // one element
  }
  check_error(decode_as<troupe::fuzz::expr>(e), wire_errc::depth_exceeded);
}

TEST_CASE("alloc_limit: memory beyond the budget for the input size", "[wire][errors]") {
  // Each empty optional is 1 byte on the wire and 1 KiB in memory.
  using big = std::optional<std::array<std::uint8_t, 1024>>;
  const std::vector<big> v(1000);
  const auto b = wire::encode(v);
  check_error(decode_as<std::vector<big>>(b), wire_errc::alloc_limit, {"allocating 1025000 bytes"});
  wire::limits roomy;
  roomy.alloc_ratio = 2048;
  CHECK(decode_as<std::vector<big>>(b, roomy).ok());
}

TEST_CASE("invalid_value: a bool or optional tag other than 0 or 1", "[wire][errors]") {
  check_error(decode_as<bool>(bytes_of({2})), wire_errc::invalid_value, {"bool byte 2"});
  check_error(decode_as<std::optional<int>>(bytes_of({7, 0, 0, 0, 0})), wire_errc::invalid_value,
              {"optional tag 7"});
  check_error(decode_as<std::vector<bool>>(bytes_of({2, 1, 9})), wire_errc::invalid_value,
              {"at [1]"});
}

TEST_CASE("bad_enum: a value outside the declared range", "[wire][errors]") {
  check_error(decode_as<color>(bytes_of({3})), wire_errc::bad_enum, {"color value 3"});
  check_error(decode_as<troupe::fuzz::plain>(bytes_of({5, 0, 0, 0})), wire_errc::bad_enum);
  CHECK(decode_as<color>(bytes_of({2})).ok());
  CHECK_THROWS_AS(wire::encode(static_cast<color>(9)), wire::wire_error);
}

TEST_CASE("bad_variant_index: an index beyond the alternatives", "[wire][errors]") {
  using V = std::variant<int, std::string>;
  check_error(decode_as<V>(bytes_of({2, 0})), wire_errc::bad_variant_index,
              {"index 2 of a variant with 2 alternatives"});
}

TEST_CASE("duplicate_key: a key repeated in a map or set", "[wire][errors]") {
  check_error(decode_as<std::map<std::uint8_t, bool>>(bytes_of({2, 4, 1, 4, 0})),
              wire_errc::duplicate_key, {"at [1]"});
  check_error(decode_as<std::unordered_map<std::uint8_t, bool>>(bytes_of({2, 4, 1, 4, 0})),
              wire_errc::duplicate_key);
  check_error(decode_as<std::set<std::uint8_t>>(bytes_of({2, 4, 4})), wire_errc::duplicate_key);
  check_error(decode_as<std::unordered_set<std::uint8_t>>(bytes_of({2, 4, 4})),
              wire_errc::duplicate_key);
}

TEST_CASE("trailing_bytes: bytes left after the value", "[wire][errors]") {
  check_error(decode_as<std::uint8_t>(bytes_of({1, 2})), wire_errc::trailing_bytes,
              {"1 bytes left after the value"});
}

TEST_CASE("error messages name the path to the failing field", "[wire][errors]") {
  troupe::fuzz::containers c;
  c.vs = {"a", "bbbb"};
  auto b = wire::encode(c);
  // Cut the input inside vs[1]: s (1 byte), vi (1), vs count (1), "a" (2), len 4 + 2 bytes.
  b.resize(1 + 1 + 1 + 2 + 1 + 2);
  check_error(decode_as<troupe::fuzz::containers>(b), wire_errc::length_overflow,
              {"decode troupe::fuzz::containers at .vs[1]", "length 4 with 2 bytes left"});

  troupe::fuzz::sums u;
  u.pm = {{{1, 2}, color::red}};
  auto bu = wire::encode(u);
  bu.back() = std::byte{7};  // the color of the last map entry
  check_error(decode_as<troupe::fuzz::sums>(bu), wire_errc::bad_enum, {"at .pm[0].value.value"});
}

TEST_CASE("a failed decode never throws and leaves a valid object", "[wire][errors]") {
  troupe::fuzz::containers c;
  const auto s = wire::decode(bytes_of({3, 'a', 'b', 'c', 9}), c);
  CHECK_FALSE(s.ok());
  c.vs.push_back("still usable");
  CHECK(c.s == "abc");
}

TEST_CASE("the encoder refuses what the decoder would refuse", "[wire][errors]") {
  wire::limits lim;
  lim.max_string = 4;
  lim.max_elements = 2;
  auto kind_of = [](auto&& fn) {
    try {
      fn();
    } catch (const wire::wire_error& e) {
      return e.kind();
    }
    return wire_errc{};
  };
  CHECK(kind_of([&] { (void)wire::encode(std::string("12345"), lim); }) ==
        wire_errc::length_overflow);
  CHECK(kind_of([&] {
          (void)wire::encode(std::vector<int>{1, 2, 3}, lim);
        }) == wire_errc::count_overflow);
  CHECK(kind_of([&] {
          (void)wire::encode(std::map<int, int>{{1, 1}, {2, 2}, {3, 3}}, lim);
        }) == wire_errc::count_overflow);

  struct thrower {
    thrower() = default;
    thrower(const thrower&) { throw 1; }
    thrower& operator=(const thrower&) = default;
    TROUPE_FIELDS();
  };
  std::variant<int, thrower> v;
  try {
    v.emplace<1>(thrower{});
  } catch (int) {
  }
  REQUIRE(v.valueless_by_exception());
  CHECK(kind_of([&] { (void)wire::encode(v); }) == wire_errc::invalid_value);
}

TEST_CASE("wire errors are error codes in the troupe.wire category", "[wire][errors]") {
  const std::error_code ec = wire_errc::truncated;
  CHECK(ec.category().name() == std::string("troupe.wire"));
  CHECK(wire::to_string(wire_errc::count_overflow) == "count_overflow");
  const wire::status s(wire_errc::trailing_bytes, "decode x");
  CHECK(s.message() == "decode x: trailing bytes after the value");
  try {
    s.throw_if_error();
    FAIL("no throw");
  } catch (const troupe::wire::wire_error& e) {
    CHECK(std::string(e.what()) == s.message());
    CHECK(e.kind() == wire_errc::trailing_bytes);
  }
  CHECK(wire::status().message() == "ok");
  wire::status().throw_if_error();
}
