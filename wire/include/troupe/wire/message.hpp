#pragma once
/// Message types by stable name: the registry that maps a name to a 64-bit
/// id and back, and `any_message`, a decoded message of a type known only at
/// run time.
///
/// Limits first:
///   - A message's id is the FNV-1a 64 hash of its name; two names with the
///     same hash, one name for two types, or two names for one type are
///     refused at registration (type_conflict), so ids are unambiguous within
///     a program. Across programs, both ends must register the same names.
///   - Names are 1 to 255 bytes; pick dotted, versioned names
///     ("shop.order.v1"): they are the wire identity, the C++ type name is not.
///   - Registries only grow; a `message_info` lives as long as its registry
///     (the global one lives until the process exits), and an any_message
///     must not outlive the registry it was decoded with.
///   - Message bodies on the wire are `[u64 little-endian id][the codec's
///     encoding]`; framing and any envelope (target actor, request id) are
///     the transport's.
///
/// Declaring a message (at namespace scope, in the type's namespace), one
/// line with its name and its fields:
/// @code
///   struct Order { std::string customer; int qty = 0; };
///   TROUPE_MESSAGE(Order, "shop.order.v1", customer, qty);
/// @endcode
/// TROUPE_MESSAGE gives the type its fields (as TROUPE_FIELDS would), a
/// compile-time name (`message_id_v<Order>`, `named_message<Order>`) and
/// registers it in `registry::global()` during static initialization. Types it cannot name
/// (template specializations, qualified names) use `register_message<T>("name")` at run time
/// instead.
/// @threadsafe registry: registration and lookup may run concurrently
/// (lookups take a shared lock).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "troupe/wire/codec.hpp"
#include "troupe/wire/detail/pp.hpp"
#include "troupe/wire/detail/type_name.hpp"
#include "troupe/wire/error.hpp"
#include "troupe/wire/limits.hpp"
#include "troupe/wire/reader.hpp"
#include "troupe/wire/writer.hpp"

/// Declares `Type` a message: the stable wire name `Name`, registered in the
/// global registry at start-up, and, when they follow, the fields that go on
/// the wire, in wire order: `TROUPE_MESSAGE(order, "shop.order.v1", customer, qty);`
/// is the whole declaration of a message type that crosses a process or a
/// host. Without fields it names a type that has TROUPE_FIELDS or a codec of
/// its own. Use at namespace scope in Type's namespace, with an unqualified
/// type name; listed fields must be public members with codecs (up to 256).
/// A conflict (see registry::add) throws wire_error during static
/// initialization, which ends the program with its message.
#define TROUPE_MESSAGE(Type, Name, ...)                                                     \
  __VA_OPT__(TROUPE_WIRE_DETAIL_FIELDS(Type, __VA_ARGS__);)                                 \
  [[maybe_unused]] constexpr ::std::string_view troupe_message_name(const Type*) noexcept { \
    return Name;                                                                            \
  }                                                                                         \
  [[maybe_unused]] inline const ::troupe::wire::message_id troupe_wire_registered_##Type =  \
      ::troupe::wire::register_message<Type>(Name)

// The ADL form of TROUPE_FIELDS, for a field list given to TROUPE_MESSAGE.
#define TROUPE_WIRE_DETAIL_FIELD(f) troupe_v.f
#define TROUPE_WIRE_DETAIL_FIELDS(Type, ...)                                               \
  [[maybe_unused]] inline auto troupe_fields(Type& troupe_v) noexcept {                    \
    return ::std::tie(TROUPE_PP_FOR_EACH(TROUPE_WIRE_DETAIL_FIELD, __VA_ARGS__));          \
  }                                                                                        \
  [[maybe_unused]] inline auto troupe_fields(const Type& troupe_v) noexcept {              \
    return ::std::tie(TROUPE_PP_FOR_EACH(TROUPE_WIRE_DETAIL_FIELD, __VA_ARGS__));          \
  }                                                                                        \
  [[maybe_unused]] constexpr ::std::string_view troupe_field_names(const Type*) noexcept { \
    return #__VA_ARGS__;                                                                   \
  }                                                                                        \
  static_assert(true, "")

namespace troupe::wire {

/// A message type's wire id: FNV-1a 64 of its name.
using message_id = std::uint64_t;

/// FNV-1a, 64 bits, of `name` (compile time or run time).
constexpr message_id message_id_of(std::string_view name) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// True for types declared with TROUPE_MESSAGE (they have a compile-time name).
template <class T>
concept named_message = requires(const T* p) {
  { troupe_message_name(p) } -> std::convertible_to<std::string_view>;
};

/// A TROUPE_MESSAGE type that is an empty class (a signal: `struct stop {};`)
/// needs no fields: it encodes to nothing (its id says it all).
template <class T>
requires(std::is_empty_v<T>&& named_message<T> && !detail::has_fields<T>) struct codec<T> {
  static constexpr std::size_t min_size = 0;
  static void encode(writer& /*w*/, const T& /*v*/) {}
  static void decode(reader& /*r*/, T& /*v*/) {}
};

/// The compile-time name and id of a TROUPE_MESSAGE type.
template <named_message T>
inline constexpr std::string_view message_name_v =
    troupe_message_name(static_cast<const T*>(nullptr));
template <named_message T>
inline constexpr message_id message_id_v = message_id_of(message_name_v<T>);

class any_message;

/// What the registry knows about one message type. Stable address.
struct message_info {
  message_id id = 0;
  std::string name;                                ///< the stable wire name
  std::type_index type;                            ///< the C++ type
  std::string type_name;                           ///< demangled C++ type name, for messages
  std::size_t size = 0;                            ///< sizeof(T), charged to the decode budget
  void (*encode)(writer&, const void*) = nullptr;  ///< writes the body (not the id)
  void* (*decode)(reader&) = nullptr;         ///< new T decoded from the body; nullptr on failure
  void (*destroy)(void*) noexcept = nullptr;  ///< deletes a T made by decode
};

namespace detail {
template <class T>
void encode_erased(writer& w, const void* p) {
  write_value(w, *static_cast<const T*>(p));
}
template <class T>
void* decode_erased(reader& r) {
  if (!r.charge(sizeof(T))) return nullptr;
  auto p = std::make_unique<T>();
  read_value(r, *p);
  return r.ok() ? p.release() : nullptr;
}
template <class T>
void destroy_erased(void* p) noexcept {
  delete static_cast<T*>(p);
}
}  // namespace detail

/// Maps names <-> ids <-> C++ types, with a type-erased codec for each.
class registry {
 public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// The process-wide registry that TROUPE_MESSAGE fills. Never destroyed.
  static registry& global() noexcept;

  /// Registers T under `name` and returns its id. Registering the same type
  /// under the same name again returns the same id. Throws wire_error:
  /// invalid_value for an empty or over-255-byte name; type_conflict when
  /// the name (or its hash) is taken by another type, when T already has
  /// another name, or when T's TROUPE_MESSAGE name differs from `name`.
  template <class T>
  message_id add(std::string_view name) {
    static_assert(!std::is_reference_v<T> && !std::is_const_v<T>,
                  "troupe::wire: register the plain message type");
    static_assert(std::is_default_constructible_v<T>,
                  "troupe::wire: message types must be default-constructible (decoded in place)");
    detail::require_codec<T>();
    if constexpr (named_message<T>) {
      if (name != message_name_v<T>) {
        conflict_named(name, message_name_v<T>, troupe::wire::detail::type_name<T>());
      }
    }
    message_info info{message_id_of(name),
                      std::string(name),
                      std::type_index(typeid(T)),
                      troupe::wire::detail::type_name<T>(),
                      sizeof(T),
                      &detail::encode_erased<T>,
                      &detail::decode_erased<T>,
                      &detail::destroy_erased<T>};
    return add(std::move(info));
  }

  /// The type registered under `id`, or nullptr.
  [[nodiscard]] const message_info* find(message_id id) const noexcept;
  /// The registration of a C++ type, or nullptr.
  [[nodiscard]] const message_info* find(std::type_index type) const noexcept;
  template <class T>
  [[nodiscard]] const message_info* find() const noexcept {
    return find(std::type_index(typeid(T)));
  }
  /// Number of registered types.
  [[nodiscard]] std::size_t size() const noexcept;

 private:
  message_id add(message_info info);
  [[noreturn]] static void conflict_named(std::string_view name, std::string_view declared,
                                          const std::string& type);
  struct impl;
  std::unique_ptr<impl> impl_;
};

namespace detail {
/// Throws wire_error(unknown_type) for an unregistered C++ type.
[[noreturn]] void throw_unregistered(const std::string& type);
}  // namespace detail

/// Reads `[u64 id][body]` into `out` (replacing what it held): unknown_type
/// when the id is not in `reg`, otherwise the body's first failure, as with
/// any decode (out is then empty). The reader may hold more after the body.
void read_message(reader& r, any_message& out, const registry& reg = registry::global());

/// registry::global().add<T>(name).
template <class T>
message_id register_message(std::string_view name) {
  return registry::global().add<T>(name);
}

/// A message whose type is known at run time: a registered type's value on
/// the heap, with its message_info. Move-only; empty after a move.
class any_message {
 public:
  any_message() noexcept = default;
  /// Holds `value`; throws wire_error(unknown_type) when T is not in `reg`.
  template <class T>
  requires(!std::same_as<std::remove_cvref_t<T>, any_message>)
      // NOLINTNEXTLINE(bugprone-forwarding-reference-overload): the requires clause excludes it
      explicit any_message(T&& value, const registry& reg = registry::global()) {
    using U = std::remove_cvref_t<T>;
    const message_info* info = reg.template find<U>();
    if (info == nullptr) detail::throw_unregistered(troupe::wire::detail::type_name<U>());
    ptr_ = new U(std::forward<T>(value));
    info_ = info;
  }
  any_message(any_message&& other) noexcept
      : info_(std::exchange(other.info_, nullptr)), ptr_(std::exchange(other.ptr_, nullptr)) {}
  any_message& operator=(any_message&& other) noexcept {
    if (this != &other) {
      reset();
      info_ = std::exchange(other.info_, nullptr);
      ptr_ = std::exchange(other.ptr_, nullptr);
    }
    return *this;
  }
  any_message(const any_message&) = delete;
  any_message& operator=(const any_message&) = delete;
  ~any_message() { reset(); }

  [[nodiscard]] bool has_value() const noexcept { return ptr_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  /// The registration of the held type; nullptr when empty.
  [[nodiscard]] const message_info* info() const noexcept { return info_; }
  /// The held type's id (0 when empty).
  [[nodiscard]] message_id id() const noexcept { return info_ ? info_->id : 0; }
  /// The held type's wire name ("" when empty).
  [[nodiscard]] std::string_view name() const noexcept {
    return info_ ? std::string_view(info_->name) : std::string_view();
  }

  /// The held value's address, for type-erased code (message_info::encode).
  [[nodiscard]] const void* data() const noexcept { return ptr_; }

  /// True when it holds a T.
  template <class T>
  [[nodiscard]] bool is() const noexcept {
    return info_ != nullptr && info_->type == std::type_index(typeid(T));
  }
  /// The held T, or nullptr when it holds something else or nothing.
  template <class T>
  [[nodiscard]] T* get_if() noexcept {
    return is<T>() ? static_cast<T*>(ptr_) : nullptr;
  }
  template <class T>
  [[nodiscard]] const T* get_if() const noexcept {
    return is<T>() ? static_cast<const T*>(ptr_) : nullptr;
  }
  /// The held T; throws wire_error(type_conflict) naming both types otherwise.
  template <class T>
  [[nodiscard]] T& get() {
    if (T* p = get_if<T>()) return *p;
    throw_wrong_type(troupe::wire::detail::type_name<T>());
  }
  template <class T>
  [[nodiscard]] const T& get() const {
    if (const T* p = get_if<T>()) return *p;
    throw_wrong_type(troupe::wire::detail::type_name<T>());
  }

  /// Destroys the held value.
  void reset() noexcept {
    if (ptr_ != nullptr) info_->destroy(ptr_);
    ptr_ = nullptr;
    info_ = nullptr;
  }

 private:
  friend void read_message(reader& r, any_message& out, const registry& reg);
  [[noreturn]] void throw_wrong_type(const std::string& wanted) const;

  const message_info* info_ = nullptr;
  void* ptr_ = nullptr;
};

/// Writes `[u64 id][body]` for the held message; throws wire_error(unknown_type) when empty.
void write_message(writer& w, const any_message& msg);

/// Writes `[u64 id][body]` for a registered T (or an any_message). The id comes from
/// TROUPE_MESSAGE at compile time when T has one (no lookup), otherwise from
/// `reg`; throws wire_error(unknown_type) if T is in neither.
template <class T>
void write_message(writer& w, const T& msg, const registry& reg = registry::global()) {
  if constexpr (std::same_as<T, any_message>) {
    write_message(w, msg);
  } else {
    if constexpr (named_message<T>) {
      w.fixed(message_id_v<T>);
    } else {
      const message_info* info = reg.template find<T>();
      if (info == nullptr) detail::throw_unregistered(troupe::wire::detail::type_name<T>());
      w.fixed(info->id);
    }
    write_value(w, msg);
  }
}

/// The encoding `[u64 id][body]` of `msg`.
template <class T>
[[nodiscard]] std::vector<std::byte> encode_message(const T& msg, const limits& bounds = {},
                                                    const registry& reg = registry::global()) {
  std::vector<std::byte> out;
  writer w(out, bounds);
  write_message(w, msg, reg);
  return out;
}

/// Decodes `payload`, which must hold exactly one message, into `out`.
status decode_message(std::span<const std::byte> payload, any_message& out,
                      const limits& bounds = {}, const registry& reg = registry::global());

/// Decodes one message; throws wire_error on failure.
[[nodiscard]] any_message decode_message(std::span<const std::byte> payload,
                                         const limits& bounds = {},
                                         const registry& reg = registry::global());

}  // namespace troupe::wire
