// Round trips of every built-in codec, the byte format of the scalars, and
// the compile-time properties (min_size, has_codec).

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <troupe/wire/codec.hpp>

#include "fuzz/fuzz_types.hpp"
#include "wire_test_util.hpp"

namespace wire = troupe::wire;
using troupe::fuzz::color;
using troupe::fuzz::point;
using troupe::test::bytes_of;

namespace {

template <class T>
T round_trip(const T& v) {
  const std::vector<std::byte> b = wire::encode(v);
  T out{};
  const wire::status s = wire::decode(b, out);
  INFO(s.message());
  REQUIRE(s.ok());
  return out;
}

template <class T>
void check_round_trip(const T& v) {
  CHECK(round_trip(v) == v);
}

}  // namespace

TEST_CASE("integers are fixed-width little-endian", "[wire][codec]") {
  CHECK(wire::encode(std::uint32_t{0x01020304}) == bytes_of({0x04, 0x03, 0x02, 0x01}));
  CHECK(wire::encode(std::int16_t{-2}) == bytes_of({0xFE, 0xFF}));
  CHECK(wire::encode(std::uint8_t{7}) == bytes_of({7}));
  CHECK(wire::encode(std::int64_t{-1}).size() == 8);
  CHECK(wire::encode('A') == bytes_of({0x41}));
  CHECK(wire::encode(true) == bytes_of({1}));
  CHECK(wire::encode(false) == bytes_of({0}));
}

TEST_CASE("every integer type round-trips its extremes", "[wire][codec]") {
  auto extremes = [](auto zero) {
    using T = decltype(zero);
    check_round_trip(std::numeric_limits<T>::min());
    check_round_trip(std::numeric_limits<T>::max());
    check_round_trip(T{});
  };
  extremes(char{});
  extremes(static_cast<signed char>(0));
  extremes(static_cast<unsigned char>(0));
  extremes(char8_t{});
  extremes(char16_t{});
  extremes(char32_t{});
  extremes(wchar_t{});
  extremes(short{});
  extremes(static_cast<unsigned short>(0));
  extremes(0);
  extremes(0U);
  extremes(0L);
  extremes(0UL);
  extremes(0LL);
  extremes(0ULL);
  check_round_trip(true);
  check_round_trip(false);
}

TEST_CASE("floats keep their exact bits", "[wire][codec]") {
  check_round_trip(1.5f);
  check_round_trip(-0.0);
  check_round_trip(std::numeric_limits<double>::infinity());
  check_round_trip(std::numeric_limits<double>::denorm_min());
  CHECK(wire::encode(1.0) == bytes_of({0, 0, 0, 0, 0, 0, 0xF0, 0x3F}));
  CHECK(std::signbit(round_trip(-0.0)));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(wire::encode(round_trip(nan)) == wire::encode(nan));
}

TEST_CASE("enums round-trip as their underlying integer", "[wire][codec]") {
  check_round_trip(color::blue);
  CHECK(wire::encode(color::green) == bytes_of({1}));
  check_round_trip(troupe::fuzz::plain_c);
  check_round_trip(std::byte{0xAB});
  enum class wide : std::int64_t { lo = -5, hi = 1LL << 40 };
  check_round_trip(wide::hi);
  check_round_trip(wide::lo);
  check_round_trip(static_cast<wide>(17));  // a fixed-type enum without range takes any value
}

TEST_CASE("strings are a varint length and the bytes", "[wire][codec]") {
  CHECK(wire::encode(std::string("hi")) == bytes_of({2, 'h', 'i'}));
  CHECK(wire::encode(std::string()) == bytes_of({0}));
  check_round_trip(std::string(300, 'x'));
  std::string binary(256, '\0');
  for (int i = 0; i < 256; ++i) binary[static_cast<std::size_t>(i)] = static_cast<char>(i);
  check_round_trip(binary);
  // 300 = 0xAC 0x02 as LEB128.
  const auto b = wire::encode(std::string(300, 'x'));
  CHECK(b[0] == std::byte{0xAC});
  CHECK(b[1] == std::byte{0x02});
  CHECK(b.size() == 302);
}

TEST_CASE("varints use the fewest bytes, up to 10", "[wire][codec]") {
  struct sample {
    std::uint64_t v;
    std::size_t bytes;
  };
  for (const sample s :
       {sample{0, 1}, sample{127, 1}, sample{128, 2}, sample{16383, 2}, sample{16384, 3},
        sample{(1ULL << 63) - 1, 9}, sample{std::numeric_limits<std::uint64_t>::max(), 10}}) {
    std::vector<std::byte> out;
    wire::writer w(out);
    w.varint(s.v);
    CHECK(out.size() == s.bytes);
    wire::reader r(out);
    CHECK(r.varint() == s.v);
    CHECK(r.complete());
  }
}

TEST_CASE("vectors of every kind round-trip", "[wire][codec]") {
  check_round_trip(std::vector<int>{});
  check_round_trip(std::vector<int>{1, -2, 3});
  check_round_trip(std::vector<std::uint8_t>{0, 255});
  check_round_trip(std::vector<double>{0.5, -1e300});
  check_round_trip(std::vector<float>{0.25f});
  check_round_trip(std::vector<bool>{true, false, true, true});
  check_round_trip(std::vector<std::byte>{std::byte{1}, std::byte{0xFF}});
  check_round_trip(std::vector<std::string>{"a", "", "ccc"});
  check_round_trip(std::vector<std::vector<int>>{{}, {1}, {2, 3}});
  check_round_trip(std::vector<point>{{1, 2}, {-3, 4}});
  check_round_trip(std::vector<color>{color::red, color::blue});
  CHECK(wire::encode(std::vector<std::uint16_t>{1, 2}) == bytes_of({2, 1, 0, 2, 0}));
}

TEST_CASE("arrays have no count", "[wire][codec]") {
  check_round_trip(std::array<int, 3>{1, 2, 3});
  check_round_trip(std::array<std::string, 2>{"x", "yz"});
  check_round_trip(std::array<int, 0>{});
  check_round_trip(std::array<bool, 2>{true, false});
  CHECK(wire::encode(std::array<std::uint8_t, 2>{9, 8}) == bytes_of({9, 8}));
  STATIC_REQUIRE(wire::min_size_of<std::array<std::uint32_t, 5>>() == 20);
}

TEST_CASE("maps and sets round-trip", "[wire][codec]") {
  check_round_trip(std::map<std::string, int>{{"a", 1}, {"b", 2}});
  check_round_trip(std::map<int, std::vector<std::string>>{{1, {"x"}}, {2, {}}});
  check_round_trip(std::unordered_map<std::string, double>{{"pi", 3.14}, {"e", 2.71}});
  check_round_trip(std::set<int>{3, 1, 2});
  check_round_trip(std::unordered_set<std::string>{"p", "q"});
  check_round_trip(std::map<point, color>{{{1, 2}, color::green}});
  CHECK(wire::encode(std::map<std::uint8_t, bool>{{5, true}}) == bytes_of({1, 5, 1}));
}

TEST_CASE("a map accepts its keys in any order", "[wire][codec]") {
  const auto b = bytes_of({2, 9, 1, 3, 0});  // {9: true, 3: false}
  std::map<std::uint8_t, bool> m;
  REQUIRE(wire::decode(b, m).ok());
  CHECK(m == std::map<std::uint8_t, bool>{{3, false}, {9, true}});
}

TEST_CASE("optionals are a tag byte and the value", "[wire][codec]") {
  check_round_trip(std::optional<int>{});
  check_round_trip(std::optional<int>{42});
  check_round_trip(std::optional<std::string>{"x"});
  check_round_trip(std::optional<std::optional<int>>{std::optional<int>{}});
  CHECK(wire::encode(std::optional<std::uint8_t>{}) == bytes_of({0}));
  CHECK(wire::encode(std::optional<std::uint8_t>{7}) == bytes_of({1, 7}));
}

TEST_CASE("variants are a varint index and the alternative", "[wire][codec]") {
  using V = std::variant<std::monostate, int, std::string, point>;
  check_round_trip(V{});
  check_round_trip(V{5});
  check_round_trip(V{std::string("s")});
  check_round_trip(V{point{7, 8}});
  CHECK(wire::encode(V{std::string("s")}) == bytes_of({2, 1, 's'}));
  // Two alternatives of one type keep their index.
  using Dup = std::variant<int, int>;
  const Dup d(std::in_place_index<1>, 9);
  CHECK(round_trip(d).index() == 1);
}

TEST_CASE("pairs, tuples and durations round-trip", "[wire][codec]") {
  check_round_trip(std::pair<int, std::string>{1, "one"});
  check_round_trip(std::tuple<>{});
  check_round_trip(std::tuple<std::uint8_t, double, std::vector<int>>{1, 2.5, {3}});
  check_round_trip(std::chrono::milliseconds(1234));
  check_round_trip(std::chrono::duration<double>(0.5));
  CHECK(wire::encode(std::pair<std::uint8_t, std::uint8_t>{1, 2}) == bytes_of({1, 2}));
}

TEST_CASE("structs with TROUPE_FIELDS are their fields in order", "[wire][codec]") {
  CHECK(wire::encode(point{1, -1}) == bytes_of({1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}));
  STATIC_REQUIRE(wire::min_size_of<point>() == 8);

  troupe::fuzz::scalars s;
  s.b = true;
  s.i8 = -8;
  s.u8 = 200;
  s.i16 = -1600;
  s.u16 = 60000;
  s.i32 = -320000;
  s.u32 = 4000000000U;
  s.i64 = -(1LL << 60);
  s.u64 = ~0ULL;
  s.c = 'z';
  s.c16 = u'\u00e9';
  s.c32 = U'\U0001F600';
  s.wc = L'w';
  s.l = -77;
  s.ull = 99;
  s.f = 1.25f;
  s.d = -2.5;
  s.col = color::blue;
  s.pl = troupe::fuzz::plain_b;
  s.by = std::byte{0x5A};
  check_round_trip(s);

  troupe::fuzz::containers c;
  c.s = "hello";
  c.vi = {1, 2, 3};
  c.vs = {"a", "bb"};
  c.vb = {true, false};
  c.bytes = {std::byte{1}};
  c.vd = {1.5};
  c.vp = {{1, 2}};
  c.arr = {1, 2, 3};
  c.sarr = {"x", "y"};
  c.m = {{"k", 1}};
  c.set = {5, 6};
  c.nested = {{"n"}, {}};
  check_round_trip(c);

  troupe::fuzz::sums u;
  u.os = "opt";
  u.op = point{3, 4};
  u.v = std::string("alt");
  u.p = {5, "five"};
  u.t = {1, 0.5, {{1, 1}}};
  u.ms = std::chrono::milliseconds(10);
  u.pm = {{{0, 0}, std::nullopt}, {{1, 0}, color::green}};
  check_round_trip(u);

  troupe::fuzz::tree t{"root", {{"a", {}}, {"b", {{"c", {}}}}}};
  check_round_trip(t);

  troupe::fuzz::expr e{
      std::vector<troupe::fuzz::expr>{{1}, {std::vector<troupe::fuzz::expr>{{2}}}}};
  check_round_trip(e);

  troupe::fuzz::hashed h;
  h.um = {{"a", {1}}, {"b", {}}};
  h.us = {1, 2, 3};
  check_round_trip(h);
}

TEST_CASE("an empty struct encodes to nothing", "[wire][codec]") {
  struct empty {
    TROUPE_FIELDS();
  };
  CHECK(wire::encode(empty{}).empty());
  STATIC_REQUIRE(wire::min_size_of<empty>() == 0);
  empty e;
  CHECK(wire::decode(std::span<const std::byte>(), e).ok());
}

TEST_CASE("decoding overwrites what the target held", "[wire][codec]") {
  std::vector<int> v{9, 9, 9};
  REQUIRE(wire::decode(wire::encode(std::vector<int>{1}), v).ok());
  CHECK(v == std::vector<int>{1});
  std::optional<int> o = 5;
  REQUIRE(wire::decode(wire::encode(std::optional<int>{}), o).ok());
  CHECK(!o);
  std::map<int, int> m{{1, 1}};
  REQUIRE(wire::decode(wire::encode(std::map<int, int>{{2, 2}}), m).ok());
  CHECK(m == std::map<int, int>{{2, 2}});
}

TEST_CASE("the throwing decode returns the value", "[wire][codec]") {
  CHECK(wire::decode<point>(wire::encode(point{4, 5})) == point{4, 5});
  CHECK_THROWS_AS(wire::decode<point>(bytes_of({1, 2})), wire::wire_error);
}

TEST_CASE("has_codec tells which types have a codec", "[wire][codec]") {
  struct no_fields {
    int x;
  };
  STATIC_REQUIRE(wire::has_codec<int>);
  STATIC_REQUIRE(wire::has_codec<point>);
  STATIC_REQUIRE(wire::has_codec<std::vector<std::map<int, std::string>>>);
  STATIC_REQUIRE_FALSE(wire::has_codec<no_fields>);
  STATIC_REQUIRE_FALSE(wire::has_codec<long double>);
  STATIC_REQUIRE_FALSE(wire::has_codec<int*>);
}

TEST_CASE("field names come from TROUPE_FIELDS", "[wire][codec]") {
  using wire::detail::nth_field_name;
  CHECK(nth_field_name("a, b,c", 0) == "a");
  CHECK(nth_field_name("a, b,c", 1) == "b");
  CHECK(nth_field_name("a, b,c", 2) == "c");
  CHECK(nth_field_name("a, b,c", 3).empty());
  CHECK(nth_field_name("f<1, 2>, g", 1) == "g");
  CHECK(nth_field_name("", 0).empty());
}
