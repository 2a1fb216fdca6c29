// Decoding many random and mutated buffers: no crash, no UB (run it under
// ASan/UBSan), a failure is always a status with a message, and the heap
// allocated while decoding n bytes stays within the documented budget
// (limits::alloc_ratio * n + limits::alloc_slack).
//
// Allocation is counted by replacing the global operator new, except under
// ASan and TSan, whose runtimes define operator new themselves (clang's TSan
// strongly, so a replacement does not link): there the sanitizer's malloc
// hook counts instead. Either way every heap allocation is seen.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <troupe/wire.hpp>

#include "fuzz/fuzz_types.hpp"
#include "fuzz/samples.hpp"
#include "wire_test_util.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TROUPE_TEST_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TROUPE_TEST_SANITIZER_ALLOCATOR 1
#endif
#endif

#ifdef TROUPE_TEST_SANITIZER_ALLOCATOR
// From <sanitizer/allocator_interface.h>, which g++ does not install; both
// libasan/libtsan and compiler-rt export it.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             std::size_t),
                                                         void (*free_hook)(const volatile void*));
#endif

namespace {

// Counts bytes allocated on this thread while `counting`.
thread_local bool counting = false;
thread_local std::size_t allocated = 0;

#ifdef TROUPE_TEST_SANITIZER_ALLOCATOR
void on_malloc(const volatile void*, std::size_t n) {
  if (counting) allocated += n;
}
void on_free(const volatile void*) {}
[[maybe_unused]] const int hooks_installed =
    __sanitizer_install_malloc_and_free_hooks(&on_malloc, &on_free);
#endif

}  // namespace

#ifndef TROUPE_TEST_SANITIZER_ALLOCATOR
namespace {
void* counted_alloc(std::size_t n) {
  if (counting) allocated += n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace

// The replaceable global allocation functions, all on malloc/free (the
// aligned forms stay the library's own, paired with their own deletes).
void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (counting) allocated += n;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#endif

namespace wire = troupe::wire;

namespace {

struct outcome {
  bool ok = false;
  std::size_t allocated = 0;
};

// Decodes `b` as a message of the fuzz registry, measuring allocation.
outcome decode_counted(std::span<const std::byte> b, const wire::limits& lim) {
  const wire::registry& reg = troupe::fuzz::fuzz_registry();
  wire::any_message m;
  allocated = 0;
  counting = true;
  wire::reader r(b, lim);
  wire::read_message(r, m, reg);
  const bool ok = r.complete();
  counting = false;
  outcome o{ok, allocated};
  if (!ok) {
    // Building the message allocates, but only after the decode.
    const wire::status s = r.result("decode");
    REQUIRE_FALSE(s.ok());
    REQUIRE_FALSE(s.message().empty());
  } else {
    // What decoded re-encodes, and that encoding decodes to the same bytes.
    std::vector<std::byte> again;
    wire::writer w(again, lim);
    wire::write_message(w, m);
    wire::any_message m2;
    REQUIRE(wire::decode_message(again, m2, lim, reg).ok());
    std::vector<std::byte> third;
    wire::writer w2(third, lim);
    wire::write_message(w2, m2);
    if (!m.is<troupe::fuzz::hashed>()) REQUIRE(third == again);
  }
  return o;
}

std::vector<std::byte> mutate(troupe::fuzz::sampler& s, std::vector<std::byte> b) {
  switch (s.below(6)) {
    case 0:  // flip a few bytes
      for (std::size_t i = 1 + s.below(4); i > 0 && !b.empty(); --i) {
        b[s.below(b.size())] ^= std::byte(static_cast<unsigned char>(1 + s.below(255)));
      }
      break;
    case 1:  // truncate
      b.resize(s.below(b.size() + 1));
      break;
    case 2:  // append junk
      for (std::size_t i = 1 + s.below(16); i > 0; --i)
        b.push_back(std::byte(s.any<unsigned char>()));
      break;
    case 3:  // overwrite a byte after the type id with a large varint-looking value
      if (b.size() > 9) {
        const std::size_t at = 8 + s.below(b.size() - 8);
        b[at] = std::byte{0xFF};
        if (at + 1 < b.size()) b[at + 1] = std::byte{0xFF};
      }
      break;
    case 4:  // keep the type id, random body
      b.resize(8 + s.below(64));
      for (std::size_t i = 8; i < b.size(); ++i) b[i] = std::byte(s.any<unsigned char>());
      break;
    default:  // duplicate a slice
      if (!b.empty()) {
        const std::size_t from = s.below(b.size());
        const std::size_t len = s.below(b.size() - from + 1);
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(s.below(b.size())),
                 b.begin() + static_cast<std::ptrdiff_t>(from),
                 b.begin() + static_cast<std::ptrdiff_t>(from + len));
      }
      break;
  }
  return b;
}

}  // namespace

TEST_CASE("100k random and mutated buffers decode safely within the allocation budget",
          "[wire][random]") {
  const wire::registry& reg = troupe::fuzz::fuzz_registry();
  const wire::limits lim;
  troupe::fuzz::sampler s(20240611);
  std::size_t oks = 0;
  std::size_t worst = 0;
  constexpr int cases = 100'000;
  for (int i = 0; i < cases; ++i) {
    std::vector<std::byte> b = s.message(s.below(6), reg);
    if (i % 10 != 0) b = mutate(s, std::move(b));
    if (i % 97 == 0) {  // now and then: entirely random bytes
      b.resize(s.below(200));
      for (std::byte& x : b) x = std::byte(s.any<unsigned char>());
    }
    const outcome o = decode_counted(b, lim);
    oks += o.ok ? 1 : 0;
    const std::size_t budget = lim.alloc_ratio * b.size() + lim.alloc_slack;
    INFO("case " << i << ", " << b.size() << " bytes");
    REQUIRE(o.allocated <= budget);
    worst = std::max(worst, o.allocated);
  }
  // Every unmutated sample decodes; most mutations do not.
  CHECK(oks >= cases / 10);
  CHECK(oks < cases);
  CHECK(worst > 0);
}

TEST_CASE("adversarial counts stay within the allocation budget", "[wire][random]") {
  // Element counts as large as the bytes allow, nested, for the types with
  // the largest memory per wire byte.
  const wire::limits lim;
  auto check = [&](auto value_type_tag, const std::vector<std::byte>& b) {
    using T = decltype(value_type_tag);
    T out{};
    allocated = 0;
    counting = true;
    const wire::status st = wire::decode(b, out, lim);
    counting = false;
    INFO(st.message());
    CHECK(allocated <= lim.alloc_ratio * b.size() + lim.alloc_slack);
  };
  // vector<vector<vector<string>>>, every level claiming all remaining bytes.
  std::vector<std::byte> nested;
  std::vector<std::byte> varint;
  {
    std::vector<std::byte> tmp;
    wire::writer w(tmp);
    w.varint(100'000);
    varint = tmp;
  }
  for (int level = 0; level < 3; ++level) troupe::test::append(nested, varint);
  nested.resize(nested.size() + 100'000, std::byte{0});
  check(std::vector<std::vector<std::vector<std::string>>>{}, nested);
  check(std::vector<std::map<std::uint8_t, std::string>>{}, nested);
  check(std::vector<std::optional<std::array<std::uint8_t, 4096>>>{}, nested);
  check(troupe::fuzz::tree{}, nested);
}
