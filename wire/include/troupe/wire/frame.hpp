#pragma once
/// Framing: `[u32 little-endian payload length][payload]` on a byte stream.
///
/// Limits first:
///   - A payload is at most `max_frame` bytes (default 16 MiB, at most
///     0xFFFFFFFF). A longer length header is refused as soon as its 4 bytes
///     are in (frame_too_large), before anything is allocated for it; a
///     header of exactly max_frame is accepted.
///   - The decoder's memory follows the bytes actually received, not the
///     header: a frame's buffer grows by at most doubling as its bytes
///     arrive, so a peer that announces 16 MiB and sends 10 bytes costs one
///     read buffer (`read_size`, default 64 KiB). After prepare() or feed(),
///     capacity() is at most max(4 * read_size, 4 * buffered() + 2 *
///     read_size) and never more than the frame in progress needs; a buffer
///     left large by a consumed frame shrinks back.
///   - After a failure the decoder stays failed: the stream is out of sync,
///     so the connection must be closed (log error().message()).
///
/// Socket use, zero-copy (asio-style prepare/commit):
/// @code
///   frame_decoder dec;                       // per connection
///   std::span<std::byte> space = dec.prepare();
///   std::size_t n = read(fd, space.data(), space.size());
///   dec.commit(n);
///   while (auto payload = dec.next()) handle(*payload);
///   if (!dec.ok()) close_connection(dec.error().message());
/// @endcode
/// Writing: a frame_encoder collects many frames in one buffer, written with
/// one write() (the transport batches small messages this way).
/// @note Not thread-safe: one decoder and one encoder per connection direction.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "troupe/wire/error.hpp"
#include "troupe/wire/limits.hpp"
#include "troupe/wire/message.hpp"
#include "troupe/wire/writer.hpp"

namespace troupe::wire {

/// Bytes of a frame header.
inline constexpr std::size_t frame_header_size = 4;
/// The largest max_frame a 32-bit header can express.
inline constexpr std::size_t max_frame_limit = 0xFFFFFFFFU;
/// The decoder's default read buffer.
inline constexpr std::size_t default_read_size = std::size_t{64} << 10;

/// Splits a byte stream, fed in arbitrary pieces, into frame payloads.
class frame_decoder {
 public:
  /// Frames of at most `max_frame` payload bytes; reads of about `read_size`
  /// bytes. Throws wire_error(invalid_value) if max_frame > max_frame_limit
  /// or read_size < 64.
  explicit frame_decoder(std::size_t max_frame = default_max_frame,
                         std::size_t read_size = default_read_size);
  ~frame_decoder();
  frame_decoder(frame_decoder&&) noexcept;
  frame_decoder& operator=(frame_decoder&&) noexcept;
  frame_decoder(const frame_decoder&) = delete;
  frame_decoder& operator=(const frame_decoder&) = delete;

  /// Writable space for the next read (never empty). Invalidates the spans
  /// returned by next(). Its size follows the growth rule above: about
  /// read_size, more while a large frame is arriving.
  [[nodiscard]] std::span<std::byte> prepare();
  /// Marks the first `n` bytes of the last prepare() as received.
  /// Precondition: n <= that span's size. Ignored after a failure.
  void commit(std::size_t n);
  /// Copies `bytes` in (prepare + copy + commit, as often as needed).
  /// Invalidates the spans returned by next(). Ignored after a failure.
  void feed(std::span<const std::byte> bytes);

  /// The next complete frame's payload, or nullopt when more bytes are
  /// needed or the stream failed (check ok()). The span points into the
  /// decoder and stays valid until the next prepare(), feed(), reset() or
  /// destruction; later next() calls do not move it.
  [[nodiscard]] std::optional<std::span<const std::byte>> next();

  /// False after a failure (a header over max_frame).
  [[nodiscard]] bool ok() const noexcept { return error_.ok(); }
  /// The failure, with a message naming the numbers.
  [[nodiscard]] const status& error() const noexcept { return error_; }

  /// Bytes received and not yet returned by next().
  [[nodiscard]] std::size_t buffered() const noexcept { return tail_ - head_; }
  /// Bytes of buffer currently allocated.
  [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
  /// Frames returned by next() so far.
  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }
  [[nodiscard]] std::size_t max_frame() const noexcept { return max_frame_; }

  /// Drops all bytes and any failure: back to a fresh decoder.
  void reset() noexcept;

 private:
  std::size_t space_target() const noexcept;
  void make_room(std::size_t target);

  std::unique_ptr<std::byte[]> buf_;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;  // first byte not yet returned
  std::size_t tail_ = 0;  // end of received bytes
  std::size_t max_frame_;
  std::size_t read_size_;
  std::uint64_t frames_ = 0;
  std::uint64_t offset_ = 0;  // stream offset of head_, for messages
  status error_;
};

/// Collects frames in one buffer, to be written with one write.
class frame_encoder {
 public:
  /// Payloads of at most `max_frame` bytes (the peer's limit; the handshake
  /// carries it), encoded under `bounds`. Throws wire_error(invalid_value) if
  /// max_frame > max_frame_limit.
  explicit frame_encoder(std::size_t max_frame = default_max_frame, const limits& bounds = {});

  /// Appends a frame whose payload `write_payload(writer&)` writes. If it
  /// throws (including frame_too_large, raised as soon as the payload would
  /// pass max_frame), the buffer is rolled back to before this frame and the
  /// exception propagates.
  template <class Fn>
  void add(Fn&& write_payload) {
    const std::size_t start = buf_.size();
    buf_.resize(start + frame_header_size);
    try {
      writer w(buf_, bounds_, max_frame_);
      w.set_context(context_);
      std::forward<Fn>(write_payload)(w);
    } catch (...) {
      buf_.resize(start);
      throw;
    }
    finish_frame(start);
  }

  /// Appends a frame holding `[u64 id][body]` of a registered message.
  template <class T>
  void add_message(const T& msg, const registry& reg = registry::global()) {
    add([&](writer& w) { write_message(w, msg, reg); });
  }
  /// Appends a frame holding the message in `msg`.
  void add_message(const any_message& msg);
  /// Appends a frame with `payload` as it is.
  void add_bytes(std::span<const std::byte> payload);

  /// The frames so far, ready for one write.
  [[nodiscard]] std::span<const std::byte> data() const noexcept { return buf_; }
  [[nodiscard]] std::size_t size() const noexcept { return buf_.size(); }
  [[nodiscard]] bool empty() const noexcept { return buf_.empty(); }
  /// Frames added since the last clear() or swap().
  [[nodiscard]] std::size_t frames() const noexcept { return frames_; }
  [[nodiscard]] std::size_t max_frame() const noexcept { return max_frame_; }

  /// The writers of later frames get `c` as their context (writer::context).
  void set_context(void* c) noexcept { context_ = c; }

  /// Forgets the frames, keeps the capacity.
  void clear() noexcept {
    buf_.clear();
    frames_ = 0;
  }
  /// Exchanges the buffer with `other` (hand the bytes to an in-flight
  /// write, get the previous write's buffer back) and starts over with
  /// `other`'s old contents cleared.
  void swap(std::vector<std::byte>& other) noexcept {
    buf_.swap(other);
    clear();
  }

 private:
  void finish_frame(std::size_t start) noexcept;

  std::vector<std::byte> buf_;
  std::size_t max_frame_;
  limits bounds_;
  void* context_ = nullptr;
  std::size_t frames_ = 0;
};

}  // namespace troupe::wire
