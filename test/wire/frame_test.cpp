// Framing: the decoder fed arbitrary chunks, the length limits (rejected
// before any allocation), and the coalescing encoder.

#include <catch2/catch.hpp>
#include <cstring>
#include <numeric>
#include <random>
#include <troupe/wire/frame.hpp>

#include "wire_test_util.hpp"

namespace wire = troupe::wire;
using troupe::test::append;
using troupe::test::bytes_of;
using troupe::test::framed;
using troupe::test::header;
using wire::wire_errc;

namespace {

std::vector<std::byte> payload_of(std::size_t n, unsigned seed) {
  std::vector<std::byte> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = std::byte(static_cast<unsigned char>(seed + i * 7));
  return p;
}

// Payloads of many sizes (0, small, around the read size) in one stream.
std::vector<std::vector<std::byte>> sample_payloads() {
  return {payload_of(0, 1),  payload_of(1, 2), payload_of(5, 3),  payload_of(0, 4),
          payload_of(70, 5), payload_of(3, 6), payload_of(200, 7)};
}

std::vector<std::byte> stream_of(const std::vector<std::vector<std::byte>>& payloads) {
  std::vector<std::byte> s;
  for (const auto& p : payloads) append(s, framed(p));
  return s;
}

std::vector<std::vector<std::byte>> drain(wire::frame_decoder& dec) {
  std::vector<std::vector<std::byte>> out;
  while (auto f = dec.next()) out.emplace_back(f->begin(), f->end());
  return out;
}

}  // namespace

TEST_CASE("a frame is a u32 little-endian length and the payload", "[wire][frame]") {
  wire::frame_encoder enc;
  enc.add_bytes(bytes_of({0xAA, 0xBB}));
  CHECK(std::vector<std::byte>(enc.data().begin(), enc.data().end()) ==
        bytes_of({2, 0, 0, 0, 0xAA, 0xBB}));
  wire::frame_decoder dec;
  dec.feed(enc.data());
  const auto f = dec.next();
  REQUIRE(f);
  CHECK(std::vector<std::byte>(f->begin(), f->end()) == bytes_of({0xAA, 0xBB}));
  CHECK_FALSE(dec.next());
  CHECK(dec.ok());
  CHECK(dec.frames() == 1);
  CHECK(dec.buffered() == 0);
}

TEST_CASE("the frame decoder yields the same frames for every split point", "[wire][frame]") {
  const auto payloads = sample_payloads();
  const auto stream = stream_of(payloads);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    wire::frame_decoder dec(wire::default_max_frame, 64);
    std::vector<std::vector<std::byte>> got;
    dec.feed(std::span(stream).first(cut));
    for (auto& f : drain(dec)) got.push_back(std::move(f));
    dec.feed(std::span(stream).subspan(cut));
    for (auto& f : drain(dec)) got.push_back(std::move(f));
    INFO("cut at " << cut);
    REQUIRE(got == payloads);
    REQUIRE(dec.buffered() == 0);
  }
}

TEST_CASE("the frame decoder yields the same frames for every pair of split points",
          "[wire][frame]") {
  const std::vector<std::vector<std::byte>> payloads = {payload_of(0, 1), payload_of(3, 2),
                                                        payload_of(9, 3), payload_of(1, 4)};
  const auto stream = stream_of(payloads);
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      wire::frame_decoder dec(wire::default_max_frame, 64);
      std::vector<std::vector<std::byte>> got;
      for (auto piece : {std::span(stream).first(a), std::span(stream).subspan(a, b - a),
                         std::span(stream).subspan(b)}) {
        dec.feed(piece);
        for (auto& f : drain(dec)) got.push_back(std::move(f));
      }
      REQUIRE(got == payloads);
    }
  }
}

TEST_CASE("the frame decoder takes a stream one byte at a time", "[wire][frame]") {
  const auto payloads = sample_payloads();
  const auto stream = stream_of(payloads);
  wire::frame_decoder dec(wire::default_max_frame, 64);
  std::vector<std::vector<std::byte>> got;
  for (std::byte b : stream) {
    dec.feed(std::span(&b, 1));
    for (auto& f : drain(dec)) got.push_back(std::move(f));
  }
  CHECK(got == payloads);
}

TEST_CASE("prepare and commit read in place, in chunks of any size", "[wire][frame]") {
  std::vector<std::vector<std::byte>> payloads = sample_payloads();
  payloads.push_back(payload_of(100'000, 9));  // larger than the read size: the buffer grows
  payloads.push_back(payload_of(2, 10));
  const auto stream = stream_of(payloads);
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    wire::frame_decoder dec(wire::default_max_frame, 64);
    std::vector<std::vector<std::byte>> got;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      const std::span<std::byte> space = dec.prepare();
      REQUIRE_FALSE(space.empty());
      const std::size_t want = std::uniform_int_distribution<std::size_t>(1, 300)(rng);
      const std::size_t n = std::min({space.size(), want, stream.size() - pos});
      std::memcpy(space.data(), stream.data() + pos, n);
      dec.commit(n);
      pos += n;
      // Memory follows what arrived (the bound documented in frame.hpp).
      REQUIRE(dec.capacity() <= std::max<std::size_t>(4 * 64, 4 * dec.buffered() + 2 * 64));
      for (auto& f : drain(dec)) got.push_back(std::move(f));
    }
    REQUIRE(got == payloads);
  }
}

TEST_CASE("frames stay valid across next() calls until the next feed", "[wire][frame]") {
  wire::frame_decoder dec;
  dec.feed(stream_of({bytes_of({1, 2}), bytes_of({3})}));
  const auto a = dec.next();
  const auto b = dec.next();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(std::vector<std::byte>(a->begin(), a->end()) == bytes_of({1, 2}));
  CHECK(std::vector<std::byte>(b->begin(), b->end()) == bytes_of({3}));
}

TEST_CASE("frame_too_large: a 0xFFFFFFFF header is rejected before any allocation",
          "[wire][frame]") {
  const std::size_t rss_before = troupe::test::resident_bytes();
  wire::frame_decoder dec;
  dec.feed(header(0xFFFFFFFFU));
  CHECK_FALSE(dec.next());
  const std::size_t rss_after = troupe::test::resident_bytes();
  INFO(dec.error().message());
  CHECK_FALSE(dec.ok());
  CHECK(dec.error().code() == wire_errc::frame_too_large);
  CHECK(dec.error().message().find("announces 4294967295 bytes, max_frame is 16777216") !=
        std::string::npos);
  CHECK(dec.capacity() <= wire::default_read_size);
  CHECK(rss_after < rss_before + (std::size_t{1} << 20));
}

TEST_CASE("frame_too_large: max_frame + 1 is rejected, before any allocation", "[wire][frame]") {
  const std::size_t rss_before = troupe::test::resident_bytes();
  wire::frame_decoder dec;
  // The header arrives one byte at a time, then more bytes follow.
  for (std::byte b : header(static_cast<std::uint32_t>(wire::default_max_frame + 1))) {
    dec.feed(std::span(&b, 1));
    CHECK_FALSE(dec.next());
  }
  CHECK(dec.error().code() == wire_errc::frame_too_large);
  const auto space = dec.prepare();  // still usable to drain the socket; bytes are discarded
  CHECK_FALSE(space.empty());
  dec.commit(space.size());
  dec.feed(payload_of(1000, 1));
  CHECK(dec.buffered() <= 4);
  CHECK_FALSE(dec.next());
  CHECK(dec.capacity() <= 2 * wire::default_read_size);
  CHECK(troupe::test::resident_bytes() < rss_before + (std::size_t{1} << 20));

  wire::frame_decoder small(100);
  small.feed(framed(payload_of(101, 0)));
  CHECK_FALSE(small.next());
  CHECK(small.error().code() == wire_errc::frame_too_large);
}

TEST_CASE("a frame of exactly max_frame is accepted", "[wire][frame]") {
  const std::size_t max = wire::default_max_frame;
  const auto payload = payload_of(max, 3);
  wire::frame_decoder dec;
  // As a socket would deliver it: prepare/commit in reads of up to 64 KiB.
  std::vector<std::byte> stream = framed(payload);
  append(stream, framed(bytes_of({9})));
  std::size_t pos = 0;
  std::size_t seen = 0;
  std::size_t peak = 0;
  while (pos < stream.size()) {
    const auto space = dec.prepare();
    const std::size_t n = std::min(space.size(), stream.size() - pos);
    std::memcpy(space.data(), stream.data() + pos, n);
    dec.commit(n);
    pos += n;
    peak = std::max(peak, dec.capacity());
    while (auto f = dec.next()) {
      if (seen == 0) {
        REQUIRE(f->size() == max);
        REQUIRE(std::memcmp(f->data(), payload.data(), max) == 0);
      } else {
        REQUIRE(f->size() == 1);
      }
      ++seen;
    }
  }
  CHECK(dec.ok());
  CHECK(seen == 2);
  CHECK(peak <= max + wire::frame_header_size);
  // Once the large frame is consumed, the buffer shrinks back.
  (void)dec.prepare();
  CHECK(dec.capacity() <= wire::default_read_size);

  wire::frame_decoder small(100);
  small.feed(framed(payload_of(100, 0)));
  CHECK(small.next());
}

TEST_CASE("a large announced frame costs memory only as its bytes arrive", "[wire][frame]") {
  wire::frame_decoder dec;
  dec.feed(header(static_cast<std::uint32_t>(wire::default_max_frame)));
  dec.feed(payload_of(10, 0));
  CHECK_FALSE(dec.next());
  CHECK(dec.ok());
  (void)dec.prepare();
  CHECK(dec.capacity() <= 2 * wire::default_read_size);
}

TEST_CASE("reset() makes a failed decoder fresh", "[wire][frame]") {
  wire::frame_decoder dec(16);
  dec.feed(header(17));
  CHECK_FALSE(dec.next());
  CHECK_FALSE(dec.ok());
  dec.reset();
  CHECK(dec.ok());
  dec.feed(framed(bytes_of({4})));
  CHECK(dec.next());
}

TEST_CASE("max_frame must fit a 32-bit header", "[wire][frame]") {
  CHECK_THROWS_AS(wire::frame_decoder(std::size_t{1} << 32), wire::wire_error);
  CHECK_THROWS_AS(wire::frame_encoder(std::size_t{1} << 32), wire::wire_error);
  CHECK_THROWS_AS(wire::frame_decoder(100, 10), wire::wire_error);
  CHECK_NOTHROW(wire::frame_decoder(wire::max_frame_limit));
}

TEST_CASE("the frame encoder coalesces many messages into one buffer", "[wire][frame]") {
  wire::frame_encoder enc;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    enc.add([i](wire::writer& w) {
      w.fixed(i);
      w.varint(i);
    });
  }
  CHECK(enc.frames() == 1000);
  wire::frame_decoder dec;
  dec.feed(enc.data());
  std::uint32_t expect = 0;
  while (auto f = dec.next()) {
    wire::reader r(*f);
    CHECK(r.fixed<std::uint32_t>() == expect);
    CHECK(r.varint() == expect);
    CHECK(r.complete());
    ++expect;
  }
  CHECK(expect == 1000);

  std::vector<std::byte> spare;
  enc.swap(spare);
  CHECK(enc.empty());
  CHECK(enc.frames() == 0);
  CHECK(spare.size() > 4000);
}

TEST_CASE("a frame over max_frame is refused while encoding and rolled back", "[wire][frame]") {
  wire::frame_encoder enc(8);
  enc.add_bytes(bytes_of({1, 2, 3}));
  const std::size_t before = enc.size();
  try {
    enc.add([](wire::writer& w) {
      for (int i = 0; i < 9; ++i) w.byte(1);
    });
    FAIL("no throw");
  } catch (const wire::wire_error& e) {
    CHECK(e.kind() == wire_errc::frame_too_large);
  }
  CHECK(enc.size() == before);
  CHECK(enc.frames() == 1);
  CHECK_THROWS_AS(enc.add_bytes(payload_of(9, 0)), wire::wire_error);
  enc.add_bytes(payload_of(8, 0));  // exactly max_frame
  CHECK(enc.frames() == 2);
  // An exception from the payload writer rolls back too.
  CHECK_THROWS_AS(enc.add([](wire::writer& w) {
    w.byte(1);
    throw std::runtime_error("x");
  }),
                  std::runtime_error);
  CHECK(enc.frames() == 2);
  CHECK(enc.size() == before + 4 + 8);
}

TEST_CASE("the frame encoder frames registered messages", "[wire][frame]") {
  struct ping {
    std::uint32_t seq = 0;
    TROUPE_FIELDS(seq);
  };
  wire::registry reg;
  reg.add<ping>("test.frame.ping");
  wire::frame_encoder enc;
  enc.add_message(ping{41}, reg);
  enc.add_message(wire::any_message(ping{42}, reg));
  wire::frame_decoder dec;
  dec.feed(enc.data());
  for (std::uint32_t seq : {41U, 42U}) {
    const auto f = dec.next();
    REQUIRE(f);
    wire::any_message m;
    REQUIRE(wire::decode_message(*f, m, {}, reg).ok());
    CHECK(m.get<ping>().seq == seq);
  }
}
