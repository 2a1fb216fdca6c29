#pragma once
/// troupe::actor_addr: an untyped handle to an actor.
///
/// What `down` and `exit_msg` carry to say which actor exited, and what the
/// registry can return without knowing the type. Like ref<A> it keeps the
/// actor's cell reachable (not the actor alive), is cheap to copy (one
/// atomic increment), comparable and hashable; an actor_addr and a ref<A>
/// to the same actor compare equal. It cannot send: convert it back with
/// as<A>(), which checks the type. All member functions are @threadsafe.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <typeinfo>
#include <utility>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/error.hpp"

namespace troupe {

template <class A>
class ref;

namespace detail {
[[noreturn]] void throw_wrong_type(const char* op, const char* actual, const std::string& wanted);
}

class actor_addr {
 public:
  /// An empty address (compares equal only to other empty ones).
  actor_addr() noexcept = default;
  actor_addr(const actor_addr& o) noexcept : c_(o.c_) {
    if (c_) c_->add_ref();
  }
  actor_addr(actor_addr&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  actor_addr& operator=(const actor_addr& o) noexcept {
    actor_addr(o).swap(*this);
    return *this;
  }
  actor_addr& operator=(actor_addr&& o) noexcept {
    actor_addr(std::move(o)).swap(*this);
    return *this;
  }
  ~actor_addr() {
    if (c_) c_->release();
  }
  void swap(actor_addr& o) noexcept { std::swap(c_, o.c_); }

  /// The address of the actor `r` refers to.
  template <class A>
  actor_addr(const ref<A>& r) noexcept  // NOLINT(google-explicit-constructor): a ref is an address
      : actor_addr(static_cast<detail::cell*>(r.cell_ptr())) {}

  /// For the runtime: wraps `c`, adding a reference.
  explicit actor_addr(detail::cell* c) noexcept : c_(c) {
    if (c_) c_->add_ref();
  }

  /// The actor's id (as ref<A>::id()); 0 when empty.
  [[nodiscard]] std::uint64_t id() const noexcept { return c_ ? c_->id() : 0; }
  /// The actor's type, demangled ("my::Worker"); "" when empty.
  [[nodiscard]] const char* type_name() const noexcept { return c_ ? c_->type_name() : ""; }
  /// True once the actor has terminated for good (a hint).
  [[nodiscard]] bool terminated() const noexcept { return c_ == nullptr || c_->terminated(); }

  /// True if the actor is an `A`.
  template <class A>
  [[nodiscard]] bool is() const noexcept {
    return c_ != nullptr && c_->type() == typeid(A);
  }
  /// A typed ref to the actor: empty if this address is empty; throws
  /// troupe::error(errc::invalid_argument) naming both types if the actor
  /// is not an `A`.
  template <class A>
  [[nodiscard]] ref<A> as() const {
    if (c_ == nullptr) return ref<A>();
    if (c_->type() != typeid(A)) {
      detail::throw_wrong_type("actor_addr::as<A>", c_->type_name(), detail::type_name<A>());
    }
    return ref<A>(c_);
  }

  explicit operator bool() const noexcept { return c_ != nullptr; }
  friend bool operator==(const actor_addr& a, const actor_addr& b) noexcept { return a.c_ == b.c_; }
  friend auto operator<=>(const actor_addr& a, const actor_addr& b) noexcept {
    return std::compare_three_way{}(a.c_, b.c_);
  }
  template <class A>
  friend bool operator==(const actor_addr& a, const ref<A>& r) noexcept {
    return a.c_ == static_cast<const detail::cell*>(r.cell_ptr());
  }

  /// For the runtime.
  [[nodiscard]] detail::cell* cell_ptr() const noexcept { return c_; }

 private:
  detail::cell* c_ = nullptr;
};

}  // namespace troupe

template <>
struct std::hash<troupe::actor_addr> {
  std::size_t operator()(const troupe::actor_addr& a) const noexcept {
    return std::hash<const void*>{}(a.cell_ptr());
  }
};
