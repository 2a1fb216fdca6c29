#pragma once
// A move-only type-erased callable (std::move_only_function is C++23).

#include <memory>
#include <type_traits>
#include <utility>

namespace troupe::detail {

template <class Sig>
class unique_function;

template <class R, class... Args>
class unique_function<R(Args...)> {
  struct base {
    virtual ~base() = default;
    virtual R call(Args... args) = 0;
  };
  template <class F>
  struct impl final : base {
    F f;
    explicit impl(F&& fn) : f(std::move(fn)) {}
    R call(Args... args) override { return f(std::forward<Args>(args)...); }
  };
  std::unique_ptr<base> p_;

 public:
  unique_function() = default;
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, unique_function> &&
           std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
      // NOLINTNEXTLINE(bugprone-forwarding-reference-overload): the requires clause excludes it
      unique_function(F&& f)  // NOLINT(google-explicit-constructor): a callable converts
      : p_(std::make_unique<impl<std::decay_t<F>>>(std::decay_t<F>(std::forward<F>(f)))) {}

  explicit operator bool() const noexcept { return p_ != nullptr; }
  R operator()(Args... args) { return p_->call(std::forward<Args>(args)...); }
};

}  // namespace troupe::detail
