#pragma once
// detail::failure: how a task's exception travels from the thread that
// caught it to the one that rethrows it (a root's promise, a when_all
// parent).

#include <exception>
#include <string>
#include <utility>

#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"

namespace troupe::detail {

/// The text a troupe::error was built with (what() without ": <message>").
std::string what_arg(const error& e);

/// An exception captured on one thread and rethrown on another. troupe
/// errors travel as code and text (see future.hpp for why); others as an
/// exception_ptr that is moved, so its last reference dies where it is
/// rethrown.
class failure {
 public:
  /// Inside a catch block: records the current exception.
  void capture() noexcept {
    try {
      throw;
    } catch (const error& e) {
      try {
        code_ = e.value();
        what_ = what_arg(e);
      } catch (...) {
        code_ = e.value();
      }
    } catch (...) {
      ptr_ = std::current_exception();
    }
  }
  [[nodiscard]] bool has_value() const noexcept { return code_ != errc{} || ptr_ != nullptr; }
  [[noreturn]] void rethrow() {
    if (ptr_) {
      std::exception_ptr e = std::move(ptr_);
      ptr_ = nullptr;
      std::rethrow_exception(std::move(e));
    }
    throw error(code_, what_);
  }
  template <class T>
  void deliver(promise<T>& p) {
    if (ptr_) {
      std::exception_ptr e = std::move(ptr_);
      ptr_ = nullptr;
      p.set_exception(std::move(e));
    } else {
      p.set_error(code_, std::move(what_));
    }
  }

 private:
  errc code_{};
  std::string what_;
  std::exception_ptr ptr_;
};

}  // namespace troupe::detail
