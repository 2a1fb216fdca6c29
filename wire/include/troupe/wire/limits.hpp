#pragma once
/// The bounds that make decoding untrusted bytes safe, in one struct.
///
/// Every decoder takes a `limits` (defaults below). With them, decoding n
/// bytes:
///   - never reads outside the input (every check is `n > end - cur`);
///   - never recurses deeper than `max_depth` composite values;
///   - never accepts a string longer than `max_string` or the bytes left, nor
///     a container count above `max_elements` or above what the bytes left
///     could hold at the element type's minimum encoded size;
///   - never allocates more than `alloc_ratio * n + alloc_slack` bytes for
///     the built-in codecs (vectors, strings, maps, sets, registry messages).
/// The encoder enforces max_depth, max_string and max_elements too, so what
/// one side encodes the other side (with the same limits) can decode.

#include <cstddef>
#include <cstdint>

namespace troupe::wire {

/// The default largest frame payload: 16 MiB.
inline constexpr std::size_t default_max_frame = std::size_t{16} << 20;

/// Decode and encode bounds. Plain data; copy freely.
struct limits {
  /// Composite values (structs, containers, optional, variant, tuple) nested
  /// inside each other, the outermost counting 1. Beyond: depth_exceeded.
  std::uint32_t max_depth = 64;
  /// Bytes in one string. Beyond: length_overflow.
  std::size_t max_string = default_max_frame;
  /// Elements in one container. Beyond: count_overflow.
  std::size_t max_elements = default_max_frame;
  /// Heap budget of one decode: alloc_ratio bytes per input byte, plus
  /// alloc_slack. Beyond: alloc_limit. A vector<string> of empty strings is
  /// charged 48 bytes per input byte (the string object, and 16 bytes a
  /// string may allocate), so keep this well above 48.
  std::size_t alloc_ratio = 64;
  std::size_t alloc_slack = std::size_t{64} << 10;
};

}  // namespace troupe::wire
