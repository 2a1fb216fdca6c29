#pragma once
// Image files for the image_pipeline sample: PNG and JPEG decoding and PNG
// encoding, on the reference C decoders, libpng and libjpeg-turbo (Debian's
// libpng-dev and libjpeg62-turbo-dev): every other tool reads files the way
// they do, they are packaged everywhere, and they are fast (libjpeg-turbo's
// SIMD paths, libpng's zlib). Binary PPM/PGM (image.hpp) is read too.
//
// Both libraries report a fatal error by longjmp. Each decoder and the
// encoder run in a small C-style function that calls setjmp, touches only
// plain C data (owned through a caller's struct, freed on every path) and
// returns a status; no C++ object lives in a frame a longjmp skips.
#include <string>
#include <string_view>

#include "image.hpp"

namespace imgpipe {

enum class format { unknown, ppm, png, jpeg };

/// The format of `bytes`, from its magic bytes (never a file name).
format sniff(std::string_view bytes) noexcept;
/// "PNG", "JPEG", "PPM" or "unknown".
const char* format_name(format f) noexcept;

/// Decodes a PNG, JPEG or binary PPM/PGM into an 8-bit image with 1 (gray)
/// or 3 (RGB) channels: a palette is expanded to RGB, 16-bit samples are cut
/// to 8, 1/2/4-bit gray widened to 8, alpha dropped. Returns an empty string
/// and sets `out`, or returns the decoder's reason (e.g. libpng's "Read
/// Error", libjpeg's "Premature end of JPEG file"); `out` is then untouched.
std::string decode_image(std::string_view bytes, image& out);
/// The same; throws std::runtime_error with the reason.
image decode_image(std::string_view bytes);

/// Encodes as an 8-bit gray (1 channel) or RGB (3 channels) PNG. Throws
/// std::runtime_error if libpng fails (out of memory).
std::string encode_png(const image& img);

/// The whole per-image work (decode, blur, resize, grayscale, encode as
/// PNG), in one call: the single-threaded reference.
std::string process(std::string_view encoded, int blur_passes);

}  // namespace imgpipe
