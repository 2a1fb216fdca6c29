#pragma once
// One connection's table of the refs that crossed it inside messages, on
// one side: the actors of this side it gave the peer (exports, by id), the
// remote cells standing for the peer's actors it was given (imports), and
// the asks sent to those. The writer and reader context of the connection
// (wire::writer::context), through which troupe::ref's codec
// (troupe/nodes/ref_codec.hpp) turns refs into ids and back; it handles
// the ref_* frames. The parent keeps one per child, the child one.
//
// Lifetime: exports hold a reference to their cell (its memory) until the
// connection closes; nothing is ever unexported, so an id the peer was
// given stays valid as long as the connection. Imported cells end when the
// connection closes (with its reason) or their system shuts down. Both
// tables are bounded (max_refs); past it, a ref does not cross.
//
// Locking: mu_ guards the tables. A ref is encoded under the link's lock,
// which then takes mu_ (export_ref); so mu_ is never held while posting to
// the link or calling into a cell or a promise.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <typeinfo>
#include <unordered_map>

#include "internal/peer_link.hpp"
#include "troupe/actors/detail/remote.hpp"
#include "troupe/actors/exit_reason.hpp"
#include "troupe/actors/location.hpp"
#include "troupe/nodes/detail/remote_ops.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/nodes/ref_codec.hpp"
#include "troupe/wire/error.hpp"
#include "troupe/wire/message.hpp"

namespace troupe {
class system;
}

namespace troupe::nodes::detail {

/// Decodes one `[message]` of a frame with the refs of `ctx` (null: none);
/// on failure `m` is empty.
wire::status decode_message_in(std::span<const std::byte> body, wire::any_message& m,
                               ref_context* ctx);

class link_refs final : public ref_context, public std::enable_shared_from_this<link_refs> {
 public:
  /// The most refs one side exports, and imports, on one connection.
  static constexpr std::size_t max_refs = std::size_t{1} << 16;
  /// The id of the actor each side knows without a ref crossing: the
  /// child's isolated actor (exported by the child, imported by the parent).
  static constexpr std::uint64_t root_id = 1;

  /// Imported refs live in `sys`, at `peer` (their location()); `name`
  /// names the connection in logs.
  link_refs(troupe::system& sys, troupe::location peer, std::string name);
  ~link_refs() override;
  link_refs(const link_refs&) = delete;
  link_refs& operator=(const link_refs&) = delete;

  /// Sends go out on `link`, whose frames get this as their context.
  void attach(std::shared_ptr<peer_link> link);
  /// The child's isolated actor, as export root_id (in the child).
  void set_root_export(troupe::detail::cell* c);
  /// The parent's remote cell of that actor, as import root_id (in the
  /// parent; it ends with the child, not with this table).
  void set_root_import(troupe::detail::cell* c);

  ref_wire export_ref(troupe::detail::cell* c) override;
  troupe::detail::cell* import_ref(ref_wire w, const std::type_info& type,
                                   const std::string& type_name, std::string& why) override;

  /// A ref_* frame from the peer (the link's I/O thread). A frame that is
  /// not even well formed throws std::runtime_error (the caller closes the
  /// connection); a message to a ref this side never gave the peer, or one
  /// that does not decode, is refused and logged.
  void on_frame(frame_kind k, std::span<const std::byte> body);

  /// The connection is gone: imported refs end with `why`, exports are
  /// dropped, asks in flight fail with errc::peer_lost. Once; later calls
  /// do nothing, and nothing crosses after it.
  void close(const exit_reason& why);

  // The port of an imported ref (id: the peer's export).
  send_result send(std::uint64_t id, const troupe::detail::remote_message& m,
                   troupe::detail::send_wait w, const std::string& type_name);
  void ask(std::uint64_t id, const troupe::detail::remote_message& m,
           std::unique_ptr<troupe::detail::remote_promise> p, const std::string& type_name);
  void stop_remote(std::uint64_t id, bool kill) noexcept;
  /// Its system is shutting down: the imported cell ends here (the peer's
  /// actor is not stopped).
  void import_ended(std::uint64_t id) noexcept;

  /// The answer to the peer's ask `req` (ref_reply). @threadsafe
  void reply(std::uint64_t req, encode_fn enc, const void* value);
  void reply_error(std::uint64_t req, troupe::errc code, const std::string& what);

  // For tests.
  [[nodiscard]] std::size_t exports() const;
  [[nodiscard]] std::size_t imports() const;

 private:
  struct pending_ask {
    std::unique_ptr<troupe::detail::remote_promise> promise;
    void (*complete)(void*, const reply_view&) = nullptr;
  };
  struct import_entry {
    troupe::detail::cell* cell = nullptr;
    bool owned = true;  // false: the root, which this table does not end
  };

  void on_send(std::span<const std::byte> body);
  void on_ask(std::span<const std::byte> body);
  void on_reply(std::span<const std::byte> body);
  void on_stop(std::span<const std::byte> body);
  /// The exported cell `id`, with a reference for the caller; null if none.
  troupe::detail::cell* exported(std::uint64_t id);
  std::shared_ptr<peer_link> link() const;

  troupe::system& sys_;
  const troupe::location peer_;
  const std::string name_;

  mutable std::mutex mu_;
  std::shared_ptr<peer_link> link_;
  bool closed_ = false;
  std::uint64_t next_export_ = root_id + 1;
  std::unordered_map<std::uint64_t, troupe::detail::cell*> exports_;
  std::unordered_map<troupe::detail::cell*, std::uint64_t> export_ids_;
  std::unordered_map<std::uint64_t, import_entry> imports_;
  std::unordered_map<troupe::detail::cell*, std::uint64_t> import_ids_;
  std::uint64_t next_req_ = 1;
  std::unordered_map<std::uint64_t, pending_ask> pending_;
};

}  // namespace troupe::nodes::detail
