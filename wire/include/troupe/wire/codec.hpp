#pragma once
/// How values become bytes and back: `codec<T>`, `TROUPE_FIELDS`, and the
/// top-level `encode` / `decode`.
///
/// Limits first:
///   - No schema evolution: fields are written in declaration order with no
///     tags or names, so both ends need the same definition (the process
///     backend runs the same binary; a peer with another definition decodes
///     garbage or fails, but always safely).
///   - Fixed-width integers are written at their own size: `long` is 8 bytes
///     on the LP64 platforms troupe supports.
///   - Decoding needs default-constructible types (values are decoded in place).
///   - Containers of types whose encoding can be empty (empty structs,
///     std::monostate, std::tuple<>) do not compile: their count could not be
///     bounded by the input size.
///   - Bounds (depth, string and container sizes, allocation) come from
///     `limits` (limits.hpp); decoding reports failures as `status` values,
///     encoding throws `wire_error` (wire_error.hpp).
///
/// Declaring a type's fields (once, in the type):
/// @code
///   struct Order {
///     std::string customer;
///     std::vector<Item> items;
///     std::optional<double> discount;
///     TROUPE_FIELDS(customer, items, discount);
///   };
///   std::vector<std::byte> bytes = troupe::wire::encode(order);
///   Order copy;
///   troupe::wire::status s = troupe::wire::decode(bytes, copy);  // s.ok()
/// @endcode
///
/// Built-in codecs (the format of each is in docs/nodes.md): bool, every
/// integer and character type, enums, float, double, std::byte, std::string,
/// std::vector, std::array, std::map, std::unordered_map, std::set,
/// std::unordered_set, std::optional, std::variant, std::monostate, std::pair,
/// std::tuple, std::chrono::duration, and structs with TROUPE_FIELDS.
///
/// Your own codec: specialize `troupe::wire::codec<T>` with
///   `static constexpr std::size_t min_size` (fewest bytes any T encodes to),
///   `static void encode(writer&, const T&)` and
///   `static void decode(reader&, T&)` (on bad input: `r.fail(...)`, return),
/// calling write_value / read_value for the parts.

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "troupe/wire/detail/type_name.hpp"
#include "troupe/wire/error.hpp"
#include "troupe/wire/limits.hpp"
#include "troupe/wire/reader.hpp"
#include "troupe/wire/writer.hpp"

/// Declares the fields that cross the wire, in wire order, inside the type:
/// `TROUPE_FIELDS(a, b, c);`. Members named here must have codecs. Expands to
/// `troupe_fields()` (const and non-const, returning a std::tie of the
/// members) and `troupe_field_names()` (for error messages). Usable in local
/// classes. Writing those two functions by hand works the same way.
#define TROUPE_FIELDS(...)                                                              \
  [[nodiscard]] auto troupe_fields() noexcept { return ::std::tie(__VA_ARGS__); }       \
  [[nodiscard]] auto troupe_fields() const noexcept { return ::std::tie(__VA_ARGS__); } \
  [[nodiscard]] static constexpr ::std::string_view troupe_field_names() noexcept {     \
    return #__VA_ARGS__;                                                                \
  }                                                                                     \
  static_assert(true, "")

/// Declares the valid values of an enum (`first` to `last`, inclusive): a
/// decoded value outside is bad_enum instead of a value no enumerator names.
/// Required for enums without a fixed underlying type (`enum E { ... }`),
/// optional otherwise. Use it at namespace scope, in the enum's namespace (it
/// is found by argument-dependent lookup); for an enum nested in a class,
/// write `friend constexpr std::pair<E, E> troupe_enum_range(E) { ... }` there.
#define TROUPE_ENUM_RANGE(Enum, first, last)                                            \
  [[maybe_unused]] constexpr ::std::pair<Enum, Enum> troupe_enum_range(Enum) noexcept { \
    return {first, last};                                                               \
  }                                                                                     \
  static_assert(true, "")

namespace troupe::wire {

/// The codec of T. The primary template means "no codec"; see the file
/// comment for writing one.
template <class T>
struct codec {
  static constexpr bool troupe_no_codec = true;
};

/// True when T has a codec.
template <class T>
concept has_codec = !requires {
  codec<T>::troupe_no_codec;
};

namespace detail {

template <class T>
inline constexpr bool dependent_false = false;

/// A readable compile-time error naming the type without a codec (the
/// compiler prints "with T = <the type>" for this function).
template <class T>
constexpr void require_codec() {
  static_assert(has_codec<T>,
                "troupe::wire: no codec for type T (named in 'with T = ...' above): add "
                "TROUPE_FIELDS(...) to it, or specialize troupe::wire::codec<T>");
}

/// Fields declared in the type (TROUPE_FIELDS).
template <class T>
concept has_member_fields = std::is_class_v<T> && requires(T& t, const T& ct) {
  t.troupe_fields();
  ct.troupe_fields();
};

/// Fields declared beside the type (TROUPE_MESSAGE with a field list), found
/// by argument-dependent lookup.
template <class T>
concept has_adl_fields = std::is_class_v<T> && requires(T& t, const T& ct) {
  troupe_fields(t);
  troupe_fields(ct);
};

template <class T>
concept has_fields = has_member_fields<T> || has_adl_fields<T>;

/// The std::tie of T's declared fields.
template <class T>
auto fields_of(T& v) noexcept {
  using U = std::remove_const_t<T>;
  static_assert(!(has_member_fields<U> && has_adl_fields<U>),
                "troupe::wire: the fields of type T are declared twice (TROUPE_FIELDS in the "
                "type and a field list in TROUPE_MESSAGE): keep one");
  if constexpr (has_member_fields<U>) {
    return v.troupe_fields();
  } else {
    return troupe_fields(v);
  }
}

template <class T>
concept has_member_field_names = requires {
  T::troupe_field_names();
};
template <class T>
concept has_adl_field_names = requires(const T* p) {
  troupe_field_names(p);
};

/// The declared field names of T, comma-separated ("" if unknown).
template <class T>
constexpr std::string_view field_names_of() noexcept {
  if constexpr (has_member_field_names<T>) {
    return T::troupe_field_names();
  } else if constexpr (has_adl_field_names<T>) {
    return troupe_field_names(static_cast<const T*>(nullptr));
  } else {
    return {};
  }
}

/// The i-th comma-separated name in `names`, trimmed ("" if absent).
std::string_view nth_field_name(std::string_view names, std::size_t i) noexcept;

template <class T>
std::string field_segment(std::size_t i) {
  const std::string_view name = nth_field_name(field_names_of<T>(), i);
  if (!name.empty()) return cat(".", name);
  return cat(".#", i);
}

}  // namespace detail

/// The fewest bytes any T encodes to (compile time).
template <class T>
constexpr std::size_t min_size_of() {
  detail::require_codec<T>();
  if constexpr (has_codec<T>) {
    return codec<T>::min_size;
  } else {
    return 0;
  }
}

/// Appends the encoding of `v`. Throws wire_error (see writer).
template <class T>
void write_value(writer& w, const T& v) {
  detail::require_codec<T>();
  if constexpr (has_codec<T>) codec<T>::encode(w, v);
}

/// Decodes into `v`. On bad input `r` records the failure and `v` is left
/// valid but unspecified.
template <class T>
void read_value(reader& r, T& v) {
  detail::require_codec<T>();
  if constexpr (has_codec<T>) codec<T>::decode(r, v);
}

// ---- scalars ---------------------------------------------------------------

/// bool: one byte, 0 or 1 (anything else: invalid_value).
template <>
struct codec<bool> {
  static constexpr std::size_t min_size = 1;
  static void encode(writer& w, bool v) { w.byte(v ? 1 : 0); }
  static void decode(reader& r, bool& v) {
    const std::uint8_t b = r.byte();
    if (b > 1) {
      r.fail(wire_errc::invalid_value, detail::cat("bool byte ", b, " is not 0 or 1"));
    }
    v = b == 1;
  }
};

/// Integers and character types: sizeof(T) bytes, little-endian.
template <class T>
requires(std::integral<T> && !std::same_as<T, bool>) struct codec<T> {
  static constexpr std::size_t min_size = sizeof(T);
  static void encode(writer& w, T v) { w.fixed(v); }
  static void decode(reader& r, T& v) { v = r.fixed<T>(); }
};

/// float and double: the IEEE 754 bits as a little-endian integer (NaN
/// payloads and signed zeros survive).
template <class T>
requires(std::same_as<T, float> || std::same_as<T, double>) struct codec<T> {
  static_assert(std::numeric_limits<T>::is_iec559, "troupe::wire needs IEEE 754 floats");
  using bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  static constexpr std::size_t min_size = sizeof(T);
  static void encode(writer& w, T v) { w.fixed(std::bit_cast<bits>(v)); }
  static void decode(reader& r, T& v) { v = std::bit_cast<T>(r.fixed<bits>()); }
};

namespace detail {

template <class E>
concept has_enum_range = requires(E e) {
  { troupe_enum_range(e) } -> std::same_as<std::pair<E, E>>;
};

// Only an enum with a fixed underlying type can be list-initialized from an
// integer (C++17); for the others a value outside the enumerators' bit range
// is undefined behaviour, so they must declare a range.
template <class E>
concept has_fixed_underlying = requires(std::underlying_type_t<E> u) {
  E{u};
};

template <class E>
constexpr void require_enum_codec() {
  static_assert(has_fixed_underlying<E> || has_enum_range<E>,
                "troupe::wire: enum E (named in 'with E = ...' above) has no fixed underlying "
                "type: give it one (enum E : int { ... }) or declare "
                "TROUPE_ENUM_RANGE(E, first, last) next to it");
}

}  // namespace detail

/// Enums: the underlying integer. With TROUPE_ENUM_RANGE, values outside the
/// range are bad_enum (both when decoding and when encoding).
template <class E>
requires std::is_enum_v<E>
struct codec<E> {
  using U = std::underlying_type_t<E>;
  static constexpr std::size_t min_size = sizeof(U);

  static void encode(writer& w, E v) {
    detail::require_enum_codec<E>();
    const auto u = static_cast<U>(v);
    if constexpr (detail::has_enum_range<E>) {
      if (!in_range(u)) {
        throw wire_error(wire_errc::bad_enum,
                         detail::cat("encode ", troupe::wire::detail::type_name<E>(), ": value ", u,
                                     " is outside its TROUPE_ENUM_RANGE"));
      }
    }
    w.fixed(u);
  }
  static void decode(reader& r, E& v) {
    detail::require_enum_codec<E>();
    const U u = r.fixed<U>();
    if constexpr (detail::has_enum_range<E>) {
      // Checked on the integer, before it becomes an E.
      if (!in_range(u)) {
        r.fail(wire_errc::bad_enum, detail::cat(troupe::wire::detail::type_name<E>(), " value ", u,
                                                " is outside its range"));
        return;
      }
    }
    v = static_cast<E>(u);
  }

 private:
  static constexpr bool in_range(U u) noexcept {
    if constexpr (detail::has_enum_range<E>) {
      constexpr std::pair<E, E> range = troupe_enum_range(E{});
      return u >= static_cast<U>(range.first) && u <= static_cast<U>(range.second);
    } else {
      return true;
    }
  }
};

// ---- structs with TROUPE_FIELDS ----------------------------------------------

namespace detail {
template <class... Fs>
constexpr std::size_t fields_min_size(std::tuple<Fs...>*) {
  return (std::size_t{0} + ... + min_size_of<std::remove_cvref_t<Fs>>());
}
}  // namespace detail

/// A struct with TROUPE_FIELDS: its fields in order, nothing else (no count,
/// no tags). One nesting level.
template <class T>
requires detail::has_fields<T>
struct codec<T> {
  using fields_type = decltype(detail::fields_of(std::declval<T&>()));
  static constexpr std::size_t min_size =
      detail::fields_min_size(static_cast<fields_type*>(nullptr));

  static void encode(writer& w, const T& v) {
    writer::depth_guard g(w);
    std::apply([&w](const auto&... f) { (write_value(w, f), ...); }, detail::fields_of(v));
  }

  static void decode(reader& r, T& v) {
    reader::depth_guard g(r);
    if (!g) return;
    fields_type f = detail::fields_of(v);
    decode_fields(r, f, std::make_index_sequence<std::tuple_size_v<fields_type>>{});
  }

 private:
  template <std::size_t... I>
  static void decode_fields(reader& r, fields_type& f, std::index_sequence<I...>) {
    [[maybe_unused]] const bool all = (decode_field<I>(r, std::get<I>(f)) && ...);
  }
  template <std::size_t I, class F>
  static bool decode_field(reader& r, F& field) {
    read_value(r, field);
    if (r.ok()) return true;
    r.note(detail::field_segment<T>(I));
    return false;
  }
};

}  // namespace troupe::wire

#include "troupe/wire/detail/codec_std.hpp"

namespace troupe::wire {

// ---- top level ---------------------------------------------------------------

/// Appends the encoding of `value` to `out`. Throws wire_error when `value`
/// exceeds `bounds` (depth, string length, element count) or holds a
/// valueless variant; `out` may then hold a partial encoding.
template <class T>
void encode(const T& value, std::vector<std::byte>& out, const limits& bounds = {}) {
  writer w(out, bounds);
  write_value(w, value);
}

/// The encoding of `value` (see the appending overload).
template <class T>
[[nodiscard]] std::vector<std::byte> encode(const T& value, const limits& bounds = {}) {
  std::vector<std::byte> out;
  encode(value, out, bounds);
  return out;
}

/// Decodes `input`, which must hold exactly one T, into `out`. Returns the
/// first failure (truncated, trailing_bytes, count_overflow, ...) with the
/// field path; `out` is then valid but unspecified. Never throws for bad
/// input (std::bad_alloc only if the budget fits but memory does not).
template <class T>
status decode(std::span<const std::byte> input, T& out, const limits& bounds = {}) {
  reader r(input, bounds);
  read_value(r, out);
  if (r.complete()) return {};
  return r.result(detail::cat("decode ", troupe::wire::detail::type_name<T>()));
}

/// Decodes `input` as one T; throws wire_error on failure.
template <class T>
[[nodiscard]] T decode(std::span<const std::byte> input, const limits& bounds = {}) {
  T out{};
  decode(input, out, bounds).throw_if_error();
  return out;
}

}  // namespace troupe::wire
