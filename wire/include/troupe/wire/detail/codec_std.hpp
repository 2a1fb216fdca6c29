#pragma once
// Codecs for standard library types. Included by troupe/wire/codec.hpp; the
// byte format of each is in docs/nodes.md.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "troupe/wire/codec.hpp"

namespace troupe::wire {
namespace detail {

/// Element types copied as one block of little-endian values.
template <class T>
inline constexpr bool is_bulk = (std::integral<T> && !std::same_as<T, bool>) ||
                                std::same_as<T, float> || std::same_as<T, double>;

/// Elements of a counted container must take at least one byte each, or the
/// count could not be bounded by the input size.
template <class T>
constexpr void require_element() {
  require_codec<T>();
  if constexpr (has_codec<T>) {
    static_assert(min_size_of<T>() > 0,
                  "troupe::wire: containers of a type T whose encoding can be empty (an empty "
                  "struct, std::monostate, std::tuple<>) are not supported: their element "
                  "count could not be bounded by the input size (T is named above)");
  }
}

/// Bytes charged per node of a node-based container, beyond the value: tree
/// or list links, a cached hash, the allocator's header, bucket pointers.
inline constexpr std::size_t node_overhead = 48;

inline std::string index_segment(std::size_t i, const char* suffix) {
  return cat("[", i, "]", suffix);
}

}  // namespace detail

/// std::monostate: nothing.
template <>
struct codec<std::monostate> {
  static constexpr std::size_t min_size = 0;
  static void encode(writer&, const std::monostate&) {}
  static void decode(reader&, std::monostate&) {}
};

/// std::string: varint length, then the bytes.
template <class Traits, class Alloc>
struct codec<std::basic_string<char, Traits, Alloc>> {
  using S = std::basic_string<char, Traits, Alloc>;
  static constexpr std::size_t min_size = 1;
  static void encode(writer& w, const S& v) {
    w.length(v.size());
    w.bytes(std::as_bytes(std::span<const char>(v.data(), v.size())));
  }
  static void decode(reader& r, S& v) {
    const std::size_t n = r.length(r.bounds().max_string);
    // n + 16 covers what the string allocates: n + 1 bytes, or twice its
    // 15-byte inline capacity plus one when that is more.
    if (!r.ok() || !r.charge(n + 16)) return;
    const std::span<const std::byte> b = r.take(n);
    v.assign(reinterpret_cast<const char*>(b.data()), b.size());
  }
};

/// std::vector<T>: varint count, then the elements.
template <class T, class Alloc>
struct codec<std::vector<T, Alloc>> {
  using V = std::vector<T, Alloc>;
  static constexpr std::size_t min_size = 1;

  static void encode(writer& w, const V& v) {
    writer::depth_guard g(w);
    w.count(v.size());
    if constexpr (detail::is_bulk<T>) {
      w.fixed_array(std::span<const T>(v.data(), v.size()));
    } else if constexpr (std::same_as<T, std::byte>) {
      w.bytes(std::span<const std::byte>(v.data(), v.size()));
    } else {
      for (const auto& e : v) write_value(w, static_cast<const T&>(e));
    }
  }

  static void decode(reader& r, V& v) {
    detail::require_element<T>();
    reader::depth_guard g(r);
    if (!g) return;
    const std::size_t n = r.count(min_size_of<T>(), r.bounds().max_elements);
    v.clear();
    if (!r.ok()) return;
    if constexpr (std::same_as<T, bool>) {
      if (!r.charge(n / 8 + sizeof(std::size_t))) return;
      v.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        bool b = false;
        read_value(r, b);
        if (!r.ok()) {
          r.note_index(i);
          return;
        }
        v.push_back(b);
      }
    } else {
      if (!r.charge(n, sizeof(T))) return;
      if constexpr (detail::is_bulk<T>) {
        v.resize(n);
        r.fixed_array(std::span<T>(v.data(), v.size()));
      } else if constexpr (std::same_as<T, std::byte>) {
        const std::span<const std::byte> b = r.take(n);
        v.assign(b.begin(), b.end());
      } else {
        v.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          read_value(r, v.emplace_back());
          if (!r.ok()) {
            r.note_index(i);
            return;
          }
        }
      }
    }
  }
};

/// std::array<T, N>: the N elements (no count).
template <class T, std::size_t N>
struct codec<std::array<T, N>> {
  static constexpr std::size_t min_size = N * min_size_of<T>();

  static void encode(writer& w, const std::array<T, N>& v) {
    writer::depth_guard g(w);
    if constexpr (detail::is_bulk<T>) {
      w.fixed_array(std::span<const T>(v));
    } else {
      for (const T& e : v) write_value(w, e);
    }
  }

  static void decode(reader& r, std::array<T, N>& v) {
    reader::depth_guard g(r);
    if (!g) return;
    if constexpr (detail::is_bulk<T>) {
      r.fixed_array(std::span<T>(v));
    } else {
      for (std::size_t i = 0; i < N; ++i) {
        read_value(r, v[i]);
        if (!r.ok()) {
          r.note_index(i);
          return;
        }
      }
    }
  }
};

namespace detail {

/// std::map / std::unordered_map: varint count, then key, value, key, value...
/// A repeated key is duplicate_key.
template <class M, bool Unordered>
struct map_codec {
  using K = typename M::key_type;
  using V = typename M::mapped_type;
  static constexpr std::size_t min_size = 1;

  static void encode(writer& w, const M& m) {
    writer::depth_guard g(w);
    w.count(m.size());
    for (const auto& [k, v] : m) {
      write_value(w, k);
      write_value(w, v);
    }
  }

  static void decode(reader& r, M& m) {
    require_codec<K>();
    require_codec<V>();
    reader::depth_guard g(r);
    if (!g) return;
    constexpr std::size_t per = min_size_of<K>() + min_size_of<V>();
    static_assert(per > 0, "troupe::wire: map entries must encode to at least one byte");
    const std::size_t n = r.count(per, r.bounds().max_elements);
    m.clear();
    if (!r.ok() || !r.charge(n, sizeof(typename M::value_type) + node_overhead)) return;
    if constexpr (Unordered) m.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      K k{};
      V v{};
      read_value(r, k);
      if (!r.ok()) {
        r.note(index_segment(i, ".key"));
        return;
      }
      read_value(r, v);
      if (!r.ok()) {
        r.note(index_segment(i, ".value"));
        return;
      }
      const std::size_t before = m.size();
      if constexpr (Unordered) {
        m.emplace(std::move(k), std::move(v));
      } else {
        m.emplace_hint(m.end(), std::move(k), std::move(v));
      }
      if (m.size() == before) {
        r.fail(wire_errc::duplicate_key, cat("entry ", i, " repeats a key"));
        r.note_index(i);
        return;
      }
    }
  }
};

/// std::set / std::unordered_set: varint count, then the keys. A repeated key
/// is duplicate_key.
template <class S, bool Unordered>
struct set_codec {
  using K = typename S::key_type;
  static constexpr std::size_t min_size = 1;

  static void encode(writer& w, const S& s) {
    writer::depth_guard g(w);
    w.count(s.size());
    for (const K& k : s) write_value(w, k);
  }

  static void decode(reader& r, S& s) {
    require_element<K>();
    reader::depth_guard g(r);
    if (!g) return;
    const std::size_t n = r.count(min_size_of<K>(), r.bounds().max_elements);
    s.clear();
    if (!r.ok() || !r.charge(n, sizeof(K) + node_overhead)) return;
    if constexpr (Unordered) s.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      K k{};
      read_value(r, k);
      if (!r.ok()) {
        r.note_index(i);
        return;
      }
      const std::size_t before = s.size();
      if constexpr (Unordered) {
        s.insert(std::move(k));
      } else {
        s.insert(s.end(), std::move(k));
      }
      if (s.size() == before) {
        r.fail(wire_errc::duplicate_key, cat("element ", i, " repeats a key"));
        r.note_index(i);
        return;
      }
    }
  }
};

}  // namespace detail

template <class K, class V, class C, class A>
struct codec<std::map<K, V, C, A>> : detail::map_codec<std::map<K, V, C, A>, false> {};
template <class K, class V, class H, class E, class A>
struct codec<std::unordered_map<K, V, H, E, A>>
    : detail::map_codec<std::unordered_map<K, V, H, E, A>, true> {};
template <class K, class C, class A>
struct codec<std::set<K, C, A>> : detail::set_codec<std::set<K, C, A>, false> {};
template <class K, class H, class E, class A>
struct codec<std::unordered_set<K, H, E, A>>
    : detail::set_codec<std::unordered_set<K, H, E, A>, true> {};

/// std::optional<T>: byte 0 (empty) or 1 followed by the value; any other
/// tag is invalid_value.
template <class T>
struct codec<std::optional<T>> {
  static constexpr std::size_t min_size = 1;

  static void encode(writer& w, const std::optional<T>& v) {
    writer::depth_guard g(w);
    if (!v) {
      w.byte(0);
      return;
    }
    w.byte(1);
    write_value(w, *v);
  }

  static void decode(reader& r, std::optional<T>& v) {
    reader::depth_guard g(r);
    if (!g) return;
    const std::uint8_t tag = r.byte();
    if (!r.ok()) return;
    if (tag == 0) {
      v.reset();
    } else if (tag == 1) {
      read_value(r, v.emplace());
      if (!r.ok()) r.note(".value");
    } else {
      r.fail(wire_errc::invalid_value,
             detail::cat("optional tag ", tag, " is not 0 (empty) or 1 (value)"));
    }
  }
};

/// std::variant<Ts...>: varint index, then that alternative. An index not
/// below sizeof...(Ts) is bad_variant_index; encoding a valueless variant
/// throws invalid_value.
template <class... Ts>
struct codec<std::variant<Ts...>> {
  using V = std::variant<Ts...>;
  static constexpr std::size_t min_size = 1;

  static void encode(writer& w, const V& v) {
    if (v.valueless_by_exception()) {
      throw wire_error(
          wire_errc::invalid_value,
          detail::cat("encode ", troupe::wire::detail::type_name<V>(), ": valueless by exception"));
    }
    writer::depth_guard g(w);
    w.varint(v.index());
    std::visit([&w](const auto& alt) { write_value(w, alt); }, v);
  }

  static void decode(reader& r, V& v) {
    reader::depth_guard g(r);
    if (!g) return;
    const std::uint64_t index = r.varint();
    if (!r.ok()) return;
    if (index >= sizeof...(Ts)) {
      r.fail(wire_errc::bad_variant_index,
             detail::cat("index ", index, " of a variant with ", sizeof...(Ts), " alternatives"));
      return;
    }
    decode_alternative(r, v, static_cast<std::size_t>(index), std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t I>
  static void decode_one(reader& r, V& v) {
    read_value(r, v.template emplace<I>());
    if (!r.ok()) r.note(detail::cat(".alt<", I, ">"));
  }
  template <std::size_t... I>
  static void decode_alternative(reader& r, V& v, std::size_t index, std::index_sequence<I...>) {
    using fn = void (*)(reader&, V&);
    static constexpr fn table[] = {&decode_one<I>...};
    table[index](r, v);
  }
};

/// std::pair<A, B>: first, then second.
template <class A, class B>
struct codec<std::pair<A, B>> {
  static constexpr std::size_t min_size = min_size_of<A>() + min_size_of<B>();

  static void encode(writer& w, const std::pair<A, B>& v) {
    writer::depth_guard g(w);
    write_value(w, v.first);
    write_value(w, v.second);
  }

  static void decode(reader& r, std::pair<A, B>& v) {
    reader::depth_guard g(r);
    if (!g) return;
    read_value(r, v.first);
    if (!r.ok()) {
      r.note(".first");
      return;
    }
    read_value(r, v.second);
    if (!r.ok()) r.note(".second");
  }
};

/// std::tuple<Ts...>: the elements in order.
template <class... Ts>
struct codec<std::tuple<Ts...>> {
  static constexpr std::size_t min_size = (std::size_t{0} + ... + min_size_of<Ts>());

  static void encode(writer& w, const std::tuple<Ts...>& v) {
    writer::depth_guard g(w);
    std::apply([&w](const auto&... e) { (write_value(w, e), ...); }, v);
  }

  static void decode(reader& r, std::tuple<Ts...>& v) {
    reader::depth_guard g(r);
    if (!g) return;
    decode_all(r, v, std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  static void decode_all(reader& r, std::tuple<Ts...>& v, std::index_sequence<I...>) {
    [[maybe_unused]] const bool all = (decode_one<I>(r, std::get<I>(v)) && ...);
  }
  template <std::size_t I, class E>
  static bool decode_one(reader& r, E& e) {
    read_value(r, e);
    if (r.ok()) return true;
    r.note(detail::cat(".get<", I, ">"));
    return false;
  }
};

/// std::chrono::duration<Rep, Period>: count() as a Rep.
template <class Rep, class Period>
struct codec<std::chrono::duration<Rep, Period>> {
  using D = std::chrono::duration<Rep, Period>;
  static constexpr std::size_t min_size = min_size_of<Rep>();
  static void encode(writer& w, const D& v) { write_value(w, v.count()); }
  static void decode(reader& r, D& v) {
    Rep c{};
    read_value(r, c);
    v = D(c);
  }
};

}  // namespace troupe::wire
