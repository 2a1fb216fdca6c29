#include "codec.hpp"

// clang-format off
#include <cstdio>    // jpeglib.h needs FILE and size_t first
#include <cstddef>
// clang-format on
#include <jpeglib.h>
#include <png.h>

#include <csetjmp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace imgpipe {

namespace {

// The largest side accepted, as for PPM (image.cpp); the smallest is 2 (the
// resize halves it).
constexpr int kMaxSide = 16384;
constexpr std::size_t kErrorLen = 256;

struct free_deleter {
  void operator()(unsigned char* p) const noexcept { std::free(p); }
};
using c_buffer = std::unique_ptr<unsigned char, free_deleter>;

void set_error(char* error, const char* text) { std::snprintf(error, kErrorLen, "%s", text); }

// ---- libpng --------------------------------------------------------------------------
//
// The error pointer given to libpng is the caller's char[kErrorLen]; the io
// pointer, the caller's struct. The error callback keeps libpng's message
// and longjmps to the setjmp in png_decode_c / png_encode_c (returning
// would make libpng print the message and longjmp itself).

void png_on_error(png_structp png, png_const_charp msg) {
  set_error(static_cast<char*>(png_get_error_ptr(png)), msg);
  png_longjmp(png, 1);
}
void png_on_warning(png_structp /*png*/, png_const_charp /*msg*/) {}  // e.g. a bad gamma chunk

// What png_decode_c reads and fills. On success `px` (malloc'd, rows of
// width * channels bytes) belongs to the caller; on failure it is null.
struct png_decoding {
  const unsigned char* data;
  std::size_t size;
  std::size_t pos;
  int width;
  int height;
  int channels;
  unsigned char* px;
  png_bytep* rows;
  char error[kErrorLen];
};

void png_read_memory(png_structp png, png_bytep out, std::size_t n) {
  auto* d = static_cast<png_decoding*>(png_get_io_ptr(png));
  if (d->size - d->pos < n) png_error(png, "truncated: the file ends early");
  std::memcpy(out, d->data + d->pos, n);
  d->pos += n;
}

// Returns 0, or -1 with d->error set. The png and info pointers are set
// before setjmp and never changed after it; everything else it allocates is
// reached through `d`, and freed on every path.
int png_decode_c(png_decoding* d) {
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, d->error, png_on_error, png_on_warning);
  if (png == nullptr) {
    set_error(d->error, "out of memory");
    return -1;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    set_error(d->error, "out of memory");
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    std::free(d->rows);
    d->rows = nullptr;
    std::free(d->px);
    d->px = nullptr;
    return -1;
  }
  png_set_read_fn(png, d, png_read_memory);
  png_set_user_limits(png, kMaxSide, kMaxSide);
  png_read_info(png, info);
  png_set_expand(png);       // palette -> RGB, 1/2/4-bit gray -> 8-bit, tRNS -> alpha
  png_set_strip_16(png);     // 16-bit samples -> 8
  png_set_strip_alpha(png);  // RGBA -> RGB, gray+alpha -> gray
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  d->width = static_cast<int>(png_get_image_width(png, info));
  d->height = static_cast<int>(png_get_image_height(png, info));
  d->channels = png_get_channels(png, info);
  if (d->width < 2 || d->height < 2) png_error(png, "size out of range (2..16384)");
  if (d->channels != 1 && d->channels != 3) png_error(png, "unexpected channel count");
  const std::size_t stride = png_get_rowbytes(png, info);
  const auto h = static_cast<std::size_t>(d->height);
  d->px = static_cast<unsigned char*>(std::malloc(stride * h));
  d->rows = static_cast<png_bytep*>(std::malloc(h * sizeof(png_bytep)));
  if (d->px == nullptr || d->rows == nullptr) png_error(png, "out of memory");
  for (std::size_t y = 0; y < h; ++y) d->rows[y] = d->px + y * stride;
  png_read_image(png, d->rows);
  png_read_end(png, nullptr);  // the chunks after the pixels, to IEND (CRCs checked)
  png_destroy_read_struct(&png, &info, nullptr);
  std::free(d->rows);
  d->rows = nullptr;
  return 0;
}

// What png_encode_c writes: `out` (malloc'd, `size` bytes) belongs to the
// caller on success; on failure it is null.
struct png_encoding {
  const unsigned char* px;
  int width;
  int height;
  int channels;
  png_bytep* rows;
  unsigned char* out;
  std::size_t size;
  std::size_t cap;
  char error[kErrorLen];
};

void png_write_memory(png_structp png, png_bytep data, std::size_t n) {
  auto* e = static_cast<png_encoding*>(png_get_io_ptr(png));
  if (e->cap - e->size < n) {
    std::size_t cap = e->cap == 0 ? 4096 : e->cap;
    while (cap - e->size < n) cap *= 2;
    auto* grown = static_cast<unsigned char*>(std::realloc(e->out, cap));
    if (grown == nullptr) png_error(png, "out of memory");
    e->out = grown;
    e->cap = cap;
  }
  std::memcpy(e->out + e->size, data, n);
  e->size += n;
}
void png_flush_memory(png_structp /*png*/) {}

int png_encode_c(png_encoding* e) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, e->error, png_on_error, png_on_warning);
  if (png == nullptr) {
    set_error(e->error, "out of memory");
    return -1;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    set_error(e->error, "out of memory");
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::free(e->rows);
    e->rows = nullptr;
    std::free(e->out);
    e->out = nullptr;
    return -1;
  }
  png_set_write_fn(png, e, png_write_memory, png_flush_memory);
  png_set_IHDR(png, info, static_cast<png_uint_32>(e->width), static_cast<png_uint_32>(e->height),
               8, e->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  const auto h = static_cast<std::size_t>(e->height);
  const std::size_t stride =
      static_cast<std::size_t>(e->width) * static_cast<std::size_t>(e->channels);
  e->rows = static_cast<png_bytep*>(std::malloc(h * sizeof(png_bytep)));
  if (e->rows == nullptr) png_error(png, "out of memory");
  // libpng's row type is not const, but writing only reads the rows.
  for (std::size_t y = 0; y < h; ++y) e->rows[y] = const_cast<png_bytep>(e->px + y * stride);
  png_write_info(png, info);
  png_write_image(png, e->rows);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::free(e->rows);
  e->rows = nullptr;
  return 0;
}

// ---- libjpeg-turbo -------------------------------------------------------------------

// libjpeg's error manager, extended with where to jump and the message.
// `mgr` comes first: libjpeg's pointer to it is a pointer to this.
struct jpeg_failure {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char error[JMSG_LENGTH_MAX];
};

void jpeg_on_error(j_common_ptr c) {
  auto* f = reinterpret_cast<jpeg_failure*>(c->err);
  (*c->err->format_message)(c, f->error);
  std::longjmp(f->jump, 1);
}
// A warning (level -1) is corrupt data, e.g. "Premature end of JPEG file":
// libjpeg would go on and make up the missing pixels, so it fails the
// decode. Trace messages (level >= 0) are dropped.
void jpeg_on_message(j_common_ptr c, int level) {
  if (level < 0) jpeg_on_error(c);
}

// What jpeg_decode_c reads and fills; the decompressor and its error
// manager live here, not in jpeg_decode_c's frame (so nothing local to the
// function that calls setjmp changes after it).
struct jpeg_decoding {
  const unsigned char* data;
  std::size_t size;
  int width;
  int height;
  int channels;
  unsigned char* px;
  jpeg_decompress_struct cinfo;
  jpeg_failure fail;
};

int jpeg_decode_c(jpeg_decoding* d) {
  std::memset(&d->cinfo, 0, sizeof d->cinfo);
  d->cinfo.err = jpeg_std_error(&d->fail.mgr);
  d->fail.mgr.error_exit = jpeg_on_error;
  d->fail.mgr.emit_message = jpeg_on_message;
  if (setjmp(d->fail.jump)) {
    jpeg_destroy_decompress(&d->cinfo);  // safe on a zeroed or partly made struct
    std::free(d->px);
    d->px = nullptr;
    return -1;
  }
  jpeg_create_decompress(&d->cinfo);
  jpeg_mem_src(&d->cinfo, d->data, static_cast<unsigned long>(d->size));
  jpeg_read_header(&d->cinfo, TRUE);
  d->cinfo.out_color_space = d->cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  if (d->cinfo.image_width < 2 || d->cinfo.image_height < 2 ||
      d->cinfo.image_width > static_cast<JDIMENSION>(kMaxSide) ||
      d->cinfo.image_height > static_cast<JDIMENSION>(kMaxSide)) {
    std::snprintf(d->fail.error, sizeof d->fail.error, "size out of range (2..16384): %ux%u",
                  d->cinfo.image_width, d->cinfo.image_height);
    std::longjmp(d->fail.jump, 1);
  }
  jpeg_start_decompress(&d->cinfo);
  d->width = static_cast<int>(d->cinfo.output_width);
  d->height = static_cast<int>(d->cinfo.output_height);
  d->channels = d->cinfo.output_components;
  const std::size_t stride =
      static_cast<std::size_t>(d->width) * static_cast<std::size_t>(d->channels);
  d->px = static_cast<unsigned char*>(std::malloc(stride * static_cast<std::size_t>(d->height)));
  if (d->px == nullptr) {
    set_error(d->fail.error, "out of memory");
    std::longjmp(d->fail.jump, 1);
  }
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    JSAMPROW row = d->px + static_cast<std::size_t>(d->cinfo.output_scanline) * stride;
    jpeg_read_scanlines(&d->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&d->cinfo);
  jpeg_destroy_decompress(&d->cinfo);
  return 0;
}

// ---- the C++ side -----------------------------------------------------------------------

std::string decode_png(std::string_view bytes, image& out) {
  auto d = std::make_unique<png_decoding>();
  d->data = reinterpret_cast<const unsigned char*>(bytes.data());
  d->size = bytes.size();
  if (png_decode_c(d.get()) != 0) return std::string("PNG: ") + d->error;
  const c_buffer px(d->px);
  const std::size_t n = static_cast<std::size_t>(d->width) * static_cast<std::size_t>(d->height) *
                        static_cast<std::size_t>(d->channels);
  out.width = d->width;
  out.height = d->height;
  out.channels = d->channels;
  out.px.assign(px.get(), px.get() + n);
  return {};
}

std::string decode_jpeg(std::string_view bytes, image& out) {
  auto d = std::make_unique<jpeg_decoding>();
  d->data = reinterpret_cast<const unsigned char*>(bytes.data());
  d->size = bytes.size();
  if (jpeg_decode_c(d.get()) != 0) return std::string("JPEG: ") + d->fail.error;
  const c_buffer px(d->px);
  const std::size_t n = static_cast<std::size_t>(d->width) * static_cast<std::size_t>(d->height) *
                        static_cast<std::size_t>(d->channels);
  out.width = d->width;
  out.height = d->height;
  out.channels = d->channels;
  out.px.assign(px.get(), px.get() + n);
  return {};
}

std::string hex_start(std::string_view bytes) {
  std::string s;
  char buf[4];
  for (std::size_t i = 0; i < bytes.size() && i < 4; ++i) {
    std::snprintf(buf, sizeof buf, " %02x", static_cast<unsigned char>(bytes[i]));
    s += buf;
  }
  return s;
}

}  // namespace

format sniff(std::string_view b) noexcept {
  static constexpr unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (b.size() >= 8 && std::memcmp(b.data(), kPng, 8) == 0) return format::png;
  if (b.size() >= 3 && static_cast<unsigned char>(b[0]) == 0xff &&
      static_cast<unsigned char>(b[1]) == 0xd8 && static_cast<unsigned char>(b[2]) == 0xff) {
    return format::jpeg;
  }
  if (b.size() >= 3 && b[0] == 'P' && (b[1] == '5' || b[1] == '6') &&
      (b[2] == ' ' || b[2] == '\n' || b[2] == '\r' || b[2] == '\t' || b[2] == '#')) {
    return format::ppm;
  }
  return format::unknown;
}

const char* format_name(format f) noexcept {
  switch (f) {
    case format::png:
      return "PNG";
    case format::jpeg:
      return "JPEG";
    case format::ppm:
      return "PPM";
    case format::unknown:
      break;
  }
  return "unknown";
}

std::string decode_image(std::string_view bytes, image& out) {
  switch (sniff(bytes)) {
    case format::png:
      return decode_png(bytes, out);
    case format::jpeg:
      return decode_jpeg(bytes, out);
    case format::ppm:
      if (std::string why = check_ppm(bytes); !why.empty()) return "PPM: " + why;
      out = decode_ppm(bytes);
      return {};
    case format::unknown:
      break;
  }
  if (bytes.empty()) return "an empty file";
  return "not a PNG, JPEG or PPM file (it starts with" + hex_start(bytes) + ")";
}

image decode_image(std::string_view bytes) {
  image img;
  if (std::string why = decode_image(bytes, img); !why.empty()) {
    throw std::runtime_error("decode: " + why);
  }
  return img;
}

std::string encode_png(const image& img) {
  auto e = std::make_unique<png_encoding>();
  e->px = img.px.data();
  e->width = img.width;
  e->height = img.height;
  e->channels = img.channels;
  if (png_encode_c(e.get()) != 0) throw std::runtime_error(std::string("encode: ") + e->error);
  const c_buffer out(e->out);
  return {reinterpret_cast<const char*>(out.get()), e->size};
}

std::string process(std::string_view encoded, int blur_passes) {
  return encode_png(grayscale(half(blur(decode_image(encoded), blur_passes))));
}

}  // namespace imgpipe
