#pragma once
/// `writer`: appends the wire encoding of values to a byte vector.
///
/// Limits first: a writer refuses (throws wire_error) what a reader with the
/// same `limits` would refuse: composite values nested beyond max_depth
/// (depth_exceeded), strings beyond max_string (length_overflow), containers
/// beyond max_elements (count_overflow). It also stops appending beyond
/// `max_size` bytes (frame_too_large), so an oversized message is refused
/// before it is built, not after. Encoding failures are bugs at the sender,
/// hence exceptions; the bytes appended before the throw stay in the vector
/// (frame_encoder rolls them back).
/// @note Not thread-safe; the vector must outlive the writer.

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "troupe/wire/error.hpp"
#include "troupe/wire/limits.hpp"

namespace troupe::wire {

class writer {
 public:
  /// Appends to `out`, at most `max_size` bytes in total.
  explicit writer(std::vector<std::byte>& out, const limits& bounds = {},
                  std::size_t max_size = std::numeric_limits<std::size_t>::max()) noexcept
      : out_(out), start_(out.size()), max_size_(max_size), bounds_(bounds) {}

  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  /// Bytes appended by this writer so far.
  [[nodiscard]] std::size_t written() const noexcept { return out_.size() - start_; }
  [[nodiscard]] const limits& bounds() const noexcept { return bounds_; }
  /// The transport's context for codecs of handles that only mean something
  /// on one connection (troupe::ref: the connection's table of refs); null
  /// outside a transport. Not owned.
  [[nodiscard]] void* context() const noexcept { return context_; }
  void set_context(void* c) noexcept { context_ = c; }
  /// The vector being appended to.
  [[nodiscard]] std::vector<std::byte>& buffer() noexcept { return out_; }

  void byte(std::uint8_t v) {
    reserve(1);
    out_.push_back(std::byte{v});
  }

  /// A little-endian integer of sizeof(T) bytes.
  template <std::integral T>
  void fixed(T v) {
    constexpr std::size_t n = sizeof(T);
    std::byte* p = grow(n);
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(p, &v, n);
    } else {
      auto u = static_cast<std::make_unsigned_t<T>>(v);
      for (std::size_t i = 0; i < n; ++i)
        p[i] = std::byte(static_cast<unsigned char>(u >> (8 * i)));
    }
  }

  /// Little-endian values of T, in one step.
  template <class T>
  requires(std::integral<T> || std::floating_point<T>) void fixed_array(std::span<const T> values) {
    if constexpr (std::endian::native == std::endian::little) {
      if (values.empty()) return;
      std::byte* p = grow(values.size_bytes());
      std::memcpy(p, values.data(), values.size_bytes());
    } else {
      for (const T& v : values) {
        if constexpr (std::integral<T>) {
          fixed(v);
        } else if constexpr (sizeof(T) == 4) {
          fixed(std::bit_cast<std::uint32_t>(v));
        } else {
          fixed(std::bit_cast<std::uint64_t>(v));
        }
      }
    }
  }

  /// An unsigned LEB128 varint (1 to 10 bytes, minimal).
  void varint(std::uint64_t v) {
    std::byte tmp[10];
    std::size_t n = 0;
    while (v >= 0x80) {
      tmp[n++] = std::byte(static_cast<unsigned char>(v | 0x80));
      v >>= 7;
    }
    tmp[n++] = std::byte(static_cast<unsigned char>(v));
    std::memcpy(grow(n), tmp, n);
  }

  /// Raw bytes.
  void bytes(std::span<const std::byte> b) {
    if (b.empty()) return;
    std::memcpy(grow(b.size()), b.data(), b.size());
  }

  /// A string length: varint, after checking it against max_string.
  void length(std::size_t n) {
    if (n > bounds_.max_string) fail_length(n);
    varint(n);
  }
  /// A container element count: varint, after checking it against max_elements.
  void count(std::size_t n) {
    if (n > bounds_.max_elements) fail_count(n);
    varint(n);
  }

  /// Enters one composite level; throws depth_exceeded beyond max_depth.
  void enter() {
    if (depth_ >= bounds_.max_depth) fail_depth();
    ++depth_;
  }
  void leave() noexcept { --depth_; }

  /// RAII enter()/leave().
  class depth_guard {
   public:
    explicit depth_guard(writer& w) : w_(w) { w_.enter(); }
    ~depth_guard() { w_.leave(); }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;

   private:
    writer& w_;
  };

 private:
  void reserve(std::size_t n) {
    if (n > max_size_ - written()) fail_size(n);
  }
  std::byte* grow(std::size_t n) {
    reserve(n);
    const std::size_t old = out_.size();
    out_.resize(old + n);
    return out_.data() + old;
  }
  [[noreturn, gnu::cold]] void fail_size(std::size_t n) const;
  [[noreturn, gnu::cold]] void fail_length(std::size_t n) const;
  [[noreturn, gnu::cold]] void fail_count(std::size_t n) const;
  [[noreturn, gnu::cold]] void fail_depth() const;

  std::vector<std::byte>& out_;
  std::size_t start_;
  std::size_t max_size_;
  limits bounds_;
  void* context_ = nullptr;
  std::uint32_t depth_ = 0;
};

}  // namespace troupe::wire
