#pragma once
/// troupe error codes and the exception type that carries them.
///
/// Expected outcomes (a full channel, a closed mailbox) are values elsewhere;
/// this header is for failures: a future that cannot produce its value, a
/// spawn after shutdown, a peer that vanished. Every failure is a
/// `troupe::error`, a `std::system_error` whose code is in `troupe_category()`
/// and whose what() names the operation and the cause.

#include <string>
#include <system_error>

namespace troupe {

/// Failure codes. One line per enumerator says when it is produced.
enum class errc : int {
  handler_threw = 1,   ///< the handler of an ask threw; the message carries type and what()
  actor_dead,          ///< the target actor had stopped or failed before the message ran
  timeout,             ///< get(timeout) or an operation with a deadline expired
  mailbox_full,        ///< a bounded mailbox refused the message
  peer_lost,           ///< the process or host holding the actor went away
  system_shutdown,     ///< the system is shutting down or gone
  broken_promise,      ///< the producer of a future was destroyed without a result
  future_retrieved,    ///< get() was already called on this future, or it is empty
  would_block_worker,  ///< a blocking call was made on a pool worker thread
  channel_closed,      ///< a channel operation found the channel closed
  cancelled,           ///< the operation was cancelled (stop_token, timer cancel)
  invalid_argument,    ///< an argument was out of range (zero workers, ...)
};

/// The last enumerator of errc.
inline constexpr errc errc_last = errc::invalid_argument;
/// True if `v` is the value of an enumerator of errc (a byte from a peer
/// must pass this before it becomes an errc).
constexpr bool is_errc(int v) noexcept {
  return v >= static_cast<int>(errc::handler_threw) && v <= static_cast<int>(errc_last);
}

/// The category of troupe::errc ("troupe").
const std::error_category& troupe_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), troupe_category()};
}

/// A troupe failure: code() is a troupe::errc, what() is
/// "<operation>: <code message>[: <cause>]".
class error : public std::system_error {
 public:
  error(errc code, const std::string& what_arg)
      : std::system_error(make_error_code(code), what_arg) {}

  /// The troupe error code.
  [[nodiscard]] errc value() const noexcept { return static_cast<errc>(code().value()); }
};

}  // namespace troupe

template <>
struct std::is_error_code_enum<troupe::errc> : std::true_type {};
