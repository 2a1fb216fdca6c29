// libFuzzer target: handshake decoding. Beyond "no crash, no sanitizer
// report": a failure is a status with a message; a handshake that decodes
// re-encodes to exactly the input (the encoding is canonical).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "troupe/wire/handshake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = troupe::wire;
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  wire::handshake h;
  const wire::status s = wire::decode_handshake(input, h);
  if (!s.ok()) {
    if (s.message().empty()) std::abort();
    return 0;
  }
  const std::vector<std::byte> again = wire::encode_handshake(h);
  if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
  return 0;
}
