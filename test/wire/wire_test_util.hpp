#pragma once
// Helpers shared by the wire tests.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "troupe/wire.hpp"

namespace troupe::test {

/// Bytes from small integers: bytes_of({1, 0xFF}).
// (Sized up front and filled by index: g++ 12 -O2 warns falsely,
// -Wstringop-overread, on push_back loops into small vectors.)
inline std::vector<std::byte> bytes_of(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out(values.size());
  std::size_t i = 0;
  for (unsigned v : values) out[i++] = std::byte(static_cast<unsigned char>(v));
  return out;
}

/// Appends `more` to `out`.
inline void append(std::vector<std::byte>& out, const std::vector<std::byte>& more) {
  const std::size_t old = out.size();
  out.resize(old + more.size());
  if (!more.empty()) std::memcpy(out.data() + old, more.data(), more.size());
}

/// A frame: u32 little-endian length, then the payload.
inline std::vector<std::byte> framed(const std::vector<std::byte>& payload) {
  std::vector<std::byte> out(4 + payload.size());
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (std::size_t i = 0; i < 4; ++i) out[i] = std::byte(static_cast<unsigned char>(n >> (8 * i)));
  if (!payload.empty()) std::memcpy(out.data() + 4, payload.data(), payload.size());
  return out;
}

/// A frame header alone.
inline std::vector<std::byte> header(std::uint32_t n) {
  return bytes_of({n & 0xFFU, (n >> 8) & 0xFFU, (n >> 16) & 0xFFU, (n >> 24) & 0xFFU});
}

/// Resident set size of this process in bytes (/proc/self/statm).
inline std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

}  // namespace troupe::test
