#include "troupe/actors/detail/alloc.hpp"

#include <array>
#include <cstdint>
#include <new>
#include <vector>

#include "troupe/actors/detail/thread_annotations.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TROUPE_ACTORS_PLAIN_ALLOC 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TROUPE_ACTORS_PLAIN_ALLOC 1
#endif
#endif

namespace troupe::detail {

#ifdef TROUPE_ACTORS_PLAIN_ALLOC

void* alloc_node(std::size_t size) { return ::operator new(size); }
void* alloc_node_nothrow(std::size_t size) noexcept { return ::operator new(size, std::nothrow); }
void free_node(void* p, std::size_t /*size*/) noexcept { ::operator delete(p); }

#else

namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kMaxCached = 256;
constexpr std::size_t kClasses = kMaxCached / kGranule;  // 16, 32, ..., 256 bytes
constexpr std::uint32_t kMagazine = 64;
// Per size class, at most this many bytes sit in the depot's full magazines.
constexpr std::size_t kDepotBytes = std::size_t{32} << 20;

struct magazine {
  std::uint32_t count = 0;
  std::array<void*, kMagazine> items{};
};

std::size_t class_of(std::size_t size) noexcept { return (size + kGranule - 1) / kGranule - 1; }
std::size_t class_bytes(std::size_t cls) noexcept { return (cls + 1) * kGranule; }

class depot {
 public:
  // Returns a full magazine, or null.
  magazine* take_full(std::size_t cls) {
    shelf& s = shelves_[cls];
    lock_guard lk(s.mu);
    auto& v = s.full;
    if (v.empty()) return nullptr;
    magazine* m = v.back();
    v.pop_back();
    return m;
  }
  // Stores a full magazine; false if the depot holds enough of this class
  // (the caller then frees the blocks).
  bool put_full(std::size_t cls, magazine* m) {
    shelf& s = shelves_[cls];
    lock_guard lk(s.mu);
    auto& v = s.full;
    if ((v.size() + 1) * kMagazine * class_bytes(cls) > kDepotBytes) return false;
    v.push_back(m);
    return true;
  }

 private:
  // One per size class.
  struct shelf {
    mutex mu;
    std::vector<magazine*> full TROUPE_GUARDED_BY(mu);
  };
  std::array<shelf, kClasses> shelves_;
};

// Never destroyed: thread caches may return magazines during static destruction.
depot& the_depot() {
  static auto* d = new depot;
  return *d;
}

void release_blocks(magazine& m) noexcept {
  for (std::uint32_t i = 0; i < m.count; ++i) ::operator delete(m.items[i]);
  m.count = 0;
}

struct thread_cache {
  // Two magazines per class (Bonwick): `loaded` is used first, `spare` lets a
  // thread alternate between allocating and freeing without a depot trip.
  std::array<magazine*, kClasses> loaded{};
  std::array<magazine*, kClasses> spare{};

  thread_cache() = default;
  thread_cache(const thread_cache&) = delete;
  thread_cache& operator=(const thread_cache&) = delete;
  ~thread_cache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      for (magazine* m : {loaded[c], spare[c]}) {
        if (m == nullptr) continue;
        if (m->count == kMagazine && the_depot().put_full(c, m)) continue;
        release_blocks(*m);
        delete m;
      }
    }
  }

  void* alloc(std::size_t cls) {
    magazine*& l = loaded[cls];
    if (l != nullptr && l->count > 0) return l->items[--l->count];
    magazine*& s = spare[cls];
    if (s != nullptr && s->count > 0) {
      std::swap(l, s);
      return l->items[--l->count];
    }
    if (magazine* full = the_depot().take_full(cls)) {
      // Keep one empty magazine as spare for frees; drop the other.
      if (s == nullptr) {
        s = l;
      } else {
        delete l;
      }
      l = full;
      return l->items[--l->count];
    }
    return ::operator new(class_bytes(cls));
  }

  void free(void* p, std::size_t cls) noexcept {
    magazine*& l = loaded[cls];
    if (l != nullptr && l->count < kMagazine) {
      l->items[l->count++] = p;
      return;
    }
    magazine*& s = spare[cls];
    if (s != nullptr && s->count < kMagazine) {
      std::swap(l, s);
      l->items[l->count++] = p;
      return;
    }
    // Both full (or missing): hand one full magazine to the depot.
    auto* fresh = new (std::nothrow) magazine;
    if (fresh == nullptr) {
      ::operator delete(p);
      return;
    }
    if (l != nullptr) {
      magazine* full = l;
      bool kept = false;
      try {
        kept = the_depot().put_full(cls, full);
      } catch (...) {  // vector growth failed: free the blocks instead
      }
      if (!kept) {
        release_blocks(*full);
        delete full;
      }
    }
    l = fresh;
    l->items[l->count++] = p;
  }
};

thread_cache& cache() {
  thread_local thread_cache c;
  return c;
}

}  // namespace

void* alloc_node(std::size_t size) {
  if (size > kMaxCached) return ::operator new(size);
  return cache().alloc(class_of(size));
}

void* alloc_node_nothrow(std::size_t size) noexcept {
  try {
    return alloc_node(size);
  } catch (...) {  // bad_alloc, or a failed thread_local set-up
    return nullptr;
  }
}

void free_node(void* p, std::size_t size) noexcept {
  if (size > kMaxCached) {
    ::operator delete(p);
    return;
  }
  cache().free(p, class_of(size));
}

#endif

}  // namespace troupe::detail
