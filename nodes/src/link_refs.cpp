// A connection's table of the refs that crossed it (see internal/link_refs.hpp).

#include "internal/link_refs.hpp"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "internal/nodes_log.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/wire/detail/type_name.hpp"
#include "troupe/wire/error.hpp"
#include "troupe/wire/message.hpp"
#include "troupe/wire/reader.hpp"

namespace troupe::nodes::detail {

std::uint64_t ref_type_hash(const std::type_info& t) noexcept {
  return wire::message_id_of(t.name());
}

namespace {

std::string demangled(const std::type_info& t) { return wire::detail::demangle(t.name()); }

/// The port of an imported ref: what its ref<B> is given goes back over
/// the connection to the peer's export `id`.
class import_port final : public troupe::detail::remote_port {
 public:
  import_port(std::weak_ptr<link_refs> refs, std::uint64_t id, std::string type_name,
              troupe::location where)
      : refs_(std::move(refs)),
        id_(id),
        type_name_(std::move(type_name)),
        where_(std::move(where)) {}

  send_result send(const troupe::detail::remote_message& m, troupe::detail::send_wait w) override {
    auto refs = refs_.lock();
    if (!refs) return send_result::closed;
    return refs->send(id_, m, w, type_name_);
  }
  void ask(const troupe::detail::remote_message& m,
           std::unique_ptr<troupe::detail::remote_promise> p,
           troupe::detail::send_wait /*w*/) override {
    auto refs = refs_.lock();
    if (!refs) {
      p->fail(troupe::errc::peer_lost, "ask " + type_name_ + ": the connection is closed");
      return;
    }
    refs->ask(id_, m, std::move(p), type_name_);
  }
  void stop(bool shutdown) noexcept override {
    auto refs = refs_.lock();
    if (!refs) return;
    if (shutdown) {
      refs->import_ended(id_);  // this side's end, not the actor's
    } else {
      refs->stop_remote(id_, false);
    }
  }
  void kill(std::string /*why*/) noexcept override {
    if (auto refs = refs_.lock()) refs->stop_remote(id_, true);
  }
  [[nodiscard]] troupe::location where() const override { return where_; }

 private:
  std::weak_ptr<link_refs> refs_;
  std::uint64_t id_;
  std::string type_name_;
  troupe::location where_;
};

/// The answer to the peer's ask `req` on a ref it was given.
class link_answer final : public answer_sink {
 public:
  link_answer(std::weak_ptr<link_refs> refs, std::uint64_t req)
      : refs_(std::move(refs)), req_(req) {}
  void ok(encode_fn enc, const void* value) override;
  void error(troupe::errc code, const std::string& what) override;

 private:
  std::weak_ptr<link_refs> refs_;
  std::uint64_t req_;
};

}  // namespace

namespace {
void link_answer::ok(encode_fn enc, const void* value) {
  if (auto refs = refs_.lock()) refs->reply(req_, enc, value);
}
void link_answer::error(troupe::errc code, const std::string& what) {
  if (auto refs = refs_.lock()) refs->reply_error(req_, code, what);
}
}  // namespace

link_refs::link_refs(troupe::system& sys, troupe::location peer, std::string name)
    : sys_(sys), peer_(std::move(peer)), name_(std::move(name)) {}

link_refs::~link_refs() {
  close(exit_reason{exit_reason::kind::peer_lost, "the connection ended"});
}

void link_refs::attach(std::shared_ptr<peer_link> link) {
  link->set_context(static_cast<ref_context*>(this));
  std::lock_guard lk(mu_);
  link_ = std::move(link);
}

void link_refs::set_root_export(troupe::detail::cell* c) {
  c->add_ref();
  std::lock_guard lk(mu_);
  exports_.emplace(root_id, c);
  export_ids_.emplace(c, root_id);
}

void link_refs::set_root_import(troupe::detail::cell* c) {
  c->add_ref();
  std::lock_guard lk(mu_);
  imports_.emplace(root_id, import_entry{c, false});
  import_ids_.emplace(c, root_id);
}

std::shared_ptr<peer_link> link_refs::link() const {
  std::lock_guard lk(mu_);
  return link_;
}

ref_wire link_refs::export_ref(troupe::detail::cell* c) {
  std::lock_guard lk(mu_);
  if (closed_) {
    throw wire::wire_error(wire::wire_errc::invalid_value,
                           "ref<" + std::string(c->type_name()) + ">: the connection is closed");
  }
  // One of the peer's own actors goes back as its id.
  if (auto it = import_ids_.find(c); it != import_ids_.end()) {
    return ref_wire{ref_tag::yours, it->second};
  }
  if (auto it = export_ids_.find(c); it != export_ids_.end()) {
    return ref_wire{ref_tag::mine, it->second};
  }
  if (exports_.size() >= max_refs) {
    throw wire::wire_error(wire::wire_errc::count_overflow,
                           "ref<" + std::string(c->type_name()) + ">: more than " +
                               std::to_string(max_refs) + " refs exported on " + name_);
  }
  const std::uint64_t id = next_export_++;
  c->add_ref();
  exports_.emplace(id, c);
  export_ids_.emplace(c, id);
  return ref_wire{ref_tag::mine, id};
}

troupe::detail::cell* link_refs::import_ref(ref_wire w, const std::type_info& type,
                                            const std::string& type_name, std::string& why) {
  const auto mismatch = [&](const troupe::detail::cell* c) {
    why =
        "ref id " + std::to_string(w.id) + " is a " + demangled(c->type()) + ", not a " + type_name;
  };
  if (w.tag == ref_tag::yours) {
    troupe::detail::cell* c = exported(w.id);
    if (c == nullptr) {
      why = "ref id " + std::to_string(w.id) + " names no actor this side gave " + name_ +
            " (forged or stale)";
      return nullptr;
    }
    if (c->type() != type) {
      mismatch(c);
      c->release();
      return nullptr;
    }
    return c;
  }
  {
    std::lock_guard lk(mu_);
    if (closed_) {
      why = "the connection is closed";
      return nullptr;
    }
    if (auto it = imports_.find(w.id); it != imports_.end()) {
      troupe::detail::cell* c = it->second.cell;
      if (c->type() != type) {
        mismatch(c);
        return nullptr;
      }
      c->add_ref();
      return c;
    }
    if (imports_.size() >= max_refs) {
      why = "more than " + std::to_string(max_refs) + " refs imported on " + name_;
      return nullptr;
    }
  }
  // A new import: its cell is made outside the lock (a spawn takes the
  // system's locks), then entered unless another decode was first.
  troupe::detail::remote_cell* made = nullptr;
  try {
    made = troupe::detail::make_remote_cell(
        sys_, type, type_name,
        std::make_shared<import_port>(weak_from_this(), w.id, type_name, peer_));
  } catch (const std::exception& e) {
    why = std::string("ref<") + type_name + ">: " + e.what();
    return nullptr;
  }
  troupe::detail::cell* result = nullptr;
  bool late = false;
  {
    std::lock_guard lk(mu_);
    if (closed_) {
      late = true;
      why = "the connection is closed";
    } else if (auto it = imports_.find(w.id); it != imports_.end()) {
      late = true;
      if (it->second.cell->type() == type) {
        result = it->second.cell;
        result->add_ref();
      } else {
        mismatch(it->second.cell);
      }
    } else {
      imports_.emplace(w.id, import_entry{made, true});
      import_ids_.emplace(made, w.id);
      made->add_ref();  // the table's; the caller has make_remote_cell's
      result = made;
    }
  }
  if (late) {
    made->gone(exit_reason{exit_reason::kind::normal, {}});
    made->release();
  }
  return result;
}

troupe::detail::cell* link_refs::exported(std::uint64_t id) {
  std::lock_guard lk(mu_);
  auto it = exports_.find(id);
  if (it == exports_.end()) return nullptr;
  it->second->add_ref();
  return it->second;
}

void link_refs::close(const exit_reason& why) {
  std::unordered_map<std::uint64_t, troupe::detail::cell*> exports;
  std::unordered_map<std::uint64_t, import_entry> imports;
  std::unordered_map<std::uint64_t, pending_ask> pending;
  std::shared_ptr<peer_link> link;
  {
    std::lock_guard lk(mu_);
    if (closed_) return;
    closed_ = true;
    exports.swap(exports_);
    export_ids_.clear();
    imports.swap(imports_);
    import_ids_.clear();
    pending.swap(pending_);
    link = std::move(link_);
  }
  // Nothing encodes refs against this table any more.
  if (link) link->set_context(nullptr);
  for (auto& [id, c] : exports) c->release();
  for (auto& [id, e] : imports) {
    if (e.owned) static_cast<troupe::detail::remote_cell*>(e.cell)->gone(why);
    e.cell->release();
  }
  for (auto& [req, p] : pending) {
    p.promise->fail(troupe::errc::peer_lost, "ask through " + name_ + ": " + why.to_string());
  }
}

void link_refs::import_ended(std::uint64_t id) noexcept {
  troupe::detail::cell* c = nullptr;
  {
    std::lock_guard lk(mu_);
    auto it = imports_.find(id);
    if (it == imports_.end() || !it->second.owned) return;
    c = it->second.cell;
    imports_.erase(it);
    import_ids_.erase(c);
  }
  static_cast<troupe::detail::remote_cell*>(c)->gone(exit_reason{exit_reason::kind::shutdown, {}});
  c->release();
}

send_result link_refs::send(std::uint64_t id, const troupe::detail::remote_message& m,
                            troupe::detail::send_wait w, const std::string& type_name) {
  const troupe::detail::remote_ops& ops = checked_ops(m, type_name, "send");
  auto l = link();
  if (!l) return send_result::closed;
  return l->post(
      frame_kind::ref_send,
      [&](wire::writer& wr) {
        wr.fixed(id);
        ops.encode(wr, m.value);
      },
      false, w == troupe::detail::send_wait::block);
}

void link_refs::ask(std::uint64_t id, const troupe::detail::remote_message& m,
                    std::unique_ptr<troupe::detail::remote_promise> p,
                    const std::string& type_name) {
  const troupe::detail::remote_ops& ops = checked_ops(m, type_name, "ask");
  std::shared_ptr<peer_link> l;
  std::uint64_t req = 0;
  {
    std::lock_guard lk(mu_);
    if (closed_ || !link_) {
      p->fail(troupe::errc::peer_lost, "ask " + type_name + ": the connection is closed");
      return;
    }
    l = link_;
    req = next_req_++;
    pending_.emplace(req, pending_ask{std::move(p), ops.complete});
  }
  const auto take = [&]() -> std::unique_ptr<troupe::detail::remote_promise> {
    std::lock_guard lk(mu_);
    auto it = pending_.find(req);
    if (it == pending_.end()) return nullptr;  // close() failed it
    auto taken = std::move(it->second.promise);
    pending_.erase(it);
    return taken;
  };
  send_result s = send_result::closed;
  try {
    s = l->post(frame_kind::ref_ask, [&](wire::writer& wr) {
      wr.fixed(req);
      wr.fixed(id);
      ops.encode(wr, m.value);
    });
  } catch (const std::exception& e) {
    if (auto q = take()) {
      q->fail(troupe::errc::invalid_argument,
              "ask " + type_name + ": message not sent: " + std::string(e.what()));
    }
    return;
  }
  if (s != send_result::ok) {
    if (auto q = take()) {
      q->fail(s == send_result::full ? troupe::errc::mailbox_full : troupe::errc::peer_lost,
              "ask " + type_name +
                  (s == send_result::full ? ": connection send queue full"
                                          : ": the connection is closed"));
    }
  }
}

void link_refs::stop_remote(std::uint64_t id, bool kill) noexcept {
  try {
    if (auto l = link()) {
      (void)l->post(
          frame_kind::ref_stop,
          [&](wire::writer& w) {
            w.fixed(id);
            w.byte(kill ? 1 : 0);
          },
          true);
    }
  } catch (...) {
    log_error("troupe.nodes: {}: stopping ref {} failed", name_, id);
  }
}

wire::status decode_message_in(std::span<const std::byte> body, wire::any_message& m,
                               ref_context* ctx) {
  wire::reader r(body);
  r.set_context(ctx);
  wire::read_message(r, m);
  if (r.complete()) return {};
  m.reset();
  return r.result("decode message");
}

void link_refs::on_frame(frame_kind k, std::span<const std::byte> body) {
  switch (k) {
    case frame_kind::ref_send:
      on_send(body);
      return;
    case frame_kind::ref_ask:
      on_ask(body);
      return;
    case frame_kind::ref_reply:
      on_reply(body);
      return;
    case frame_kind::ref_stop:
      on_stop(body);
      return;
    default:
      throw std::runtime_error("not a ref frame");
  }
}

namespace {

/// A cell released at scope exit.
struct held {
  explicit held(troupe::detail::cell* x) noexcept : c(x) {}
  troupe::detail::cell* c;
  held(const held&) = delete;
  held& operator=(const held&) = delete;
  ~held() {
    if (c != nullptr) c->release();
  }
};
}  // namespace

void link_refs::on_send(std::span<const std::byte> body) {
  wire::reader r(body);
  const auto id = r.fixed<std::uint64_t>();
  if (!r.ok()) throw std::runtime_error("truncated ref_send frame");
  const held target{exported(id)};
  if (target.c == nullptr) {
    log_warn(
        "troupe.nodes: {}: a message to ref id {}, which names no actor this side gave it "
        "(forged or stale): dropped",
        name_, id);
    return;
  }
  wire::any_message m;
  if (const wire::status bad = decode_message_in(body.subspan(8), m, this); !bad.ok()) {
    log_warn("troupe.nodes: {}: a message to {} does not decode: {}: dropped", name_,
             target.c->type_name(), bad.message());
    return;
  }
  const delivery* d = find_delivery(target.c->type(), m.id());
  if (d == nullptr) {
    log_warn("troupe.nodes: {}: {} is not sent to {} anywhere in this program: dropped", name_,
             m.name(), target.c->type_name());
    return;
  }
  d->send(target.c, m, false);
}

void link_refs::on_ask(std::span<const std::byte> body) {
  wire::reader r(body);
  const auto req = r.fixed<std::uint64_t>();
  const auto id = r.fixed<std::uint64_t>();
  if (!r.ok()) throw std::runtime_error("truncated ref_ask frame");
  const held target{exported(id)};
  if (target.c == nullptr) {
    reply_error(req, troupe::errc::invalid_argument,
                "ref id " + std::to_string(id) + " names no actor this side gave " + name_ +
                    " (forged or stale)");
    return;
  }
  wire::any_message m;
  if (const wire::status bad = decode_message_in(body.subspan(16), m, this); !bad.ok()) {
    reply_error(req, troupe::errc::invalid_argument, "ask: " + bad.message());
    return;
  }
  const delivery* d = find_delivery(target.c->type(), m.id());
  if (d == nullptr || d->ask == nullptr) {
    reply_error(req, troupe::errc::invalid_argument,
                "ask: " + std::string(m.name()) + " is not asked of " + target.c->type_name() +
                    " anywhere in this program");
    return;
  }
  d->ask(target.c, m, false, std::make_shared<link_answer>(weak_from_this(), req));
}

void link_refs::on_reply(std::span<const std::byte> body) {
  wire::reader r(body);
  const auto req = r.fixed<std::uint64_t>();
  const std::uint8_t failed = r.byte();
  if (!r.ok() || failed > 1) throw std::runtime_error("bad ref_reply frame");
  std::string what;
  int code = 0;
  if (failed == 1) {
    code = r.byte();
    wire::read_value(r, what);
    if (!r.complete() || !troupe::is_errc(code)) throw std::runtime_error("bad ref_reply error");
  }
  pending_ask p;
  {
    std::lock_guard lk(mu_);
    auto it = pending_.find(req);
    if (it == pending_.end()) throw std::runtime_error("ref_reply to unknown request");
    p = std::move(it->second);
    pending_.erase(it);
  }
  // Completed on the completion thread, like every reply of the backend.
  auto self = shared_from_this();
  if (failed == 0) {
    std::vector<std::byte> value(body.begin() + 9, body.end());
    io_runtime::get().complete([self, p = std::move(p), value = std::move(value)]() mutable {
      p.complete(p.promise->get(),
                 reply_view{true, value, {}, {}, static_cast<ref_context*>(self.get())});
    });
  } else {
    io_runtime::get().complete([p = std::move(p), code, what = std::move(what)]() mutable {
      p.complete(p.promise->get(), reply_view{false, {}, static_cast<troupe::errc>(code), what});
    });
  }
}

void link_refs::on_stop(std::span<const std::byte> body) {
  wire::reader r(body);
  const auto id = r.fixed<std::uint64_t>();
  const std::uint8_t kill = r.byte();
  if (!r.complete() || kill > 1) throw std::runtime_error("bad ref_stop frame");
  const held target{exported(id)};
  if (target.c == nullptr) {
    log_warn(
        "troupe.nodes: {}: a stop of ref id {}, which names no actor this side gave it: "
        "ignored",
        name_, id);
    return;
  }
  if (kill == 1) {
    target.c->request_kill();
  } else {
    target.c->request_stop();
  }
}

void link_refs::reply(std::uint64_t req, encode_fn enc, const void* value) {
  auto l = link();
  if (!l) return;
  try {
    (void)l->post(
        frame_kind::ref_reply,
        [&](wire::writer& w) {
          w.fixed(req);
          w.byte(0);
          if (enc != nullptr) enc(w, value);
        },
        true);
  } catch (const std::exception& e) {
    reply_error(req, troupe::errc::invalid_argument, std::string("reply not sent: ") + e.what());
  }
}

void link_refs::reply_error(std::uint64_t req, troupe::errc code, const std::string& what) {
  if (!troupe::is_errc(static_cast<int>(code))) code = troupe::errc::handler_threw;
  auto l = link();
  if (!l) return;
  (void)l->post(
      frame_kind::ref_reply,
      [&](wire::writer& w) {
        w.fixed(req);
        w.byte(1);
        w.byte(static_cast<std::uint8_t>(code));
        wire::write_value(w, what);
      },
      true);
}

std::size_t link_refs::exports() const {
  std::lock_guard lk(mu_);
  return exports_.size();
}
std::size_t link_refs::imports() const {
  std::lock_guard lk(mu_);
  return imports_.size();
}

}  // namespace troupe::nodes::detail
