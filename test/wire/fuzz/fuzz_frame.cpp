// libFuzzer target: a byte stream through the frame decoder, and each frame
// through the message decoder (every built-in codec, via fuzz_types.hpp).
//
// Input: byte 0 picks how the stream is delivered (low 7 bits: chunk size,
// 0 = all at once; high bit: prepare/commit instead of feed); the rest is the
// stream. Checks, beyond "no crash, no sanitizer report":
//   - frames never exceed max_frame; the decoder's memory follows the bytes
//     it holds (the bound documented in frame.hpp);
//   - a failed decode is a status with a message and leaves no value;
//   - a decoded message re-encodes, and that encoding decodes and re-encodes
//     to the same bytes; for types without maps or sets the first
//     re-encoding equals the input (the encoding is canonical).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_types.hpp"
#include "troupe/wire.hpp"

namespace {

namespace wire = troupe::wire;

constexpr std::size_t kMaxFrame = 4096;
constexpr std::size_t kReadSize = 64;

void require(bool ok) {
  if (!ok) std::abort();
}

std::vector<std::byte> reencode(const wire::any_message& m, const wire::limits& lim) {
  std::vector<std::byte> out;
  wire::writer w(out, lim);
  wire::write_message(w, m);
  return out;
}

void check_message(std::span<const std::byte> payload) {
  const wire::registry& reg = troupe::fuzz::fuzz_registry();
  const wire::limits lim;
  wire::any_message m;
  const wire::status s = wire::decode_message(payload, m, lim, reg);
  if (!s.ok()) {
    require(!m.has_value());
    require(!s.message().empty());
    return;
  }
  const std::vector<std::byte> b1 = reencode(m, lim);
  wire::any_message m2;
  require(wire::decode_message(b1, m2, lim, reg).ok());
  require(reencode(m2, lim) == b1 || m.is<troupe::fuzz::hashed>());
  const bool canonical =
      m.is<troupe::fuzz::scalars>() || m.is<troupe::fuzz::tree>() || m.is<troupe::fuzz::expr>();
  if (canonical) {
    require(b1.size() == payload.size() && std::memcmp(b1.data(), payload.data(), b1.size()) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  const std::size_t chunk =
      (mode & 0x7FU) == 0 ? std::max<std::size_t>(stream.size(), 1) : (mode & 0x7FU);
  const bool in_place = (mode & 0x80U) != 0;

  wire::frame_decoder dec(kMaxFrame, kReadSize);
  while (!stream.empty()) {
    std::size_t n = std::min(chunk, stream.size());
    if (in_place) {
      const std::span<std::byte> space = dec.prepare();
      require(!space.empty());
      n = std::min(n, space.size());
      std::memcpy(space.data(), stream.data(), n);
      dec.commit(n);
    } else {
      dec.feed(stream.first(n));
    }
    stream = stream.subspan(n);
    // Memory follows what arrived (the bound documented in frame.hpp).
    require(dec.capacity() <= std::max(4 * kReadSize, 4 * dec.buffered() + 2 * kReadSize));
    while (auto payload = dec.next()) {
      require(payload->size() <= kMaxFrame);
      check_message(*payload);
    }
    if (!dec.ok()) {
      require(dec.error().code() == wire::wire_errc::frame_too_large);
      require(!dec.error().message().empty());
      break;
    }
  }
  return 0;
}
