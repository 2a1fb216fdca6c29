#include "troupe/actors/detail/remote.hpp"

#include <unistd.h>

#include <new>
#include <string>
#include <utility>

#include "internal/core.hpp"
#include "troupe/actors/detail/notice.hpp"
#include "troupe/actors/system.hpp"

namespace troupe {

std::string location::to_string() const {
  switch (where) {
    case kind::local:
      return "local (pid " + std::to_string(pid) + ")";
    case kind::process:
      return "child process " + std::to_string(pid);
    case kind::node:
      return "node " + node + " (pid " + std::to_string(pid) + ")";
  }
  return "unknown";
}

}  // namespace troupe

namespace troupe::detail {

namespace {

/// The port's report that the actor is gone: run like a handler, it ends
/// the cell with the actor's reason.
class gone_node final : public message {
 public:
  explicit gone_node(exit_reason why) noexcept : message(kind::notice), why_(std::move(why)) {}
  void run(cell& c) override { c.exit_self(std::move(why_)); }
  [[nodiscard]] const char* type_name() const noexcept override { return "(remote actor gone)"; }

 private:
  exit_reason why_;
};

/// An exit signal to a remote actor: a supervisor's stop request stops it,
/// an abnormal exit of a linked actor kills it (the actor does not trap
/// exits across the boundary); its end comes back as the port's gone.
class remote_exit_node final : public notice_node {
 public:
  remote_exit_node() noexcept : notice_node(purpose::link) {}
  void run(cell& c) override {
    if (role == purpose::link && !consume_link(c, who.cell_ptr(), tag)) return;  // unlinked
    remote_port& port = static_cast<remote_cell&>(c).port();
    if (role == purpose::stop_request) {
      port.stop(true);
      return;
    }
    if (reason.is_normal()) return;
    port.kill(std::string("linked actor ") + who.type_name() + "#" + std::to_string(who.id()) +
              " exited: " + reason.to_string());
  }
};

/// The down of the target a remote cell follows: the cell ends with its reason.
class follow_node final : public notice_node {
 public:
  follow_node() noexcept : notice_node(purpose::monitor) {}
  void run(cell& c) override {
    if (!consume_monitor(c, tag)) return;
    c.exit_self(std::move(reason));
  }
};

}  // namespace

remote_cell::remote_cell(system_core& core, std::uint64_t id, const std::type_info& type,
                         std::string type_name, bool start_awake) noexcept
    : cell(core, id, /*needs_start_hook=*/false, start_awake),
      type_(type),
      type_name_(std::move(type_name)) {
  set_remote();
}

void remote_cell::gone(exit_reason why) noexcept {
  auto* n = new (std::nothrow) gone_node(std::move(why));
  if (n == nullptr) {
    kill_local();  // out of memory: the kill flag ends the cell (reason killed)
    return;
  }
  enqueue(n);
}

send_result remote_cell::send(const remote_message& m, send_wait w) {
  const send_result r = port_->send(m, w);
  if (r == send_result::closed && !port_->counts_dead_letters() && core_ptr() != nullptr) {
    core().count_dead_letters(*this, 1);
  }
  return r;
}

message* remote_cell::make_exit_node() const noexcept {
  return new (std::nothrow) remote_exit_node();
}

remote_cell* make_remote_cell(troupe::system& sys, const std::type_info& type,
                              std::string type_name, std::shared_ptr<remote_port> port,
                              cell* follow) {
  system_core& core = sys.core();
  const std::uint64_t id = prepare_spawn(core);
  remote_cell* c = nullptr;
  try {
    // A follower starts awake: nothing schedules it until its monitor is in
    // place (the target's down may come at once), then it is scheduled once.
    c = new remote_cell(core, id, type, std::move(type_name), /*start_awake=*/follow != nullptr);
  } catch (...) {
    spawn_failed(core);
    throw;
  }
  c->port_ = std::move(port);
  if (follow != nullptr) {
    try {
      (void)monitor_attach(*c, *follow, new follow_node());
    } catch (...) {
      c->abort_spawn();
      spawn_failed(core);
      throw;
    }
  }
  // Linked with its port: a shutdown may stop it from here on.
  finish_spawn(core, c, /*detached=*/false, /*schedule_now=*/follow != nullptr);
  return c;
}

send_result send_to_remote(cell* c, const remote_message& m, send_wait w) {
  return static_cast<remote_cell*>(c)->send(m, w);
}

void ask_remote(cell* c, const remote_message& m, std::unique_ptr<remote_promise> p, send_wait w) {
  static_cast<remote_cell*>(c)->port().ask(m, std::move(p), w);
}

void park_remote_send(cell* c, const remote_message& m, park_callback* cb) {
  static_cast<remote_cell*>(c)->port().send_parked(m, cb);
}

void remote_cell::parked_closed() noexcept {
  if (!port_->counts_dead_letters() && core_ptr() != nullptr) core().count_dead_letters(*this, 1);
}

void remote_parked_closed(cell* c) noexcept { static_cast<remote_cell*>(c)->parked_closed(); }

location location_of(const cell& c) {
  if (c.remote()) return static_cast<const remote_cell&>(c).port().where();
  return location{location::kind::local, static_cast<int>(::getpid()), {}};
}

}  // namespace troupe::detail
