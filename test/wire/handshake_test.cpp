// The handshake: layout, version and magic checks, field checks.

#include <catch2/catch.hpp>
#include <troupe/wire/handshake.hpp>

#include "wire_test_util.hpp"

namespace wire = troupe::wire;
using troupe::test::bytes_of;
using wire::wire_errc;

namespace {

wire::handshake sample(wire::peer_role role) {
  wire::handshake h;
  h.role = role;
  h.pid = 4242;
  h.max_frame = 1 << 20;
  for (std::size_t i = 0; i < h.cookie.size(); ++i) h.cookie[i] = static_cast<std::uint8_t>(i * 3);
  h.name = "node-a";
  return h;
}

wire::status decode(const std::vector<std::byte>& b,
                    std::uint16_t version = wire::protocol_version) {
  wire::handshake h;
  return wire::decode_handshake(b, h, version);
}

}  // namespace

TEST_CASE("a handshake round-trips for every role", "[wire][handshake]") {
  for (auto role : {wire::peer_role::parent, wire::peer_role::child, wire::peer_role::node}) {
    const wire::handshake h = sample(role);
    const auto b = wire::encode_handshake(h);
    wire::handshake out;
    const wire::status s = wire::decode_handshake(b, out);
    INFO(s.message());
    REQUIRE(s.ok());
    CHECK(out == h);
  }
}

TEST_CASE("a handshake starts with the magic and the version", "[wire][handshake]") {
  const auto b = wire::encode_handshake(sample(wire::peer_role::child));
  REQUIRE(b.size() == 4 + 2 + 1 + 4 + 4 + 32 + 1 + 6);
  CHECK(std::vector<std::byte>(b.begin(), b.begin() + 7) ==
        bytes_of({'T', 'R', 'P', 1, wire::protocol_version, 0, 2}));
}

TEST_CASE("bad_magic: a payload that is not a troupe handshake", "[wire][handshake]") {
  auto b = wire::encode_handshake(sample(wire::peer_role::node));
  b[0] = std::byte{'G'};
  const wire::status s = decode(b);
  INFO(s.message());
  CHECK(s.code() == wire_errc::bad_magic);
  CHECK(s.message().find("magic 0x01505247, expected 0x01505254") != std::string::npos);
}

TEST_CASE("version_mismatch names both versions", "[wire][handshake]") {
  auto b = wire::encode_handshake(sample(wire::peer_role::node));
  b[4] = std::byte{7};
  const wire::status s = decode(b);
  INFO(s.message());
  CHECK(s.code() == wire_errc::version_mismatch);
  CHECK(s.message().find("peer speaks protocol version 7, this build speaks 1") !=
        std::string::npos);
  // A peer whose layout after the version differs is still identified by version.
  std::vector<std::byte> future = bytes_of({'T', 'R', 'P', 1, 2, 0, 0xEE});
  CHECK(decode(future).code() == wire_errc::version_mismatch);
  CHECK(decode(wire::encode_handshake(sample(wire::peer_role::node)), 2).code() ==
        wire_errc::version_mismatch);
}

TEST_CASE("every truncated handshake is refused", "[wire][handshake]") {
  const auto b = wire::encode_handshake(sample(wire::peer_role::parent));
  for (std::size_t n = 0; n < b.size(); ++n) {
    const wire::status s =
        decode(std::vector<std::byte>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)));
    INFO("prefix " << n << ": " << s.message());
    CHECK((s.code() == wire_errc::truncated || s.code() == wire_errc::length_overflow));
  }
}

TEST_CASE("the handshake's fields are checked", "[wire][handshake]") {
  auto b = wire::encode_handshake(sample(wire::peer_role::node));
  auto role = b;
  role[6] = std::byte{9};
  CHECK(decode(role).code() == wire_errc::bad_enum);
  role[6] = std::byte{0};
  CHECK(decode(role).code() == wire_errc::bad_enum);

  auto trailing = b;
  trailing.push_back(std::byte{0});
  CHECK(decode(trailing).code() == wire_errc::trailing_bytes);

  wire::handshake h = sample(wire::peer_role::node);
  h.max_frame = 2048;
  auto small = wire::encode_handshake(h);
  small[11] = std::byte{0};  // max_frame 2048 -> 0
  small[12] = std::byte{0};
  const wire::status s = decode(small);
  INFO(s.message());
  CHECK(s.code() == wire_errc::invalid_value);
  CHECK(s.message().find("at .max_frame") != std::string::npos);

  // A name over 255 bytes, crafted by hand (the encoder refuses it).
  std::vector<std::byte> long_name(b.begin(), b.end() - 7);
  long_name.push_back(std::byte{0x80});
  long_name.push_back(std::byte{0x02});  // 256
  long_name.resize(long_name.size() + 256, std::byte{'n'});
  CHECK(decode(long_name).code() == wire_errc::length_overflow);
}

TEST_CASE("the handshake encoder refuses what the decoder would refuse", "[wire][handshake]") {
  wire::handshake h = sample(wire::peer_role::node);
  h.name = std::string(256, 'x');
  CHECK_THROWS_AS(wire::encode_handshake(h), wire::wire_error);
  h = sample(wire::peer_role::node);
  h.max_frame = 10;
  CHECK_THROWS_AS(wire::encode_handshake(h), wire::wire_error);
  h = sample(wire::peer_role::node);
  h.version = 9;
  CHECK_THROWS_AS(wire::encode_handshake(h), wire::wire_error);
  h = sample(wire::peer_role::node);
  h.role = static_cast<wire::peer_role>(0);
  CHECK_THROWS_AS(wire::encode_handshake(h), wire::wire_error);
}
