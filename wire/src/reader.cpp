#include "troupe/wire/reader.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "troupe/wire/codec.hpp"

namespace troupe::wire {

using detail::cat;

reader::reader(std::span<const std::byte> input, const limits& bounds) noexcept
    : begin_(input.data()), cur_(input.data()), end_(input.data() + input.size()), bounds_(bounds) {
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  const std::size_t n = input.size();
  const std::size_t scaled =
      bounds.alloc_ratio != 0 && n > max / bounds.alloc_ratio ? max : n * bounds.alloc_ratio;
  budget_ = scaled > max - bounds.alloc_slack ? max : scaled + bounds.alloc_slack;
}

std::uint64_t reader::varint_slow() {
  // Groups of 7 bits, least significant first; a set high bit means more.
  // At most 10 bytes; the 10th may only hold bit 63; the last byte of a
  // multi-byte varint is never 0 (that would be a redundant group).
  std::uint64_t v = 0;
  const std::size_t start = position();
  for (unsigned i = 0; i < 10; ++i) {
    if (cur_ == end_) {
      fail_truncated(i + 1);
      return 0;
    }
    const auto b = std::to_integer<std::uint64_t>(*cur_++);
    if (i == 9 && b > 1) {
      fail(wire_errc::bad_varint, cat("varint at byte ", start, " exceeds 64 bits"));
      return 0;
    }
    v |= (b & 0x7FU) << (7 * i);
    if ((b & 0x80U) == 0) {
      if (b == 0 && i > 0) {
        fail(wire_errc::bad_varint,
             cat("varint at byte ", start, " is not minimal (redundant zero group)"));
        return 0;
      }
      return v;
    }
  }
  fail(wire_errc::bad_varint, cat("varint at byte ", start, " is over 10 bytes"));
  return 0;
}

void reader::fail(wire_errc code, std::string detail) {
  if (!ok()) return;
  code_ = code;
  fail_pos_ = position();
  detail_ = std::move(detail);
  cur_ = end_;
}

void reader::note(std::string_view segment) {
  // The path is at most about two segments per nesting level.
  if (ok() || path_.size() >= 2 * static_cast<std::size_t>(bounds_.max_depth) + 8) return;
  path_.emplace_back(segment);
}

void reader::note_index(std::size_t i) {
  if (ok()) return;
  note(cat("[", i, "]"));
}

bool reader::complete() {
  if (!ok()) return false;
  if (cur_ == end_) return true;
  fail(wire_errc::trailing_bytes, cat(remaining(), " bytes left after the value"));
  return false;
}

status reader::result(std::string_view subject) const {
  if (ok()) return {};
  std::string context(subject);
  if (!path_.empty()) {
    context.append(" at ");
    // (Not std::ranges::reverse_view: clang 14 cannot use libstdc++ 12's ranges.)
    std::for_each(path_.rbegin(), path_.rend(),
                  [&](const std::string& part) { context.append(part); });
  }
  context.append(cat(" (byte ", fail_pos_, " of ", size(), ")"));
  if (!detail_.empty()) context.append(cat(": ", detail_));
  return {code_, std::move(context)};
}

void reader::fail_truncated(std::size_t need) {
  fail(wire_errc::truncated, cat("need ", need, " bytes, ", remaining(), " left"));
}

void reader::fail_length(std::uint64_t n, std::size_t max) {
  if (n > max) {
    fail(wire_errc::length_overflow, cat("length ", n, " exceeds the limit ", max));
  } else {
    fail(wire_errc::length_overflow, cat("length ", n, " with ", remaining(), " bytes left"));
  }
}

void reader::fail_count(std::uint64_t n, std::size_t per, std::size_t max) {
  if (n > max) {
    fail(wire_errc::count_overflow, cat("count ", n, " exceeds the limit ", max));
  } else {
    fail(wire_errc::count_overflow, cat("count ", n, " of elements of at least ", per,
                                        " bytes with ", remaining(), " bytes left"));
  }
}

void reader::fail_alloc(std::size_t bytes) {
  fail(wire_errc::alloc_limit, cat("allocating ", bytes, " bytes with ", budget_,
                                   " left of the budget for ", size(), " input bytes"));
}

void reader::fail_depth() {
  fail(wire_errc::depth_exceeded, cat("nesting deeper than max_depth ", bounds_.max_depth));
}

namespace detail {

std::string_view nth_field_name(std::string_view names, std::size_t i) noexcept {
  // Split at top-level commas (a field expression may hold template
  // arguments or calls); trim blanks.
  constexpr std::string_view blanks = " \t\r\n";
  std::size_t index = 0;
  std::size_t start = 0;
  int nest = 0;
  for (std::size_t k = 0; k <= names.size(); ++k) {
    const char c = k < names.size() ? names[k] : ',';
    if (c == '(' || c == '<' || c == '[' || c == '{') ++nest;
    if ((c == ')' || c == '>' || c == ']' || c == '}') && nest > 0) --nest;
    if (c != ',' || (nest > 0 && k < names.size())) continue;
    if (index == i) {
      std::string_view name = names.substr(start, k - start);
      const std::size_t first = name.find_first_not_of(blanks);
      if (first == std::string_view::npos) return {};
      name.remove_prefix(first);
      name.remove_suffix(name.size() - 1 - name.find_last_not_of(blanks));
      return name;
    }
    ++index;
    start = k + 1;
  }
  return {};
}

}  // namespace detail

}  // namespace troupe::wire
