#include "troupe/wire/error.hpp"

#include <string>

namespace troupe::wire {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "troupe.wire"; }
  std::string message(int ev) const override {
    switch (static_cast<wire_errc>(ev)) {
      case wire_errc::truncated:
        return "input ends inside a value";
      case wire_errc::bad_varint:
        return "malformed varint";
      case wire_errc::length_overflow:
        return "string length exceeds the bytes left or the limit";
      case wire_errc::count_overflow:
        return "element count exceeds what the bytes left can hold or the limit";
      case wire_errc::depth_exceeded:
        return "nesting exceeds the depth limit";
      case wire_errc::alloc_limit:
        return "decoding would exceed the allocation budget";
      case wire_errc::invalid_value:
        return "invalid value";
      case wire_errc::bad_enum:
        return "enum value out of range";
      case wire_errc::bad_variant_index:
        return "variant index out of range";
      case wire_errc::duplicate_key:
        return "duplicate key";
      case wire_errc::trailing_bytes:
        return "trailing bytes after the value";
      case wire_errc::unknown_type:
        return "unknown message type";
      case wire_errc::type_conflict:
        return "message type conflict";
      case wire_errc::frame_too_large:
        return "frame exceeds max_frame";
      case wire_errc::bad_magic:
        return "not a troupe handshake (bad magic)";
      case wire_errc::version_mismatch:
        return "protocol version mismatch";
    }
    return detail::cat("unknown wire error ", ev);
  }
};

}  // namespace

const std::error_category& wire_category() noexcept {
  static const category instance;
  return instance;
}

std::string_view to_string(wire_errc e) noexcept {
  switch (e) {
    case wire_errc::truncated:
      return "truncated";
    case wire_errc::bad_varint:
      return "bad_varint";
    case wire_errc::length_overflow:
      return "length_overflow";
    case wire_errc::count_overflow:
      return "count_overflow";
    case wire_errc::depth_exceeded:
      return "depth_exceeded";
    case wire_errc::alloc_limit:
      return "alloc_limit";
    case wire_errc::invalid_value:
      return "invalid_value";
    case wire_errc::bad_enum:
      return "bad_enum";
    case wire_errc::bad_variant_index:
      return "bad_variant_index";
    case wire_errc::duplicate_key:
      return "duplicate_key";
    case wire_errc::trailing_bytes:
      return "trailing_bytes";
    case wire_errc::unknown_type:
      return "unknown_type";
    case wire_errc::type_conflict:
      return "type_conflict";
    case wire_errc::frame_too_large:
      return "frame_too_large";
    case wire_errc::bad_magic:
      return "bad_magic";
    case wire_errc::version_mismatch:
      return "version_mismatch";
  }
  return "ok";
}

std::string status::message() const {
  if (ok()) return "ok";
  // append(), not operator+: g++ 12 warns falsely (-Wrestrict) on the latter.
  std::string m = context_;
  m.append(": ");
  m.append(wire_category().message(static_cast<int>(code_)));
  return m;
}

void status::throw_if_error() const {
  if (!ok()) throw wire_error(code_, context_);
}

}  // namespace troupe::wire
