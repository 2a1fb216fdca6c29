#pragma once
// Random values of the fuzz types (fuzz_types.hpp), for the corpus generator
// and the randomized decode test. Deterministic for a given seed.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "fuzz_types.hpp"

namespace troupe::fuzz {

class sampler {
 public:
  explicit sampler(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t bits() { return rng_(); }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }
  template <class T>
  T any() {
    return static_cast<T>(rng_());
  }

  std::string text(std::size_t max) {
    std::string s(below(max + 1), '\0');
    for (char& c : s) c = static_cast<char>('a' + below(26));
    return s;
  }

  point pt() { return {any<std::int32_t>(), any<std::int32_t>()}; }

  scalars make_scalars() {
    scalars s;
    s.b = (bits() & 1) != 0;
    s.i8 = any<std::int8_t>();
    s.u8 = any<std::uint8_t>();
    s.i16 = any<std::int16_t>();
    s.u16 = any<std::uint16_t>();
    s.i32 = any<std::int32_t>();
    s.u32 = any<std::uint32_t>();
    s.i64 = any<std::int64_t>();
    s.u64 = any<std::uint64_t>();
    s.c = any<char>();
    s.c16 = any<char16_t>();
    s.c32 = any<char32_t>();
    s.wc = any<wchar_t>();
    s.l = any<long>();
    s.ull = any<unsigned long long>();
    s.f = static_cast<float>(below(1000)) / 8.0f;
    s.d = static_cast<double>(any<std::int32_t>()) / 3.0;
    s.col = static_cast<color>(below(3));
    s.pl = static_cast<plain>(below(3));
    s.by = std::byte(any<unsigned char>());
    return s;
  }

  containers make_containers() {
    containers c;
    c.s = text(20);
    for (std::size_t i = below(6); i > 0; --i) c.vi.push_back(any<std::int32_t>());
    for (std::size_t i = below(4); i > 0; --i) c.vs.push_back(text(5));
    for (std::size_t i = below(10); i > 0; --i) c.vb.push_back((bits() & 1) != 0);
    for (std::size_t i = below(8); i > 0; --i) c.bytes.push_back(std::byte(any<unsigned char>()));
    for (std::size_t i = below(3); i > 0; --i) c.vd.push_back(static_cast<double>(below(100)));
    for (std::size_t i = below(3); i > 0; --i) c.vp.push_back(pt());
    c.arr = {any<std::uint16_t>(), any<std::uint16_t>(), any<std::uint16_t>()};
    c.sarr = {text(3), text(3)};
    for (std::size_t i = below(4); i > 0; --i) c.m[text(4)] = any<std::int64_t>();
    for (std::size_t i = below(5); i > 0; --i) c.set.insert(any<std::int32_t>());
    for (std::size_t i = below(3); i > 0; --i) {
      std::vector<std::string> inner;
      for (std::size_t j = below(3); j > 0; --j) inner.push_back(text(3));
      c.nested.push_back(inner);
    }
    return c;
  }

  sums make_sums() {
    sums u;
    if (bits() & 1) u.os = text(6);
    if (bits() & 1) u.op = pt();
    switch (below(4)) {
      case 0:
        u.v = std::monostate{};
        break;
      case 1:
        u.v = any<std::int32_t>();
        break;
      case 2:
        u.v = text(5);
        break;
      default:
        u.v = pt();
        break;
    }
    u.p = {any<std::int16_t>(), text(4)};
    std::vector<point> pts;
    for (std::size_t i = below(3); i > 0; --i) pts.push_back(pt());
    u.t = {any<std::uint8_t>(), static_cast<double>(below(50)), pts};
    u.ms = std::chrono::milliseconds(any<std::int32_t>());
    for (std::size_t i = below(3); i > 0; --i) {
      u.pm[pt()] = (bits() & 1) ? std::optional<color>(static_cast<color>(below(3))) : std::nullopt;
    }
    return u;
  }

  tree make_tree(int depth) {
    tree t;
    t.label = text(4);
    if (depth > 0) {
      for (std::size_t i = below(3); i > 0; --i) t.kids.push_back(make_tree(depth - 1));
    }
    return t;
  }

  expr make_expr(int depth) {
    if (depth == 0 || (bits() & 1)) return expr{any<std::int64_t>()};
    std::vector<expr> v;
    for (std::size_t i = below(3); i > 0; --i) v.push_back(make_expr(depth - 1));
    return expr{std::move(v)};
  }

  hashed make_hashed() {
    hashed h;
    for (std::size_t i = below(4); i > 0; --i) {
      std::vector<std::int32_t> v;
      for (std::size_t j = below(3); j > 0; --j) v.push_back(any<std::int32_t>());
      h.um[text(4)] = v;
    }
    for (std::size_t i = below(4); i > 0; --i) h.us.insert(bits());
    return h;
  }

  /// The encoded message `[u64 id][body]` of a random value of fuzz type
  /// number `kind` (0..5), registered in `reg`.
  std::vector<std::byte> message(std::size_t kind, const wire::registry& reg) {
    switch (kind % 6) {
      case 0:
        return wire::encode_message(make_scalars(), {}, reg);
      case 1:
        return wire::encode_message(make_containers(), {}, reg);
      case 2:
        return wire::encode_message(make_sums(), {}, reg);
      case 3:
        return wire::encode_message(make_tree(4), {}, reg);
      case 4:
        return wire::encode_message(make_expr(5), {}, reg);
      default:
        return wire::encode_message(make_hashed(), {}, reg);
    }
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace troupe::fuzz
