#pragma once
// Images and the image operations of the image_pipeline sample: a
// deterministic generator, PPM/PGM decoding and encoding, blur, resize,
// grayscale, and a checksum (PNG and JPEG files: codec.hpp). Integer arithmetic only, so every
// build and every thread computes the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace imgpipe {

struct image {
  int width = 0;
  int height = 0;
  int channels = 0;              // 3 (RGB) or 1 (gray)
  std::vector<std::uint8_t> px;  // row-major, interleaved channels
};

/// A synthetic picture (gradients, rings and noise), seeded by `index`,
/// encoded as a binary PPM (P6): what a decoder would read from a file.
std::string synthesize_ppm(std::size_t index, int width, int height);

/// Checks that `bytes` is a binary PPM (P6) or PGM (P5) with maxval 255 and
/// returns an empty string, or says what is wrong.
std::string check_ppm(std::string_view bytes);

/// Decodes a binary PPM (P6) or PGM (P5) with maxval 255. Throws
/// std::runtime_error on anything else.
image decode_ppm(std::string_view bytes);

/// A 3x3 box blur (edges clamped), `passes` times.
image blur(image in, int passes);
/// Halves both sides (2x2 box average; an odd last row/column is dropped).
image half(const image& in);
/// Luma, 8-bit: (77 R + 150 G + 29 B) / 256.
image grayscale(const image& in);
/// Encodes as a binary PGM (P5) if gray, PPM (P6) if RGB.
std::string encode(const image& in);

/// 64-bit FNV-1a of `bytes`.
std::uint64_t checksum(std::string_view bytes) noexcept;

}  // namespace imgpipe
