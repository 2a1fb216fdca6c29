#pragma once
// Clang thread-safety annotations, after abseil's thread_annotations.h, and
// the small annotated lock types the analysis needs (libstdc++'s std::mutex
// carries no annotations). A field shared between threads says which lock
// guards it (TROUPE_GUARDED_BY), a function that must run with it held says
// so (TROUPE_REQUIRES); clang's -Wthread-safety (the tsan preset) checks
// every access. With other compilers the macros expand to nothing.
//
// The lock types are zero-overhead wrappers: everything inline, the same
// layout as the std type they wrap.

#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define TROUPE_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define TROUPE_THREAD_ANNOTATION_(x)
#endif

/// A type that is a lock (a "capability" named `x` in diagnostics).
#define TROUPE_CAPABILITY(x) TROUPE_THREAD_ANNOTATION_(capability(x))
/// An RAII type that holds a capability for its lifetime.
#define TROUPE_SCOPED_CAPABILITY TROUPE_THREAD_ANNOTATION_(scoped_lockable)
/// The field is read and written only with `x` held.
#define TROUPE_GUARDED_BY(x) TROUPE_THREAD_ANNOTATION_(guarded_by(x))
/// What the pointer field points to is accessed only with `x` held.
#define TROUPE_PT_GUARDED_BY(x) TROUPE_THREAD_ANNOTATION_(pt_guarded_by(x))
/// The caller must hold the capabilities (exclusively).
#define TROUPE_REQUIRES(...) TROUPE_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
/// The caller must hold the capabilities, at least shared.
#define TROUPE_REQUIRES_SHARED(...) \
  TROUPE_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
/// The function acquires the capabilities (exclusively) and returns holding them.
#define TROUPE_ACQUIRE(...) TROUPE_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
/// The function acquires the capabilities shared.
#define TROUPE_ACQUIRE_SHARED(...) TROUPE_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
/// The function releases the capabilities (held in any mode).
#define TROUPE_RELEASE(...) TROUPE_THREAD_ANNOTATION_(release_generic_capability(__VA_ARGS__))
/// The function acquires the capabilities when it returns the first argument.
#define TROUPE_TRY_ACQUIRE(...) TROUPE_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
/// The caller must not hold the capabilities (the function takes them).
#define TROUPE_EXCLUDES(...) TROUPE_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
/// The function returns (a reference to) the capability `x`.
#define TROUPE_RETURN_CAPABILITY(x) TROUPE_THREAD_ANNOTATION_(lock_returned(x))
/// Turns the analysis off for one function; say why next to it.
#define TROUPE_NO_THREAD_SAFETY_ANALYSIS TROUPE_THREAD_ANNOTATION_(no_thread_safety_analysis)

namespace troupe::detail {

/// std::mutex, annotated. native() is for std::condition_variable (through
/// unique_lock::native()).
class TROUPE_CAPABILITY("mutex") mutex {
 public:
  constexpr mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  void lock() TROUPE_ACQUIRE() { mu_.lock(); }
  void unlock() noexcept TROUPE_RELEASE() { mu_.unlock(); }
  bool try_lock() noexcept TROUPE_TRY_ACQUIRE(true) { return mu_.try_lock(); }

  std::mutex& native() noexcept { return mu_; }

 private:
  std::mutex mu_;
};

/// std::shared_mutex, annotated.
class TROUPE_CAPABILITY("shared_mutex") shared_mutex {
 public:
  shared_mutex() = default;
  shared_mutex(const shared_mutex&) = delete;
  shared_mutex& operator=(const shared_mutex&) = delete;

  void lock() TROUPE_ACQUIRE() { mu_.lock(); }
  void unlock() noexcept TROUPE_RELEASE() { mu_.unlock(); }
  void lock_shared() TROUPE_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() noexcept TROUPE_RELEASE() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

/// std::lock_guard for any annotated lock (mutex, shared_mutex, spinlock).
template <class Mutex>
class TROUPE_SCOPED_CAPABILITY lock_guard {
 public:
  explicit lock_guard(Mutex& mu) TROUPE_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~lock_guard() TROUPE_RELEASE() { mu_.unlock(); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;

 private:
  Mutex& mu_;
};

/// std::shared_lock for shared_mutex, scoped (a reader).
class TROUPE_SCOPED_CAPABILITY shared_lock_guard {
 public:
  explicit shared_lock_guard(shared_mutex& mu) TROUPE_ACQUIRE_SHARED(mu) : mu_(&mu) {
    mu.lock_shared();
  }
  shared_lock_guard(const shared_lock_guard&) = delete;  // assignment: mu_ is const
  ~shared_lock_guard() TROUPE_RELEASE() { mu_->unlock_shared(); }

 private:
  shared_mutex* const mu_;
};

/// std::unique_lock<std::mutex> for mutex: locks on construction, may be
/// unlocked and locked again, and native() is what std::condition_variable
/// waits on (a wait returns with the lock held, as the analysis assumes).
class TROUPE_SCOPED_CAPABILITY unique_lock {
 public:
  explicit unique_lock(mutex& mu) TROUPE_ACQUIRE(mu) : lk_(mu.native()) {}
  ~unique_lock() TROUPE_RELEASE() = default;
  unique_lock(const unique_lock&) = delete;
  unique_lock& operator=(const unique_lock&) = delete;

  void lock() TROUPE_ACQUIRE() { lk_.lock(); }
  void unlock() TROUPE_RELEASE() { lk_.unlock(); }

  std::unique_lock<std::mutex>& native() noexcept { return lk_; }

 private:
  std::unique_lock<std::mutex> lk_;
};

}  // namespace troupe::detail
