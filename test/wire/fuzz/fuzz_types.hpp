#pragma once
// Message types covering every built-in codec, shared by the fuzz targets,
// their corpus generator and the randomized decode test. They are registered
// in a registry passed in (not the global one), so a fuzz target is
// self-contained.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "troupe/wire.hpp"

namespace troupe::fuzz {

enum class color : std::uint8_t { red, green, blue };
TROUPE_ENUM_RANGE(color, color::red, color::blue);

// No fixed underlying type: only its declared range may be decoded.
enum plain { plain_a, plain_b, plain_c };
TROUPE_ENUM_RANGE(plain, plain_a, plain_c);

struct point {
  std::int32_t x = 0;
  std::int32_t y = 0;
  TROUPE_FIELDS(x, y);
  friend bool operator==(const point&, const point&) = default;
  friend auto operator<=>(const point&, const point&) = default;
};

struct scalars {
  bool b = false;
  std::int8_t i8 = 0;
  std::uint8_t u8 = 0;
  std::int16_t i16 = 0;
  std::uint16_t u16 = 0;
  std::int32_t i32 = 0;
  std::uint32_t u32 = 0;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  char c = 0;
  char16_t c16 = 0;
  char32_t c32 = 0;
  wchar_t wc = 0;
  long l = 0;
  unsigned long long ull = 0;
  float f = 0;
  double d = 0;
  color col = color::red;
  plain pl = plain_a;
  std::byte by{};
  TROUPE_FIELDS(b, i8, u8, i16, u16, i32, u32, i64, u64, c, c16, c32, wc, l, ull, f, d, col, pl,
                by);
  friend bool operator==(const scalars&, const scalars&) = default;
};

struct containers {
  std::string s;
  std::vector<std::int32_t> vi;
  std::vector<std::string> vs;
  std::vector<bool> vb;
  std::vector<std::byte> bytes;
  std::vector<double> vd;
  std::vector<point> vp;
  std::array<std::uint16_t, 3> arr{};
  std::array<std::string, 2> sarr{};
  std::map<std::string, std::int64_t> m;
  std::set<std::int32_t> set;
  std::vector<std::vector<std::string>> nested;
  TROUPE_FIELDS(s, vi, vs, vb, bytes, vd, vp, arr, sarr, m, set, nested);
  friend bool operator==(const containers&, const containers&) = default;
};

struct sums {
  std::optional<std::string> os;
  std::optional<point> op;
  std::variant<std::monostate, std::int32_t, std::string, point> v;
  std::pair<std::int16_t, std::string> p;
  std::tuple<std::uint8_t, double, std::vector<point>> t;
  std::chrono::milliseconds ms{0};
  std::map<point, std::optional<color>> pm;
  TROUPE_FIELDS(os, op, v, p, t, ms, pm);
  friend bool operator==(const sums&, const sums&) = default;
};

// Recursive through a vector.
struct tree {
  std::string label;
  std::vector<tree> kids;
  TROUPE_FIELDS(label, kids);
  friend bool operator==(const tree&, const tree&) = default;
};

// Recursive through a variant.
struct expr {
  std::variant<std::int64_t, std::vector<expr>> v;
  TROUPE_FIELDS(v);
  friend bool operator==(const expr&, const expr&) = default;
};

// Unordered containers: their encoding order is not canonical.
struct hashed {
  std::unordered_map<std::string, std::vector<std::int32_t>> um;
  std::unordered_set<std::uint64_t> us;
  TROUPE_FIELDS(um, us);
  friend bool operator==(const hashed&, const hashed&) = default;
};

inline constexpr std::string_view scalars_name = "fuzz.scalars";
inline constexpr std::string_view containers_name = "fuzz.containers";
inline constexpr std::string_view sums_name = "fuzz.sums";
inline constexpr std::string_view tree_name = "fuzz.tree";
inline constexpr std::string_view expr_name = "fuzz.expr";
inline constexpr std::string_view hashed_name = "fuzz.hashed";

/// Registers every type above in `reg`.
inline void register_fuzz_types(wire::registry& reg) {
  reg.add<scalars>(scalars_name);
  reg.add<containers>(containers_name);
  reg.add<sums>(sums_name);
  reg.add<tree>(tree_name);
  reg.add<expr>(expr_name);
  reg.add<hashed>(hashed_name);
}

/// A registry holding the fuzz types (built once).
inline const wire::registry& fuzz_registry() {
  static const wire::registry* reg = [] {
    auto* r = new wire::registry();
    register_fuzz_types(*r);
    return r;
  }();
  return *reg;
}

}  // namespace troupe::fuzz
