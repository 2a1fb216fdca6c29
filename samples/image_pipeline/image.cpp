#include "image.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>

namespace imgpipe {

namespace {

std::string header(char kind, int w, int h) {
  return std::string("P") + kind + "\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
}

// Reads the header of a P5/P6 file; returns the offset of the pixels.
struct parsed {
  int channels = 0;
  int width = 0;
  int height = 0;
  std::size_t offset = 0;
  std::string error;
};

parsed parse_header(std::string_view b) {
  parsed p;
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) {
    p.error = "not a binary PPM/PGM (P6/P5) file";
    return p;
  }
  p.channels = b[1] == '6' ? 3 : 1;
  std::size_t pos = 2;
  int fields[3] = {0, 0, 0};
  for (int& f : fields) {
    // Skip whitespace and comments.
    while (pos < b.size()) {
      if (b[pos] == '#') {
        while (pos < b.size() && b[pos] != '\n') ++pos;
      } else if (b[pos] == ' ' || b[pos] == '\n' || b[pos] == '\r' || b[pos] == '\t') {
        ++pos;
      } else {
        break;
      }
    }
    const auto [end, ec] = std::from_chars(b.data() + pos, b.data() + b.size(), f);
    if (ec != std::errc{}) {
      p.error = "bad header";
      return p;
    }
    pos = static_cast<std::size_t>(end - b.data());
  }
  if (pos >= b.size()) {
    p.error = "truncated header";
    return p;
  }
  ++pos;  // the single whitespace after maxval
  p.width = fields[0];
  p.height = fields[1];
  if (fields[2] != 255) {
    p.error = "maxval must be 255";
  } else if (p.width < 2 || p.height < 2 || p.width > 16384 || p.height > 16384) {
    p.error = "size out of range (2..16384)";
  } else if (b.size() - pos < static_cast<std::size_t>(p.width) *
                                  static_cast<std::size_t>(p.height) *
                                  static_cast<std::size_t>(p.channels)) {
    p.error = "truncated pixel data";
  }
  p.offset = pos;
  return p;
}

}  // namespace

std::string synthesize_ppm(std::size_t index, int width, int height) {
  std::string out = header('6', width, height);
  const std::size_t off = out.size();
  out.resize(off + static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
  std::uint32_t rng = 2463534242U ^ static_cast<std::uint32_t>(index * 2654435761U);
  const int cx = static_cast<int>((index * 37) % static_cast<std::size_t>(width));
  const int cy = static_cast<int>((index * 53) % static_cast<std::size_t>(height));
  std::size_t i = off;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      rng ^= rng << 13;
      rng ^= rng >> 17;
      rng ^= rng << 5;
      const int dx = x - cx;
      const int dy = y - cy;
      const int ring = ((dx * dx + dy * dy) >> 6) & 0xff;
      const int noise = static_cast<int>(rng & 0x3f);
      out[i++] = static_cast<char>((x * 255 / width + noise) & 0xff);
      out[i++] = static_cast<char>((y * 255 / height + ring) & 0xff);
      out[i++] = static_cast<char>((ring ^ static_cast<int>(index * 29)) & 0xff);
    }
  }
  return out;
}

std::string check_ppm(std::string_view bytes) { return parse_header(bytes).error; }

image decode_ppm(std::string_view bytes) {
  const parsed p = parse_header(bytes);
  if (!p.error.empty()) throw std::runtime_error("decode: " + p.error);
  image img;
  img.width = p.width;
  img.height = p.height;
  img.channels = p.channels;
  const auto n = static_cast<std::size_t>(p.width) * static_cast<std::size_t>(p.height) *
                 static_cast<std::size_t>(p.channels);
  img.px.assign(reinterpret_cast<const std::uint8_t*>(bytes.data()) + p.offset,
                reinterpret_cast<const std::uint8_t*>(bytes.data()) + p.offset + n);
  return img;
}

image blur(image in, int passes) {
  const int w = in.width;
  const int h = in.height;
  const int c = in.channels;
  image out = in;
  for (int pass = 0; pass < passes; ++pass) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int k = 0; k < c; ++k) {
          int sum = 0;
          for (int dy = -1; dy <= 1; ++dy) {
            const int yy = std::clamp(y + dy, 0, h - 1);
            for (int dx = -1; dx <= 1; ++dx) {
              const int xx = std::clamp(x + dx, 0, w - 1);
              sum += in.px[(static_cast<std::size_t>(yy) * static_cast<std::size_t>(w) +
                            static_cast<std::size_t>(xx)) *
                               static_cast<std::size_t>(c) +
                           static_cast<std::size_t>(k)];
            }
          }
          out.px[(static_cast<std::size_t>(y) * static_cast<std::size_t>(w) +
                  static_cast<std::size_t>(x)) *
                     static_cast<std::size_t>(c) +
                 static_cast<std::size_t>(k)] = static_cast<std::uint8_t>((sum + 4) / 9);
        }
      }
    }
    std::swap(in, out);
  }
  return in;
}

image half(const image& in) {
  image out;
  out.width = in.width / 2;
  out.height = in.height / 2;
  out.channels = in.channels;
  const auto c = static_cast<std::size_t>(in.channels);
  const auto w = static_cast<std::size_t>(in.width);
  out.px.resize(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height) * c);
  std::size_t o = 0;
  for (std::size_t y = 0; y < static_cast<std::size_t>(out.height); ++y) {
    for (std::size_t x = 0; x < static_cast<std::size_t>(out.width); ++x) {
      for (std::size_t k = 0; k < c; ++k) {
        const std::size_t a = ((2 * y) * w + 2 * x) * c + k;
        const std::size_t b = ((2 * y + 1) * w + 2 * x) * c + k;
        const unsigned sum = 0U + in.px[a] + in.px[a + c] + in.px[b] + in.px[b + c];
        out.px[o++] = static_cast<std::uint8_t>((sum + 2) / 4);
      }
    }
  }
  return out;
}

image grayscale(const image& in) {
  if (in.channels == 1) return in;
  image out;
  out.width = in.width;
  out.height = in.height;
  out.channels = 1;
  const std::size_t n = static_cast<std::size_t>(in.width) * static_cast<std::size_t>(in.height);
  out.px.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned r = in.px[3 * i];
    const unsigned g = in.px[3 * i + 1];
    const unsigned b = in.px[3 * i + 2];
    out.px[i] = static_cast<std::uint8_t>((77 * r + 150 * g + 29 * b) >> 8);
  }
  return out;
}

std::string encode(const image& in) {
  std::string out = header(in.channels == 1 ? '5' : '6', in.width, in.height);
  out.append(reinterpret_cast<const char*>(in.px.data()), in.px.size());
  return out;
}

std::uint64_t checksum(std::string_view bytes) noexcept {
  std::uint64_t h = 14695981039346656037ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace imgpipe
