#include "troupe/wire/frame.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace troupe::wire {

using detail::cat;

namespace {

void check_max_frame(const char* who, std::size_t max_frame) {
  if (max_frame > max_frame_limit) {
    throw wire_error(wire_errc::invalid_value, cat(who, ": max_frame ", max_frame,
                                                   " exceeds what a 32-bit header can express"));
  }
}

std::size_t load_u32(const std::byte* p) noexcept {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < frame_header_size; ++i) {
    v |= std::to_integer<std::uint32_t>(p[i]) << (8 * i);
  }
  return v;
}

// A buffer over this multiple of read_size (and over twice what is needed)
// is shrunk.
constexpr std::size_t shrink_factor = 4;

}  // namespace

// ---- frame_decoder -------------------------------------------------------------

frame_decoder::frame_decoder(std::size_t max_frame, std::size_t read_size)
    : max_frame_(max_frame), read_size_(read_size) {
  check_max_frame("frame_decoder", max_frame);
  if (read_size < 64) {
    throw wire_error(wire_errc::invalid_value,
                     cat("frame_decoder: read_size ", read_size, " is below 64 bytes"));
  }
}

frame_decoder::~frame_decoder() = default;
frame_decoder::frame_decoder(frame_decoder&&) noexcept = default;
frame_decoder& frame_decoder::operator=(frame_decoder&&) noexcept = default;

std::size_t frame_decoder::space_target() const noexcept {
  // How many bytes, counted from head_, the buffer should hold once the next
  // read completes. Never driven by an unchecked header: only a header within
  // max_frame makes it grow toward that frame, and then by at most doubling
  // what has actually arrived.
  const std::size_t avail = tail_ - head_;
  if (avail >= frame_header_size) {
    const std::size_t len = load_u32(buf_.get() + head_);
    if (len <= max_frame_) {
      const std::size_t total = frame_header_size + len;
      if (avail < total) return std::min(total, std::max(2 * avail, avail + read_size_));
    }
  }
  // Room for one read (doubling if the caller lets complete frames pile up).
  return std::max(avail + read_size_, 2 * avail);
}

void frame_decoder::make_room(std::size_t target) {
  const std::size_t avail = tail_ - head_;
  // A buffer left large by an earlier frame is given back (reallocated to
  // the target) once what it holds needs much less.
  const bool oversized = cap_ > std::max(shrink_factor * read_size_, 2 * target);
  if (!oversized) {
    if (cap_ - head_ >= target) return;  // fits after head_ already
    if (cap_ >= target) {                // fits once the unread bytes move to the front
      if (avail != 0) std::memmove(buf_.get(), buf_.get() + head_, avail);
      head_ = 0;
      tail_ = avail;
      return;
    }
  }
  auto fresh = std::make_unique_for_overwrite<std::byte[]>(target);
  if (avail != 0) std::memcpy(fresh.get(), buf_.get() + head_, avail);
  buf_ = std::move(fresh);
  cap_ = target;
  head_ = 0;
  tail_ = avail;
}

std::span<std::byte> frame_decoder::prepare() {
  if (head_ == tail_) head_ = tail_ = 0;
  if (!ok()) {
    // Failed: give space to read into, which commit() discards.
    make_room(read_size_);
    return {buf_.get(), cap_};
  }
  make_room(space_target());
  return {buf_.get() + tail_, cap_ - tail_};
}

void frame_decoder::commit(std::size_t n) {
  if (!ok()) return;
  tail_ += std::min(n, cap_ - tail_);
}

void frame_decoder::feed(std::span<const std::byte> bytes) {
  if (!ok() || bytes.empty()) return;
  if (head_ == tail_) head_ = tail_ = 0;
  // One copy for the whole piece: the caller already holds this much.
  const std::size_t avail = tail_ - head_;
  make_room(std::max(space_target(), avail + bytes.size()));
  std::memcpy(buf_.get() + tail_, bytes.data(), bytes.size());
  tail_ += bytes.size();
}

std::optional<std::span<const std::byte>> frame_decoder::next() {
  if (!ok()) return std::nullopt;
  const std::size_t avail = tail_ - head_;
  if (avail < frame_header_size) return std::nullopt;
  const std::size_t len = load_u32(buf_.get() + head_);
  if (len > max_frame_) {
    error_ = status(wire_errc::frame_too_large,
                    cat("frame header at stream byte ", offset_, " announces ", len,
                        " bytes, max_frame is ", max_frame_));
    return std::nullopt;
  }
  if (len > avail - frame_header_size) return std::nullopt;
  const std::span<const std::byte> payload(buf_.get() + head_ + frame_header_size, len);
  head_ += frame_header_size + len;
  offset_ += frame_header_size + len;
  ++frames_;
  return payload;
}

void frame_decoder::reset() noexcept {
  buf_.reset();
  cap_ = head_ = tail_ = 0;
  frames_ = 0;
  offset_ = 0;
  error_ = status();
}

// ---- frame_encoder -------------------------------------------------------------

frame_encoder::frame_encoder(std::size_t max_frame, const limits& bounds)
    : max_frame_(max_frame), bounds_(bounds) {
  check_max_frame("frame_encoder", max_frame);
}

void frame_encoder::finish_frame(std::size_t start) noexcept {
  // The writer stopped at max_frame_ <= 0xFFFFFFFF bytes, so this fits.
  const auto len = static_cast<std::uint32_t>(buf_.size() - start - frame_header_size);
  for (std::size_t i = 0; i < frame_header_size; ++i) {
    buf_[start + i] = std::byte(static_cast<unsigned char>(len >> (8 * i)));
  }
  ++frames_;
}

void frame_encoder::add_message(const any_message& msg) {
  add([&msg](writer& w) { write_message(w, msg); });
}

void frame_encoder::add_bytes(std::span<const std::byte> payload) {
  if (payload.size() > max_frame_) {
    throw wire_error(wire_errc::frame_too_large, cat("frame_encoder: payload of ", payload.size(),
                                                     " bytes exceeds max_frame ", max_frame_));
  }
  add([payload](writer& w) { w.bytes(payload); });
}

}  // namespace troupe::wire
