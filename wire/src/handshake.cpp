#include "troupe/wire/handshake.hpp"

#include <cstdio>
#include <string>

#include "troupe/wire/reader.hpp"
#include "troupe/wire/writer.hpp"

namespace troupe::wire {

using detail::cat;

namespace {

// A handshake is small and flat: tight bounds.
limits handshake_limits() {
  limits l;
  l.max_depth = 4;
  l.max_string = max_peer_name;
  l.max_elements = 64;
  return l;
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(v));
  return buf;
}

}  // namespace

std::vector<std::byte> encode_handshake(const handshake& h) {
  if (h.version != protocol_version) {
    throw wire_error(wire_errc::invalid_value,
                     cat("encode_handshake: version ", h.version,
                         ", but this build writes only protocol version ", protocol_version));
  }
  if (h.name.size() > max_peer_name) {
    throw wire_error(wire_errc::invalid_value, cat("encode_handshake: name of ", h.name.size(),
                                                   " bytes exceeds ", max_peer_name));
  }
  if (h.max_frame < min_peer_max_frame) {
    throw wire_error(wire_errc::invalid_value, cat("encode_handshake: max_frame ", h.max_frame,
                                                   " is below ", min_peer_max_frame));
  }
  std::vector<std::byte> out;
  writer w(out, handshake_limits());
  w.fixed(handshake_magic);
  w.fixed(protocol_version);
  write_value(w, h);
  return out;
}

status decode_handshake(std::span<const std::byte> payload, handshake& out,
                        std::uint16_t expected_version) {
  reader r(payload, handshake_limits());
  const auto magic = r.fixed<std::uint32_t>();
  if (r.ok() && magic != handshake_magic) {
    r.fail(wire_errc::bad_magic, cat("magic ", hex32(magic), ", expected ", hex32(handshake_magic),
                                     ": the peer is not speaking troupe's protocol"));
  }
  const auto version = r.ok() ? r.fixed<std::uint16_t>() : std::uint16_t{0};
  if (r.ok() && version != expected_version) {
    r.fail(wire_errc::version_mismatch,
           cat("peer speaks protocol version ", version, ", this build speaks ", expected_version));
  }
  if (r.ok()) {
    out.version = version;
    read_value(r, out);
  }
  if (r.ok() && out.max_frame < min_peer_max_frame) {
    r.fail(wire_errc::invalid_value,
           cat("max_frame ", out.max_frame, " is below ", min_peer_max_frame));
    r.note(".max_frame");
  }
  if (r.complete()) return {};
  return r.result("decode handshake");
}

}  // namespace troupe::wire
