#pragma once
/// `reader`: a bounds-checked cursor over untrusted bytes, the one place where
/// the wire format touches raw input.
///
/// Limits first: a reader never reads outside its span (every check is
/// `n > end - cur`, which cannot overflow), never lets a length or count
/// exceed the bytes left, the limits, or the allocation budget, and never lets
/// composite values nest deeper than `limits::max_depth`.
///
/// Errors are sticky values, not exceptions: the first failure is recorded
/// (code, detail, byte offset), the cursor jumps to the end, and every later
/// read returns 0 / empty, so a decoder needs no checks to stay safe, only to
/// stop early. Codecs check ok() after each element and, when it failed, add
/// a path segment with note() on the way out; result() then names the field
/// (`.items[3].name`). A reader is a small value over borrowed bytes; the
/// bytes must outlive it.
/// @note Not thread-safe; one reader per decode.

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/wire/error.hpp"
#include "troupe/wire/limits.hpp"

namespace troupe::wire {

class reader {
 public:
  /// Reads `input` under `bounds`. The allocation budget is
  /// `bounds.alloc_ratio * input.size() + bounds.alloc_slack` (saturating).
  explicit reader(std::span<const std::byte> input, const limits& bounds = {}) noexcept;

  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  // ---- state --------------------------------------------------------------

  /// True until the first failure.
  [[nodiscard]] bool ok() const noexcept { return code_ == wire_errc{}; }
  /// The first failure's code; wire_errc{} while ok().
  [[nodiscard]] wire_errc error() const noexcept { return code_; }
  /// Bytes not yet read (0 after a failure).
  [[nodiscard]] std::size_t remaining() const noexcept {
    return static_cast<std::size_t>(end_ - cur_);
  }
  /// Offset of the next byte from the start of the input.
  [[nodiscard]] std::size_t position() const noexcept {
    return static_cast<std::size_t>(cur_ - begin_);
  }
  /// Size of the whole input.
  [[nodiscard]] std::size_t size() const noexcept {
    return static_cast<std::size_t>(end_ - begin_);
  }
  [[nodiscard]] const limits& bounds() const noexcept { return bounds_; }
  /// What is left of the allocation budget.
  [[nodiscard]] std::size_t budget() const noexcept { return budget_; }

  // ---- primitives: on failure they record it and return 0 / empty ---------

  /// One byte.
  std::uint8_t byte() {
    if (end_ == cur_) {
      fail_truncated(1);
      return 0;
    }
    return std::to_integer<std::uint8_t>(*cur_++);
  }

  /// A little-endian integer of sizeof(T) bytes.
  template <std::integral T>
  T fixed() {
    constexpr std::size_t n = sizeof(T);
    if (n > remaining()) {
      fail_truncated(n);
      return T{};
    }
    T v;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&v, cur_, n);
    } else {
      std::make_unsigned_t<T> u = 0;
      for (std::size_t i = 0; i < n; ++i) {
        u = static_cast<std::make_unsigned_t<T>>(
            u | (static_cast<std::make_unsigned_t<T>>(std::to_integer<unsigned char>(cur_[i]))
                 << (8 * i)));
      }
      v = static_cast<T>(u);
    }
    cur_ += n;
    return v;
  }

  /// `out.size()` little-endian values of T, in one step.
  template <class T>
  requires(std::integral<T> || std::floating_point<T>) void fixed_array(std::span<T> out) {
    if (out.size() > remaining() / sizeof(T)) {
      fail_truncated(out.size() * sizeof(T));
      return;
    }
    if constexpr (std::endian::native == std::endian::little) {
      if (!out.empty()) std::memcpy(out.data(), cur_, out.size_bytes());
      cur_ += out.size_bytes();
    } else {
      for (T& v : out) {
        if constexpr (std::integral<T>) {
          v = fixed<T>();
        } else if constexpr (sizeof(T) == 4) {
          v = std::bit_cast<T>(fixed<std::uint32_t>());
        } else {
          v = std::bit_cast<T>(fixed<std::uint64_t>());
        }
      }
    }
  }

  /// An unsigned LEB128 varint: at most 10 bytes, at most 64 bits, minimal
  /// (no redundant trailing 0x80... groups). Otherwise bad_varint / truncated.
  std::uint64_t varint() {
    if (cur_ != end_ && (std::to_integer<unsigned>(*cur_) & 0x80U) == 0) {
      return std::to_integer<std::uint64_t>(*cur_++);
    }
    return varint_slow();
  }

  /// The next `n` bytes as a view into the input.
  std::span<const std::byte> take(std::size_t n) {
    if (n > remaining()) {
      fail_truncated(n);
      return {};
    }
    std::span<const std::byte> s(cur_, n);
    cur_ += n;
    return s;
  }

  /// A varint byte length, at most `max` and at most remaining(); otherwise
  /// length_overflow. The bytes themselves are still to be read (take()).
  std::size_t length(std::size_t max) {
    const std::uint64_t n = varint();
    if (!ok()) return 0;
    if (n > max || n > remaining()) {
      fail_length(n, max);
      return 0;
    }
    return static_cast<std::size_t>(n);
  }

  /// A varint element count, at most `max` and at most
  /// remaining() / min_element_size (each element needs at least that many
  /// bytes; 0 is treated as 1); otherwise count_overflow. Checked before the
  /// caller allocates anything for the elements.
  std::size_t count(std::size_t min_element_size, std::size_t max) {
    const std::uint64_t n = varint();
    if (!ok()) return 0;
    const std::size_t per = min_element_size == 0 ? 1 : min_element_size;
    if (n > max || n > remaining() / per) {
      fail_count(n, per, max);
      return 0;
    }
    return static_cast<std::size_t>(n);
  }

  /// Takes `bytes` from the allocation budget before a codec allocates them;
  /// false (and alloc_limit) when the budget cannot cover them.
  bool charge(std::size_t bytes) {
    if (bytes > budget_) {
      fail_alloc(bytes);
      return false;
    }
    budget_ -= bytes;
    return true;
  }
  /// charge(count * each), saturating.
  bool charge(std::size_t count, std::size_t each) {
    if (each != 0 && count > budget_ / each) {
      fail_alloc(count > SIZE_MAX / each ? SIZE_MAX : count * each);
      return false;
    }
    return charge(count * each);
  }

  // ---- nesting ------------------------------------------------------------

  /// Enters one composite level; false (and depth_exceeded) beyond max_depth.
  bool enter() {
    if (depth_ >= bounds_.max_depth) {
      fail_depth();
      return false;
    }
    ++depth_;
    return true;
  }
  void leave() noexcept { --depth_; }

  /// RAII enter()/leave(). Test it: `depth_guard g(r); if (!g) return;`
  class depth_guard {
   public:
    explicit depth_guard(reader& r) : r_(r), entered_(r.enter()) {}
    ~depth_guard() {
      if (entered_) r_.leave();
    }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;
    explicit operator bool() const noexcept { return entered_; }

   private:
    reader& r_;
    bool entered_;
  };

  // ---- errors -------------------------------------------------------------

  /// Records a failure (only the first one counts) and moves to the end of
  /// the input. `detail` holds the numbers ("length 300 with 12 bytes left").
  void fail(wire_errc code, std::string detail);

  /// Adds a path segment (".name", "[3]") while unwinding after a failure,
  /// innermost first. Ignored while ok().
  void note(std::string_view segment);
  /// note("[i]").
  void note_index(std::size_t i);

  /// True if ok() and every byte was read; otherwise records trailing_bytes
  /// (if not failed already) and returns false.
  bool complete();

  /// The outcome: ok, or the first failure as a status whose context reads
  /// "<subject> at <path> (byte P of N): <detail>".
  [[nodiscard]] status result(std::string_view subject) const;

  /// The transport's context for codecs of handles (see writer::context);
  /// null outside a transport. Not owned.
  [[nodiscard]] void* context() const noexcept { return context_; }
  void set_context(void* c) noexcept { context_ = c; }

 private:
  std::uint64_t varint_slow();
  [[gnu::cold]] void fail_truncated(std::size_t need);
  [[gnu::cold]] void fail_length(std::uint64_t n, std::size_t max);
  [[gnu::cold]] void fail_count(std::uint64_t n, std::size_t per, std::size_t max);
  [[gnu::cold]] void fail_alloc(std::size_t bytes);
  [[gnu::cold]] void fail_depth();

  const std::byte* begin_;
  const std::byte* cur_;
  const std::byte* end_;
  limits bounds_;
  void* context_ = nullptr;
  std::size_t budget_;
  std::uint32_t depth_ = 0;
  wire_errc code_{};
  std::size_t fail_pos_ = 0;
  std::string detail_;
  std::vector<std::string> path_;  // innermost segment first
};

}  // namespace troupe::wire
