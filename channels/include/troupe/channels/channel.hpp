#pragma once
/// troupe channels: typed, multi-producer multi-consumer queues between
/// threads and tasks (Go's channels, with close and select).
///
/// Limits first:
/// - T must be nothrow move-constructible and nothrow destructible.
/// - Order is FIFO per channel; among several blocked receivers (or
///   senders) the one that gets the next value is unspecified.
/// - Each operation comes in three forms. On a plain thread, `send()` and
///   `recv()` block. In a troupe task, `co_await tx.send(v)` and
///   `co_await rx.recv()` suspend the task and never block its worker. On a
///   pool worker outside a task (a plain actor handler) an operation that
///   would have to wait throws errc::would_block_worker, like
///   future::get(), where the operation is made; `try_send()`/`try_recv()`
///   never wait anywhere. In a task, an operation that had to wait and is
///   dropped without co_await fails the task (errc::would_block_worker) at
///   its next channel wait or its return.
/// - The handles (sender, receiver) must outlive the operations made
///   from them (normally the full expression `co_await tx.send(v)`).
/// - A send that times out or fails destroys its value; `try_send` leaves
///   the value with the caller when it does not send.
///
/// Closing: `tx.close()` (or the destruction of the last sender) closes
/// the channel; receivers get what is buffered, then the end (`nullopt`,
/// recv_status::closed, the end of a range-for). A send on a closed channel
/// throws errc::channel_closed naming the cause; so does a send once every
/// receiver is gone (the channel closes then too). Closing wakes every
/// blocked sender (they throw) and receiver (they drain, then see the end).
/// A second close() does nothing and returns false.
///
/// Memory ordering: everything a thread did before sending a value
/// happens-before the receipt of that value.

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <optional>
#include <utility>

#include "troupe/actors/coro/detail/waiter.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/send_result.hpp"
#include "troupe/channels/detail/channel_core.hpp"
#include "troupe/channels/detail/select_engine.hpp"

namespace troupe {

/// Tag: make_channel<T>(troupe::unbounded).
struct unbounded_t {
  explicit unbounded_t() = default;
};
inline constexpr unbounded_t unbounded{};

/// Outcome of try_recv / recv_for.
enum class recv_status : unsigned char {
  ok,       ///< a value was received
  empty,    ///< try_recv: nothing to receive now
  timeout,  ///< recv_for: nothing before the deadline
  closed,   ///< closed and drained: nothing will ever come
};

/// A received value, or why there is none. `if (auto r = rx.try_recv())`.
template <class T>
class recv_result {
 public:
  recv_result() = default;
  explicit recv_result(recv_status s) noexcept : status_(s) {}
  explicit recv_result(T&& v) : status_(recv_status::ok), value_(std::move(v)) {}

  [[nodiscard]] recv_status status() const noexcept { return status_; }
  [[nodiscard]] bool has_value() const noexcept { return status_ == recv_status::ok; }
  explicit operator bool() const noexcept { return has_value(); }
  T& operator*() & noexcept { return *value_; }
  T&& operator*() && noexcept { return std::move(*value_); }
  T* operator->() noexcept { return &*value_; }
  /// The value; throws errc::invalid_argument if there is none.
  T& value() & {
    check();
    return *value_;
  }
  T&& value() && {
    check();
    return std::move(*value_);
  }
  /// The value as an optional (nullopt unless ok).
  std::optional<T> take() && { return std::move(value_); }

 private:
  void check() const {
    if (!has_value()) {
      throw error(errc::invalid_argument, "recv_result::value: no value (status is not ok)");
    }
  }
  recv_status status_ = recv_status::empty;
  std::optional<T> value_;
};

template <class T>
class sender;
template <class T>
class receiver;

namespace detail::chan {

template <class T>
class handle_base {
 public:
  handle_base() noexcept = default;
  explicit handle_base(channel<T>* c) noexcept : ch_(c) {}

  [[nodiscard]] explicit operator bool() const noexcept { return ch_ != nullptr; }
  /// True once the channel is closed (values may still be buffered).
  [[nodiscard]] bool closed() const noexcept { return ch_ != nullptr && ch_->closed(); }
  /// Approximate number of buffered values.
  [[nodiscard]] std::size_t size() const noexcept { return ch_ != nullptr ? ch_->size() : 0; }
  /// 0 for a rendezvous channel; SIZE_MAX for an unbounded one.
  [[nodiscard]] std::size_t capacity() const noexcept {
    return ch_ != nullptr ? ch_->capacity() : 0;
  }
  friend bool operator==(const handle_base& a, const handle_base& b) noexcept {
    return a.ch_ == b.ch_;
  }

  [[nodiscard]] channel<T>* state() const noexcept { return ch_; }

 protected:
  channel<T>* checked(const char* op) const {
    if (ch_ == nullptr) throw_empty_handle(op);
    return ch_;
  }
  channel<T>* ch_ = nullptr;
};

// The part of recv_op/send_op that waits: one arm, its spec, and (in a
// task) the coroutine engine. Built only when the operation cannot complete
// at once, so the fast path stays small.
template <class Arm>
class op_wait {
 public:
  template <class... A>
  explicit op_wait(std::optional<clock::time_point> deadline, A&&... a) noexcept
      : op(std::forward<A>(a)...) {
    arms_[0] = &op;
    locks_[0] = op.ch;
    spec.arms = arms_;
    spec.n = 1;
    spec.locks = locks_;
    spec.nlocks = 1;
    spec.deadline = deadline;
  }
  op_wait(const op_wait&) = delete;
  op_wait& operator=(const op_wait&) = delete;
  op_wait(op_wait&&) = delete;
  op_wait& operator=(op_wait&&) = delete;
  ~op_wait() = default;

  Arm op;  // the operation's one arm
  select_spec spec;
  std::optional<coro_select> engine;

 private:
  arm* arms_[1] = {nullptr};
  channel_base* locks_[1] = {nullptr};
};

#if defined(__GNUC__)
#define TROUPE_CHANNELS_NOINLINE __attribute__((noinline))
#else
#define TROUPE_CHANNELS_NOINLINE
#endif

/// What recv_op and send_op share: the wait when the operation cannot
/// complete at once (a deadline check, a brief spin on a buffered channel,
/// then one arm parked on the channel), and the awaitable. `Op` provides
/// `bool retry(channel<T>*)` (one more non-blocking attempt; true if it
/// completed), `void timed_out()`, `void settle(const select_outcome&)` (the
/// parked arm's outcome) and `Arm make_arm-args` through wait()'s pack.
template <class Op, class Arm>
class channel_op {
 public:
  channel_op(const channel_op&) = delete;
  channel_op& operator=(const channel_op&) = delete;
  channel_op(channel_op&&) = delete;
  channel_op& operator=(channel_op&&) = delete;

  bool await_ready() const noexcept { return !pending_.pending(); }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    pending_.awaited();
    wait_->engine.emplace(wait_->spec);
    return wait_->engine->start(context_of(h), h);
  }

 protected:
  explicit channel_op(const char* name) noexcept : name_(name) {}
  ~channel_op() { pending_.end(name_); }

  template <class Ch, class... ArmArgs>
  TROUPE_CHANNELS_NOINLINE void wait(Ch* ch, std::optional<clock::time_point> deadline,
                                     ArmArgs... arm_args) {
    Op& self = static_cast<Op&>(*this);
    if (deadline && clock::now() >= *deadline) {
      self.timed_out();
      return;
    }
    if (must_not_block()) {
      pending_.begin(name_);  // throws errc::would_block_worker outside a task
      wait_.emplace(deadline, ch, arm_args...);
      return;
    }
    // A buffered channel often has room or a value within a microsecond or
    // two: retry briefly before registering and parking (yielding here
    // instead costs more than parking on a loaded machine). Not on a
    // rendezvous channel, where only a registered party can be met.
    if (ch->flavour() != kind::zero) {
      for (backoff b; !b.spun();) {
        b.spin();
        if (self.retry(ch)) return;
        if (deadline && clock::now() >= *deadline) {
          self.timed_out();
          return;
        }
      }
    }
    wait_.emplace(deadline, ch, arm_args...);
    select_outcome out;
    select_blocking(wait_->spec, out);
    self.settle(out);
  }

  /// From await_resume: settles the outcome of the suspended wait.
  void resume_settle() {
    if (wait_ && wait_->engine) {
      static_cast<Op&>(*this).settle(wait_->engine->result());
      wait_->engine.reset();
    }
  }
  /// Before reading the outcome without co_await: a pending operation
  /// (in a task) cannot complete on this thread.
  void check_not_pending() {
    if (pending_.pending()) {
      pending_.settled();
      throw_would_block(name_);
    }
  }

  std::optional<op_wait<Arm>> wait_;
  const char* name_;
  pending_state pending_;
};

/// A receive: blocking on a thread (completed when constructed), awaitable
/// in a task. Yields std::optional<T> (Timed: recv_result<T>).
template <class T, bool Timed>
class [[nodiscard]] recv_op : public channel_op<recv_op<T, Timed>, recv_arm<T>> {
  using base = channel_op<recv_op<T, Timed>, recv_arm<T>>;
  friend base;

 public:
  using result_type = std::conditional_t<Timed, recv_result<T>, std::optional<T>>;

  recv_op(channel<T>* ch, std::optional<clock::time_point> deadline, const char* name)
      : base(name) {
    if (!retry(ch)) this->wait(ch, deadline, true);
  }
  recv_op(const recv_op&) = delete;
  recv_op& operator=(const recv_op&) = delete;
  recv_op(recv_op&&) = delete;
  recv_op& operator=(recv_op&&) = delete;
  ~recv_op() = default;

  result_type await_resume() {
    this->resume_settle();
    return take_result();
  }

  // ---- on a thread: the completed receive ----
  /// The result; throws errc::would_block_worker if it would have to wait.
  result_type get() {
    this->check_not_pending();
    return take_result();
  }
  // NOLINTNEXTLINE(google-explicit-constructor): `std::optional<T> v = rx.recv();`
  operator result_type() { return get(); }
  [[nodiscard]] recv_status status() const noexcept { return status_; }
  [[nodiscard]] bool has_value() const noexcept { return status_ == recv_status::ok; }
  explicit operator bool() const noexcept { return has_value(); }
  T& operator*() noexcept { return *value_; }
  T* operator->() noexcept { return &*value_; }

 private:
  bool retry(channel<T>* ch) {
    switch (ch->try_recv(value_)) {
      case op_result::ok:
        status_ = recv_status::ok;
        return true;
      case op_result::closed:
        status_ = recv_status::closed;
        return true;
      case op_result::blocked:
        break;
    }
    return false;
  }
  void timed_out() noexcept { status_ = recv_status::timeout; }
  void settle(const select_outcome& out) {
    using w = select_outcome::what;
    this->pending_.settled();
    switch (out.kind) {
      case w::fired:
        if (this->wait_->op.value) {
          value_ = std::move(this->wait_->op.value);
          status_ = recv_status::ok;
        } else {
          status_ = recv_status::closed;
        }
        return;
      case w::timeout:
        status_ = recv_status::timeout;
        return;
      case w::cancelled:
        throw_cancelled(this->name_);
      default:
        status_ = recv_status::closed;
        return;
    }
  }
  result_type take_result() {
    if constexpr (Timed) {
      if (status_ == recv_status::ok) return recv_result<T>(std::move(*value_));
      return recv_result<T>(status_);
    } else {
      return std::move(value_);
    }
  }

  std::optional<T> value_;
  recv_status status_ = recv_status::empty;
};

/// A send: blocking on a thread, awaitable in a task. Untimed: yields void
/// and throws errc::channel_closed; Timed: yields send_result.
template <class T, bool Timed>
class send_op : public channel_op<send_op<T, Timed>, send_arm<T>> {
  using base = channel_op<send_op<T, Timed>, send_arm<T>>;
  friend base;

 public:
  using result_type = std::conditional_t<Timed, send_result, void>;

  send_op(channel<T>* ch, T&& v, std::optional<clock::time_point> deadline, const char* name)
      : base(name), value_(std::move(v)) {
    if (!retry(ch)) this->wait(ch, deadline, &value_);
  }
  send_op(const send_op&) = delete;
  send_op& operator=(const send_op&) = delete;
  send_op(send_op&&) = delete;
  send_op& operator=(send_op&&) = delete;
  ~send_op() = default;

  result_type await_resume() {
    this->resume_settle();
    if constexpr (Timed) return status_;
  }

  /// On a thread: the outcome (throws errc::would_block_worker if the send
  /// would have to wait).
  [[nodiscard]] send_result status() {
    this->check_not_pending();
    return status_;
  }
  // NOLINTNEXTLINE(google-explicit-constructor): `send_result s = tx.send_for(v, d);`
  operator send_result() { return status(); }

 private:
  bool retry(channel<T>* ch) {
    switch (ch->try_send(value_)) {
      case op_result::ok:
        status_ = send_result::ok;
        return true;
      case op_result::closed:
        closed(*ch);
        return true;
      case op_result::blocked:
        break;
    }
    return false;
  }
  void timed_out() noexcept { status_ = send_result::timeout; }
  void closed(const channel_base& ch) {
    status_ = send_result::closed;
    if constexpr (!Timed) throw_send_closed(this->name_, ch);
  }
  void settle(const select_outcome& out) {
    using w = select_outcome::what;
    this->pending_.settled();
    switch (out.kind) {
      case w::fired:
        status_ = send_result::ok;
        return;
      case w::timeout:
        status_ = send_result::timeout;
        return;
      case w::cancelled:
        throw_cancelled(this->name_);
      default:
        closed(*this->wait_->op.ch);
        return;
    }
  }

  T value_;
  send_result status_ = send_result::ok;
};

template <class T>
std::pair<sender<T>, receiver<T>> make_pair_of(channel<T>* c) noexcept;

}  // namespace detail::chan

template <class T, class F>
class recv_case;
template <class T, class F>
class send_case;

/// The sending end of a channel. Copying a sender clones it (one more
/// producer); the channel closes when the last sender is destroyed.
/// Member functions are @threadsafe; one handle object may be used by
/// several threads at once (copies are cheaper: no shared cache line).
template <class T>
class sender : public detail::chan::handle_base<T> {
  using base = detail::chan::handle_base<T>;

 public:
  using value_type = T;

  /// An empty sender; using it throws errc::invalid_argument.
  sender() noexcept = default;
  sender(const sender& o) noexcept : base(o.ch_) {
    if (this->ch_ != nullptr) this->ch_->add_sender();
  }
  sender(sender&& o) noexcept : base(std::exchange(o.ch_, nullptr)) {}
  sender& operator=(sender o) noexcept {
    std::swap(this->ch_, o.ch_);
    return *this;
  }
  ~sender() {
    if (this->ch_ != nullptr) this->ch_->drop_sender();
  }

  /// Another sender of the same channel.
  [[nodiscard]] sender clone() const noexcept { return *this; }

  /// Sends `v`, waiting for room (or, on a rendezvous channel, for a
  /// receiver). On a thread: blocks. In a task: `co_await tx.send(v)`.
  /// Throws errc::channel_closed if the channel is closed or every receiver
  /// is gone (then `v` is destroyed).
  detail::chan::send_op<T, false> send(T v) const {
    return {this->checked("sender::send"), std::move(v), std::nullopt, "sender::send"};
  }

  /// As send(), giving up after `d`: yields send_result ok, timeout or closed.
  template <class Rep, class Period>
  detail::chan::send_op<T, true> send_for(T v, std::chrono::duration<Rep, Period> d) const {
    return {this->checked("sender::send_for"), std::move(v),
            detail::chan::clock::now() + std::chrono::ceil<detail::chan::clock::duration>(d),
            "sender::send_for"};
  }
  /// As send(), giving up at the steady-clock time `t`.
  template <class Duration>
  detail::chan::send_op<T, true> send_until(
      T v, std::chrono::time_point<std::chrono::steady_clock, Duration> t) const {
    return {this->checked("sender::send_until"), std::move(v),
            std::chrono::time_point_cast<detail::chan::clock::duration>(t), "sender::send_until"};
  }

  /// Sends if that needs no waiting: ok, full or closed. Moves from `v`
  /// only when it returns ok.
  send_result try_send(T&& v) const {
    switch (this->checked("sender::try_send")->try_send(v)) {
      case detail::chan::op_result::ok:
        return send_result::ok;
      case detail::chan::op_result::blocked:
        return send_result::full;
      case detail::chan::op_result::closed:
        break;
    }
    return send_result::closed;
  }
  send_result try_send(const T& v) const {
    T copy(v);
    return try_send(std::move(copy));
  }

  /// Closes the channel (see the header comment). True if this call closed
  /// it; a second close() does nothing and returns false.
  bool close() const { return this->checked("sender::close")->close(false); }

  /// True once every receiver is gone (sends then fail).
  [[nodiscard]] bool receivers_gone() const noexcept {
    return this->ch_ != nullptr && this->ch_->receivers_gone();
  }

  /// A select arm that sends `v`, then calls `f()`.
  template <class F>
  send_case<T, std::decay_t<F>> on(T v, F&& f) const {
    return {this->checked("sender::on"), std::move(v), std::forward<F>(f)};
  }

 private:
  friend std::pair<sender<T>, receiver<T>> detail::chan::make_pair_of<T>(
      detail::chan::channel<T>*) noexcept;
  explicit sender(detail::chan::channel<T>* c) noexcept : base(c) {}
};

/// The receiving end of a channel. Copying a receiver clones it (one more
/// consumer; each value goes to exactly one receiver). Member functions are
/// @threadsafe.
template <class T>
class receiver : public detail::chan::handle_base<T> {
  using base = detail::chan::handle_base<T>;

 public:
  using value_type = T;

  receiver() noexcept = default;
  receiver(const receiver& o) noexcept : base(o.ch_) {
    if (this->ch_ != nullptr) this->ch_->add_receiver();
  }
  receiver(receiver&& o) noexcept : base(std::exchange(o.ch_, nullptr)) {}
  receiver& operator=(receiver o) noexcept {
    std::swap(this->ch_, o.ch_);
    return *this;
  }
  ~receiver() {
    if (this->ch_ != nullptr) this->ch_->drop_receiver();
  }

  [[nodiscard]] receiver clone() const noexcept { return *this; }

  /// Receives one value, waiting for one. Yields std::optional<T>: nullopt
  /// once the channel is closed and drained. On a thread it blocks
  /// (`std::optional<T> v = rx.recv();`); in a task,
  /// `while (auto v = co_await rx.recv())`.
  detail::chan::recv_op<T, false> recv() const {
    return {this->checked("receiver::recv"), std::nullopt, "receiver::recv"};
  }

  /// As recv(), giving up after `d`: yields recv_result<T> (ok, timeout or closed).
  template <class Rep, class Period>
  detail::chan::recv_op<T, true> recv_for(std::chrono::duration<Rep, Period> d) const {
    return {this->checked("receiver::recv_for"),
            detail::chan::clock::now() + std::chrono::ceil<detail::chan::clock::duration>(d),
            "receiver::recv_for"};
  }
  template <class Duration>
  detail::chan::recv_op<T, true> recv_until(
      std::chrono::time_point<std::chrono::steady_clock, Duration> t) const {
    return {this->checked("receiver::recv_until"),
            std::chrono::time_point_cast<detail::chan::clock::duration>(t), "receiver::recv_until"};
  }

  /// Receives if a value is there: ok, empty or closed (closed and drained).
  recv_result<T> try_recv() const {
    std::optional<T> v;
    switch (this->checked("receiver::try_recv")->try_recv(v)) {
      case detail::chan::op_result::ok:
        return recv_result<T>(std::move(*v));
      case detail::chan::op_result::blocked:
        return recv_result<T>(recv_status::empty);
      case detail::chan::op_result::closed:
        break;
    }
    return recv_result<T>(recv_status::closed);
  }

  /// A select arm that receives a value and calls `f(value)`. If `f` takes
  /// std::optional<T>, a closed and drained channel also completes the arm,
  /// with nullopt; otherwise such an arm is skipped.
  template <class F>
  recv_case<T, std::decay_t<F>> on(F&& f) const {
    return {this->checked("receiver::on"), std::forward<F>(f)};
  }

  /// Blocking iteration on a thread: `for (T v : rx)` ends when the channel
  /// is closed and drained. Not in tasks (use co_await recv()).
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const receiver* rx) : rx_(rx) { advance(); }
    T& operator*() const noexcept { return *cur_; }
    T* operator->() const noexcept { return &*cur_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    friend bool operator==(const iterator& i, std::default_sentinel_t /*unused*/) noexcept {
      return !i.cur_.has_value();
    }

   private:
    void advance() { cur_ = rx_->recv().get(); }
    const receiver* rx_ = nullptr;
    mutable std::optional<T> cur_;
  };
  iterator begin() const { return iterator(this); }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  friend std::pair<sender<T>, receiver<T>> detail::chan::make_pair_of<T>(
      detail::chan::channel<T>*) noexcept;
  explicit receiver(detail::chan::channel<T>* c) noexcept : base(c) {}
};

namespace detail::chan {
template <class T>
std::pair<sender<T>, receiver<T>> make_pair_of(channel<T>* c) noexcept {
  return {sender<T>(c), receiver<T>(c)};
}
}  // namespace detail::chan

/// A channel of capacity `capacity`: 0 is a rendezvous (a send waits for a
/// receiver), N > 0 buffers up to N values. Returns {sender, receiver}.
/// Throws errc::invalid_argument naming the capacity if it exceeds 2^40
/// (detail::chan::kMaxCapacity; a negative int converted to size_t does) or
/// its buffer cannot be allocated.
template <class T>
std::pair<sender<T>, receiver<T>> make_channel(std::size_t capacity) {
  using detail::chan::kind;
  return detail::chan::make_pair_of(
      detail::chan::channel<T>::create(capacity == 0 ? kind::zero : kind::ring, capacity));
}

/// An unbounded channel: sends never wait (they may allocate).
template <class T>
std::pair<sender<T>, receiver<T>> make_channel(unbounded_t /*unused*/) {
  return detail::chan::make_pair_of(
      detail::chan::channel<T>::create(detail::chan::kind::list, static_cast<std::size_t>(-1)));
}

}  // namespace troupe
