#pragma once
/// The handshake: the first frame each side of a connection sends, so that
/// both know they speak the same protocol before any message flows.
///
/// Layout of the frame payload (docs/nodes.md has it byte by byte):
///   u32 magic "TRP\x01" | u16 version | then, in this version:
///   u8 role | i32 pid | u32 max_frame | 32-byte cookie | string name
/// The magic and the version come first and keep their place in every
/// future version, so a peer of another version is always recognised as
/// such (version_mismatch naming both versions) instead of failing somewhere
/// later in the payload.
///
/// Limits first: this checks the format only (magic, version, role, ranges,
/// name length). Authentication (comparing cookies, SO_PEERCRED, a challenge
/// over TCP) is the transport's job, on the decoded value.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "troupe/wire/codec.hpp"
#include "troupe/wire/error.hpp"

namespace troupe::wire {

/// "TRP\x01" read as a little-endian u32.
inline constexpr std::uint32_t handshake_magic = 0x01505254U;
/// The wire protocol version this build speaks.
inline constexpr std::uint16_t protocol_version = 1;
/// The longest node name a handshake carries.
inline constexpr std::size_t max_peer_name = 255;
/// The smallest max_frame a peer may announce.
inline constexpr std::uint32_t min_peer_max_frame = 1024;

/// Who is speaking.
enum class peer_role : std::uint8_t {
  parent = 1,  ///< a process that spawned the other end
  child = 2,   ///< a process spawned by the other end
  node = 3,    ///< a peer node over the network
};
TROUPE_ENUM_RANGE(peer_role, peer_role::parent, peer_role::node);

/// The decoded handshake.
struct handshake {
  std::uint16_t version = protocol_version;
  peer_role role = peer_role::node;
  std::int32_t pid = 0;  ///< the sender's process id
  /// The largest frame payload the sender accepts; the receiver's
  /// frame_encoder must not exceed it. At least min_peer_max_frame.
  std::uint32_t max_frame = static_cast<std::uint32_t>(default_max_frame);
  /// An opaque secret or nonce for the transport's authentication.
  std::array<std::uint8_t, 32> cookie{};
  /// The sender's node name; at most max_peer_name bytes.
  std::string name;

  /// The fields after magic and version, in wire order.
  TROUPE_FIELDS(role, pid, max_frame, cookie, name);

  friend bool operator==(const handshake&, const handshake&) = default;
};

/// The handshake payload (no frame header). Throws wire_error(invalid_value)
/// when `h` would not pass decode_handshake (name too long, max_frame too
/// small, version other than protocol_version).
[[nodiscard]] std::vector<std::byte> encode_handshake(const handshake& h);

/// Decodes and checks a handshake payload: bad_magic when it is not one;
/// version_mismatch ("peer speaks protocol version 7, this build speaks 1")
/// when its version is not `expected_version`; otherwise the fields' own
/// failures (truncated, bad_enum for the role, length_overflow for the name,
/// invalid_value for max_frame, trailing_bytes). Never throws for bad input.
status decode_handshake(std::span<const std::byte> payload, handshake& out,
                        std::uint16_t expected_version = protocol_version);

}  // namespace troupe::wire
