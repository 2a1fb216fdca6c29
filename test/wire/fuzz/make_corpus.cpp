// Writes the seed corpus of the fuzz targets:
//   wire_fuzz_make_corpus <dir>    -> <dir>/frame/*, <dir>/handshake/*
// Deterministic: the same files every run. Frame inputs start with the mode
// byte of fuzz_frame.cpp (0 = the stream at once, 1..127 = chunks of that
// size, +0x80 = prepare/commit).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_types.hpp"
#include "samples.hpp"
#include "troupe/wire.hpp"

namespace {

namespace fs = std::filesystem;
namespace wire = troupe::wire;
using bytes = std::vector<std::byte>;

fs::path out_dir;
int written = 0;

void write_file(const std::string& sub, const std::string& name, const bytes& b) {
  const fs::path dir = out_dir / sub;
  fs::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ++written;
}

bytes header(std::uint32_t n) {
  bytes b;
  for (int i = 0; i < 4; ++i) b.push_back(std::byte(static_cast<unsigned char>(n >> (8 * i))));
  return b;
}

bytes frame(const bytes& payload) {
  bytes b = header(static_cast<std::uint32_t>(payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

void frame_input(const std::string& name, std::uint8_t mode, const bytes& stream) {
  bytes b{std::byte{mode}};
  b.insert(b.end(), stream.begin(), stream.end());
  write_file("frame", name, b);
}

bytes concat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bytes id_of(std::string_view name) {
  bytes b;
  wire::writer w(b);
  w.fixed(wire::message_id_of(name));
  return b;
}

bytes raw(std::initializer_list<unsigned> v) {
  bytes b;
  for (unsigned x : v) b.push_back(std::byte(static_cast<unsigned char>(x)));
  return b;
}

void frames() {
  const wire::registry& reg = troupe::fuzz::fuzz_registry();
  troupe::fuzz::sampler s(7);
  const char* kinds[] = {"scalars", "containers", "sums", "tree", "expr", "hashed"};

  // Valid frames of every type, delivered three ways.
  bytes all;
  for (std::size_t k = 0; k < 6; ++k) {
    const bytes msg = s.message(k, reg);
    const bytes f = frame(msg);
    all = concat({all, f});
    frame_input(std::string("valid_") + kinds[k], 0, f);
    frame_input(std::string("valid_") + kinds[k] + "_bytewise", 1, f);
    frame_input(std::string("valid_") + kinds[k] + "_inplace7", 0x87, f);
    // Cut inside the payload: a truncated frame, then a truncated body.
    const bytes cut(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(f.size() / 2));
    frame_input(std::string("truncated_frame_") + kinds[k], 0, cut);
    const bytes short_body(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(msg.size() - 1));
    frame_input(std::string("truncated_body_") + kinds[k], 0, frame(short_body));
  }
  frame_input("valid_stream_all", 0, all);
  frame_input("valid_stream_all_chunks13", 13, all);
  frame_input("valid_stream_all_inplace", 0x80, all);

  // Headers at and over the limit (fuzz_frame.cpp uses max_frame 4096).
  frame_input("oversize_ffffffff", 0, header(0xFFFFFFFFU));
  frame_input("oversize_max_plus_1", 0, concat({header(4097), bytes(16, std::byte{0})}));
  frame_input("exact_max", 0x80, frame(bytes(4096, std::byte{0x41})));
  frame_input("empty_frame", 0, frame({}));
  frame_input("header_only_partial", 1, raw({0x10, 0x00}));

  // Well-framed bodies that fail in each way.
  const bytes scalars_id = id_of(troupe::fuzz::scalars_name);
  const bytes containers_id = id_of(troupe::fuzz::containers_name);
  const bytes sums_id = id_of(troupe::fuzz::sums_name);
  frame_input("unknown_type", 0, frame(concat({id_of("no.such.type"), raw({1, 2, 3})})));
  frame_input("short_type_id", 0, frame(raw({1, 2, 3})));
  frame_input("bad_bool", 0, frame(concat({scalars_id, raw({7})})));
  frame_input("bad_varint", 0,
              frame(concat({containers_id, raw({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                                0x80, 0x80, 0x01})})));
  frame_input("nonminimal_varint", 0, frame(concat({containers_id, raw({0x80, 0x00})})));
  frame_input("length_overflow", 0, frame(concat({containers_id, raw({0xFF, 0x7F, 'a'})})));
  frame_input("count_overflow", 0,
              frame(concat({containers_id, raw({0, 0xFF, 0x7F, 1, 0, 0, 0})})));
  frame_input("bad_optional_tag", 0, frame(concat({sums_id, raw({5})})));
  frame_input("bad_variant_index", 0, frame(concat({sums_id, raw({0, 0, 9})})));
  frame_input("trailing_bytes", 0, frame(concat({s.message(3, reg), raw({0})})));

  // A tree nested past the depth limit (each level: empty label, one kid).
  bytes deep = id_of(troupe::fuzz::tree_name);
  for (int i = 0; i < 100; ++i) deep = concat({deep, raw({0, 1})});
  deep = concat({deep, raw({0, 0})});
  frame_input("deep_tree", 0, frame(deep));
  // And an expr nested through its variant.
  bytes deep_expr = id_of(troupe::fuzz::expr_name);
  for (int i = 0; i < 100; ++i) deep_expr = concat({deep_expr, raw({1, 1})});
  frame_input("deep_expr", 0, frame(deep_expr));

  // A map with one entry, and the same map with its key repeated.
  troupe::fuzz::containers c;
  c.m = {{"k", 1}};
  frame_input("valid_map", 0, frame(wire::encode_message(c, {}, reg)));
  const bytes entry = raw({1, 'k', 1, 0, 0, 0, 0, 0, 0, 0});
  frame_input("duplicate_key", 0,
              frame(concat({containers_id, raw({0, 0, 0, 0, 0, 0, 0}), bytes(6, std::byte{0}),
                            raw({0, 0, 2}), entry, entry, raw({0, 0})})));
  // Valid frames, then a header over the limit.
  frame_input("valid_then_oversize", 0, concat({frame(s.message(0, reg)), header(0x7FFFFFFF)}));
}

void handshakes() {
  wire::handshake h;
  h.pid = 1234;
  h.max_frame = 1 << 20;
  for (std::size_t i = 0; i < h.cookie.size(); ++i) h.cookie[i] = static_cast<std::uint8_t>(i);
  h.name = "node-1";
  for (auto role : {wire::peer_role::parent, wire::peer_role::child, wire::peer_role::node}) {
    h.role = role;
    write_file("handshake", "valid_role" + std::to_string(static_cast<int>(role)),
               wire::encode_handshake(h));
  }
  h.name = std::string(255, 'n');
  write_file("handshake", "valid_long_name", wire::encode_handshake(h));
  h.name = "x";
  const bytes good = wire::encode_handshake(h);

  bytes b = good;
  b[0] = std::byte{'X'};
  write_file("handshake", "bad_magic", b);
  b = good;
  b[4] = std::byte{2};
  write_file("handshake", "version_2", b);
  b = good;
  b[6] = std::byte{9};
  write_file("handshake", "bad_role", b);
  b = good;
  b.push_back(std::byte{0});
  write_file("handshake", "trailing_byte", b);
  b = good;
  b[11] = b[12] = b[13] = b[14] = std::byte{0};
  write_file("handshake", "small_max_frame", b);
  b = good;
  b[47] = std::byte{0x7F};
  write_file("handshake", "name_overflow", b);
  for (std::size_t n : {0U, 3U, 5U, 7U, 20U, 47U}) {
    write_file("handshake", "truncated_" + std::to_string(n),
               bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  frames();
  handshakes();
  std::printf("wrote %d corpus files under %s\n", written, out_dir.string().c_str());
  return 0;
}
