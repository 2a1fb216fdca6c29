#pragma once
/// troupe::ref<B> as a message field: a ref sent inside a message to an
/// actor in another process arrives there as a working ref<B>. B must be
/// declared with TROUPE_ISOLATED_ACTOR (that makes it reachable from other
/// processes: the sends of the receiving side's code register their
/// delivery to B here too); a ref<B> of an undeclared B has no codec.
///
/// On the wire a ref is a byte and an id in one connection's table of refs:
///   0                      no actor (an empty ref);
///   1 [u64 id][u64 type]   an actor of the writer's side, which the writer
///                          exported under `id` on this connection (`type`:
///                          a hash of its C++ type, checked by the reader);
///   2 [u64 id]             an actor of the reader's side, under the id the
///                          reader gave it.
/// A message to an imported ref goes back over the connection to the id in
/// the exporter's table, which holds only what it gave this peer: a forged
/// or stale id reaches nothing. A ref outside a connection (plain
/// wire::encode) is refused with wire_errc::invalid_value.

#include <cstddef>
#include <cstdint>
#include <string>
#include <typeinfo>

#include "troupe/actors/detail/cell.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/wire/codec.hpp"
#include "troupe/wire/error.hpp"
#include "troupe/wire/reader.hpp"
#include "troupe/wire/writer.hpp"

namespace troupe::nodes::detail {

/// How a ref is written (see the file comment).
enum class ref_tag : std::uint8_t { none = 0, mine = 1, yours = 2 };

struct ref_wire {
  ref_tag tag = ref_tag::none;
  std::uint64_t id = 0;
};

/// A connection's table of refs, as the codec sees it (the writer's and
/// reader's context on that connection). @threadsafe
class ref_context {
 public:
  ref_context() = default;
  ref_context(const ref_context&) = delete;
  ref_context& operator=(const ref_context&) = delete;
  virtual ~ref_context() = default;
  /// The wire form of cell `c` (exported under a new id if it is this
  /// side's and not yet exported). Throws wire_error when the table is full
  /// or the connection closed.
  virtual ref_wire export_ref(troupe::detail::cell* c) = 0;
  /// The cell that `w` names, as a `type` (C++ name `type_name`), holding
  /// one reference for the caller; null, with `why` set, when it names
  /// nothing this side gave the peer or when the type differs.
  virtual troupe::detail::cell* import_ref(ref_wire w, const std::type_info& type,
                                           const std::string& type_name, std::string& why) = 0;
};

/// The hash of a C++ type written with an exported ref (FNV-1a 64 of its
/// mangled name: both ends run the same binary).
std::uint64_t ref_type_hash(const std::type_info& t) noexcept;

}  // namespace troupe::nodes::detail

template <class B>
requires troupe::nodes::isolated_actor<B>
struct troupe::wire::codec<troupe::ref<B>> {
  static constexpr std::size_t min_size = 1;

  static void encode(writer& w, const troupe::ref<B>& r) {
    namespace nd = troupe::nodes::detail;
    if (!r) {
      w.byte(0);
      return;
    }
    auto* ctx = static_cast<nd::ref_context*>(w.context());
    if (ctx == nullptr) {
      throw wire_error(wire_errc::invalid_value,
                       "troupe::ref<" + troupe::detail::type_name<B>() +
                           ">: a ref crosses only inside a message to an actor in another process");
    }
    const nd::ref_wire rw = ctx->export_ref(r.cell_ptr());
    w.byte(static_cast<std::uint8_t>(rw.tag));
    w.fixed(rw.id);
    if (rw.tag == nd::ref_tag::mine) w.fixed(nd::ref_type_hash(typeid(B)));
  }

  static void decode(reader& r, troupe::ref<B>& v) {
    namespace nd = troupe::nodes::detail;
    const std::uint8_t tag = r.byte();
    if (!r.ok()) return;
    if (tag == 0) {
      v = troupe::ref<B>();
      return;
    }
    if (tag != 1 && tag != 2) {
      r.fail(wire_errc::invalid_value, "ref tag " + std::to_string(tag) + " is not 0, 1 or 2");
      return;
    }
    const auto id = r.fixed<std::uint64_t>();
    if (tag == 1) {
      const auto hash = r.fixed<std::uint64_t>();
      if (r.ok() && hash != nd::ref_type_hash(typeid(B))) {
        r.fail(wire_errc::type_conflict,
               "the ref is not a ref<" + troupe::detail::type_name<B>() + ">");
        return;
      }
    }
    if (!r.ok()) return;
    auto* ctx = static_cast<nd::ref_context*>(r.context());
    if (ctx == nullptr) {
      r.fail(wire_errc::invalid_value, "a ref outside a connection between processes");
      return;
    }
    std::string why;
    troupe::detail::cell* c = ctx->import_ref(nd::ref_wire{static_cast<nd::ref_tag>(tag), id},
                                              typeid(B), troupe::detail::type_name<B>(), why);
    if (c == nullptr) {
      r.fail(wire_errc::invalid_value, why);
      return;
    }
    v = troupe::ref<B>(typename troupe::ref<B>::adopt_t{}, c);
  }
};
