#pragma once
/// Errors of troupe's wire format: the codes, the `status` value that decoders
/// return, and the `wire_error` exception that encoders (and the throwing
/// decode overloads) raise.
///
/// Policy: bytes from a peer are untrusted, so every decoder reports a bad
/// input as a `status` value (never UB, never an exception for bad bytes);
/// the transport closes that one connection and logs `status::message()`.
/// Encoding a value that the wire format cannot carry (nesting too deep, a
/// valueless variant, a frame beyond `max_frame`, an unregistered type) is a
/// bug at the sender and throws `wire_error`. `decode<T>(bytes)` is the
/// throwing convenience form of `decode(bytes, out)`.

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace troupe::wire {

/// What went wrong. One line per enumerator says when it is produced.
enum class wire_errc : int {
  truncated = 1,      ///< the input ended inside a fixed-width value or a varint
  bad_varint,         ///< a LEB128 varint is over 10 bytes, overflows 64 bits, or is not minimal
  length_overflow,    ///< a string length exceeds the bytes left or limits::max_string
  count_overflow,     ///< an element count exceeds what the bytes left can hold or max_elements
  depth_exceeded,     ///< values nest deeper than limits::max_depth (encode or decode)
  alloc_limit,        ///< decoding would allocate more than the input's allocation budget
  invalid_value,      ///< a bool or optional tag other than 0/1, or a field out of its range
  bad_enum,           ///< an enum value outside the range declared with TROUPE_ENUM_RANGE
  bad_variant_index,  ///< a variant index not below the number of alternatives
  duplicate_key,      ///< a key appears twice in an encoded map or set
  trailing_bytes,     ///< bytes are left after the value that should fill the input
  unknown_type,       ///< a message type id (or C++ type) is not in the registry
  type_conflict,      ///< a name, id or type registered twice differently; any_message::get<T> on
                      ///< another type
  frame_too_large,    ///< a frame header (or a frame being encoded) exceeds max_frame
  bad_magic,          ///< a handshake does not start with troupe's magic number
  version_mismatch,   ///< the peer's handshake carries another protocol version
};

/// The category of wire_errc ("troupe.wire").
const std::error_category& wire_category() noexcept;

inline std::error_code make_error_code(wire_errc e) noexcept {
  return {static_cast<int>(e), wire_category()};
}

/// The enumerator's name ("truncated", "count_overflow", ...), for logs and tests.
std::string_view to_string(wire_errc e) noexcept;

/// The outcome of a decode: ok, or a code and a message naming what was being
/// decoded, where (field path and byte offset) and why, e.g.
/// `decode message 'shop.order' (Order) at .items[3].name (byte 37 of 49):
/// length 300 with 12 bytes left: string length exceeds the bytes left or the limit`.
class [[nodiscard]] status {
 public:
  /// Success.
  status() = default;
  /// A failure with `code`; `context` says what, where and the numbers involved.
  status(wire_errc code, std::string context) : code_(code), context_(std::move(context)) {}

  [[nodiscard]] bool ok() const noexcept { return code_ == wire_errc{}; }
  explicit operator bool() const noexcept { return ok(); }
  /// The code; meaningless when ok().
  [[nodiscard]] wire_errc code() const noexcept { return code_; }
  [[nodiscard]] std::error_code error_code() const noexcept {
    return ok() ? std::error_code{} : make_error_code(code_);
  }
  /// "<context>: <code description>", or "ok". Same text as wire_error::what().
  [[nodiscard]] std::string message() const;
  /// The context alone (what, where, numbers).
  [[nodiscard]] const std::string& context() const noexcept { return context_; }
  /// Throws wire_error when not ok().
  void throw_if_error() const;

 private:
  wire_errc code_{};
  std::string context_;
};

/// A wire-format failure as an exception. code() is in wire_category();
/// what() is "<context>: <code description>".
class wire_error : public std::system_error {
 public:
  wire_error(wire_errc code, const std::string& context)
      : std::system_error(make_error_code(code), context) {}
  explicit wire_error(const status& s) : wire_error(s.code(), s.context()) {}

  /// The wire error code.
  [[nodiscard]] wire_errc kind() const noexcept { return static_cast<wire_errc>(code().value()); }
};

namespace detail {
// Builds error messages: cat("length ", n, " with ", left, " bytes left").
// (Not `"..." + std::to_string(n)`: g++ 12 -O2 warns falsely on that, -Wrestrict.)
inline void cat_one(std::string& s, std::string_view v) { s.append(v); }
template <std::integral I>
requires(!std::same_as<I, char> && !std::same_as<I, bool>) void cat_one(std::string& s, I v) {
  s.append(std::to_string(v));
}
template <class... A>
std::string cat(const A&... parts) {
  std::string s;
  (cat_one(s, parts), ...);
  return s;
}
}  // namespace detail

}  // namespace troupe::wire

template <>
struct std::is_error_code_enum<troupe::wire::wire_errc> : std::true_type {};
