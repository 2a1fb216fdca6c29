// troupe::supervisor (troupe/actors/supervisor.hpp).
//
// A supervisor keeps its children in a state that outlives its own
// incarnations (sup_state, in its cell's extension block), so when its own
// supervisor restarts it, the new incarnation finds its children (absent,
// their mailboxes intact) and starts them again.
//
// The token: an absent child is run again only by whoever holds the event
// it sent when its incarnation ended. The supervisor takes it when it
// handles the event (child_rec::state becomes absent) and gives it back
// with resume_start() or resume_terminate(); a dead supervisor rejects the
// event, and the rejection terminates the child. sup_state's destructor
// terminates the children whose tokens it still holds. So every child ends
// up running or terminated; none waits forever.
//
// All restarts, stops and starts go through a plan: a queue of steps run in
// order, one wait (for a child to stop) at a time, so stops happen in
// reverse start order and starts in start order. Exits that happen while a
// plan runs are handled after it.

#include "troupe/actors/supervisor.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "internal/core.hpp"
#include "internal/ext.hpp"
#include "internal/log.hpp"
#include "troupe/actors/detail/trace.hpp"

namespace troupe {
namespace detail {

struct child_rec {
  cell* c = nullptr;  // strong reference
  std::string name;
  troupe::restart kind = troupe::restart::permanent;
  std::chrono::milliseconds shutdown{0};
  child_status::state state = child_status::state::absent;
  std::uint64_t restarts = 0;
  exit_reason last;
  timer stop_timer;
  std::uint64_t stop_seq = 0;
};

struct sup_state {
  sup_state() = default;
  sup_state(const sup_state&) = delete;
  sup_state& operator=(const sup_state&) = delete;
  ~sup_state() {
    // The supervisor terminated for good. Children it holds the token of
    // terminate now; the others are stopping, and their exit events reach
    // a dead supervisor, which terminates them.
    for (child_rec& r : children) {
      r.stop_timer.cancel();
      if (r.state == child_status::state::absent) {
        r.c->resume_terminate({exit_reason::kind::shutdown, "its supervisor terminated"});
      } else if (r.state != child_status::state::stopping) {
        r.c->request_kill();
      }
      r.c->release();
    }
  }

  std::vector<child_rec> children;  // in start order
  std::uint64_t seq = 0;            // stop timer generations
};

struct sup_events {
  static void exited(supervisor& s, cell* c, exit_reason why) { s.child_exited(c, std::move(why)); }
  static void adopt(supervisor& s, cell* c, child_options o) { s.adopt(c, std::move(o)); }
  static void timeout(supervisor& s, cell* c, std::uint64_t seq) { s.stop_timeout(c, seq); }
  static void started(supervisor& s, cell* c) { s.child_started(c); }
};

namespace {

constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

// A child's incarnation ended: carries its token.
class child_event_node final : public message {
 public:
  child_event_node(cell* c, exit_reason why) : message(kind::notice), c_(c), why_(std::move(why)) {
    c_->add_ref();
  }
  child_event_node(const child_event_node&) = delete;
  child_event_node& operator=(const child_event_node&) = delete;
  ~child_event_node() override { c_->release(); }

  void run(cell& sup) override {
    taken_ = true;  // the supervisor has the token now
    sup_events::exited(object_of<supervisor>(sup), c_, std::move(why_));
  }
  void reject(const exit_reason& /*why*/, const char* /*type*/) noexcept override {
    if (!taken_) c_->resume_terminate(std::move(why_));  // the supervisor is gone
  }
  [[nodiscard]] const char* type_name() const noexcept override {
    return "troupe::supervisor(child exit)";
  }

 private:
  cell* c_;
  exit_reason why_;
  bool taken_ = false;
};

// A new child for the supervisor; carries the child's token and a reference.
class adopt_node final : public message {
 public:
  adopt_node(cell* c, child_options o) noexcept
      : message(kind::notice), c_(c), opts_(std::move(o)) {}
  adopt_node(const adopt_node&) = delete;
  adopt_node& operator=(const adopt_node&) = delete;
  ~adopt_node() override {
    if (c_ != nullptr) c_->release();
  }

  void run(cell& sup) override {
    cell* c = std::exchange(c_, nullptr);  // the supervisor takes the reference and the token
    sup_events::adopt(object_of<supervisor>(sup), c, std::move(opts_));
  }
  void reject(const exit_reason& /*why*/, const char* /*type*/) noexcept override {
    if (c_ != nullptr)
      c_->resume_terminate({exit_reason::kind::shutdown, "its supervisor is gone"});
  }
  [[nodiscard]] const char* type_name() const noexcept override {
    return "troupe::supervisor(adopt)";
  }

 private:
  cell* c_;
  child_options opts_;
};

// A child's stop timeout expired.
class timeout_node final : public message {
 public:
  timeout_node(cell* c, std::uint64_t seq) noexcept : message(kind::notice), c_(c), seq_(seq) {
    c_->add_ref();
  }
  timeout_node(const timeout_node&) = delete;
  timeout_node& operator=(const timeout_node&) = delete;
  ~timeout_node() override { c_->release(); }
  void run(cell& sup) override { sup_events::timeout(object_of<supervisor>(sup), c_, seq_); }
  [[nodiscard]] const char* type_name() const noexcept override {
    return "troupe::supervisor(timeout)";
  }

 private:
  cell* c_;
  std::uint64_t seq_;
};

// A child's on_start returned (allocated by the supervisor when it starts
// the child, sent by the child).
class started_node final : public message {
 public:
  explicit started_node(cell* c) noexcept : message(kind::notice), c_(c) { c_->add_ref(); }
  started_node(const started_node&) = delete;
  started_node& operator=(const started_node&) = delete;
  ~started_node() override { c_->release(); }
  void run(cell& sup) override { sup_events::started(object_of<supervisor>(sup), c_); }
  [[nodiscard]] const char* type_name() const noexcept override {
    return "troupe::supervisor(started)";
  }

 private:
  cell* c_;
};

std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

message* make_child_event(cell* child, const exit_reason& why) noexcept {
  try {
    return new child_event_node(child, why);
  } catch (...) {
    return nullptr;
  }
}

void make_child(cell& c, unique_function<void(cell&)> factory, cell* supervisor) {
  auto ci = std::make_unique<child_info>();
  ci->factory = std::move(factory);
  cell_ext* e = c.ensure_ext();
  supervisor->add_ref();
  ci->parent = supervisor;
  e->child = std::move(ci);
}

void end_supervision(cell_ext& e) noexcept {
  if (e.child == nullptr) return;
  // The factory may own a supervisor's children (via its persistent
  // state): release it now, not when the last ref goes.
  e.child->factory = {};
  delete std::exchange(e.child->started, nullptr);
  if (cell* p = std::exchange(e.child->parent, nullptr)) p->release();
}

void adopt_child(cell* supervisor, cell* c, child_options opts) noexcept {
  adopt_node* n = nullptr;
  try {
    n = new adopt_node(c, std::move(opts));
  } catch (...) {
    c->resume_terminate({exit_reason::kind::exception, "std::bad_alloc: adopting a child"});
    c->release();
    return;
  }
  supervisor->enqueue(n);  // a dead supervisor rejects it: the child terminates
}

}  // namespace detail

using detail::cell;
using detail::child_rec;
using detail::npos;
using detail::sup_step;
using state = child_status::state;

supervisor::supervisor(supervisor_options opts) : opts_(opts) {
  cell_ = self().cell_ptr();
  detail::cell_ext* e = cell_->ensure_ext();
  if (!e->persistent) e->persistent = std::make_shared<detail::sup_state>();
  st_ = std::static_pointer_cast<detail::sup_state>(e->persistent);
  trap_exit(true);  // its own supervisor's stop request arrives as an exit_msg
}

supervisor::~supervisor() {
  // This incarnation ends (a restart, or termination): running children
  // are brought down; their exit events reach the next incarnation, or a
  // dead supervisor that terminates them.
  for (child_rec& r : st_->children) {
    r.stop_timer.cancel();
    if (r.state == state::running || r.state == state::starting) {
      r.state = state::stopping;
      r.c->request_suspend();
    }
  }
}

void supervisor::on_start() {
  // Children left running by a previous incarnation come down first; then
  // every child starts, in start order.
  auto& ch = st_->children;
  for (std::size_t j = ch.size(); j-- > 0;) {
    if (ch[j].state != state::absent) plan_.push_back({sup_step::op::suspend, ch[j].c, {}});
  }
  for (const child_rec& r : ch) plan_.push_back({sup_step::op::start, r.c, {}});
  run_plan();
}

std::string supervisor::describe() const {
  return std::string(cell_->type_name()) + "#" + std::to_string(cell_->id());
}

std::size_t supervisor::find(const detail::cell* c) const noexcept {
  const auto& ch = st_->children;
  for (std::size_t i = 0; i < ch.size(); ++i) {
    if (ch[i].c == c) return i;
  }
  return npos;
}

void supervisor::remove(std::size_t i) noexcept {
  auto& ch = st_->children;
  ch[i].stop_timer.cancel();
  cell* c = ch[i].c;
  ch.erase(ch.begin() + static_cast<std::ptrdiff_t>(i));
  c->release();
}

std::vector<child_status> supervisor::on(which_children /*unused*/) const {
  std::vector<child_status> out;
  out.reserve(st_->children.size());
  for (const child_rec& r : st_->children) {
    out.push_back(child_status{r.name, actor_addr(r.c), r.state, r.restarts, r.last});
  }
  return out;
}

// NOLINTNEXTLINE(performance-unnecessary-value-param): handlers take messages by value
bool supervisor::on(terminate_child m) {
  const std::size_t i = find(m.child.cell_ptr());
  if (i == npos) return false;
  child_rec& r = st_->children[i];
  if (r.state == state::absent) {
    r.c->resume_terminate({exit_reason::kind::shutdown, "terminated by its supervisor"});
    remove(i);
    return true;
  }
  r.kind = troupe::restart::temporary;  // an exit meanwhile is not restarted
  plan_.push_back({sup_step::op::stop, r.c, {}});
  plan_.push_back({sup_step::op::terminate,
                   r.c,
                   {exit_reason::kind::shutdown, "terminated by its supervisor"}});
  run_plan();
  return true;
}

// NOLINTNEXTLINE(performance-unnecessary-value-param): handlers take messages by value
void supervisor::on(exit_msg m) {
  const detail::cell_ext* e = cell_->ext();
  const cell* parent = (e != nullptr && e->child != nullptr) ? e->child->parent : nullptr;
  if (parent != nullptr && m.from.cell_ptr() == parent) {
    // Our supervisor shuts its tree down: stop the children for good.
    if (!shutting_down_)
      begin_shutdown({exit_reason::kind::shutdown, "stopped by its supervisor"}, true);
    return;
  }
  detail::logger()->warn("supervisor {}: ignoring the exit of linked actor {}#{}: {}", describe(),
                         m.from.type_name(), m.from.id(), m.reason.to_string());
}

bool supervisor::intercept_stop(bool shutdown) {
  if (shutting_down_) return true;
  const detail::cell_ext* e = cell_->ext();
  const bool supervised = e != nullptr && e->child != nullptr;
  // A supervised supervisor stopped by someone else only suspends its
  // children: its own supervisor decides whether the subtree comes back.
  begin_shutdown(shutdown ? exit_reason{exit_reason::kind::shutdown, "system shutdown"}
                          : exit_reason{exit_reason::kind::normal, "stopped"},
                 shutdown || !supervised);
  return true;
}

void supervisor::begin_shutdown(exit_reason finish, bool terminate_children) {
  shutting_down_ = true;
  terminating_ = terminate_children;
  finish_reason_ = std::move(finish);
  deferred_.clear();
  plan_.clear();
  const auto& ch = st_->children;
  for (std::size_t j = ch.size(); j-- > 0;) {
    if (terminate_children) {
      plan_.push_back({sup_step::op::stop, ch[j].c, {}});
      plan_.push_back({sup_step::op::terminate,
                       ch[j].c,
                       {exit_reason::kind::shutdown, "its supervisor shut down"}});
    } else {
      plan_.push_back({sup_step::op::suspend, ch[j].c, {}});
    }
  }
  plan_.push_back({sup_step::op::finish, nullptr, finish_reason_});
  run_plan();
}

void supervisor::adopt(detail::cell* c, child_options opts) {
  if (shutting_down_ && terminating_) {
    c->resume_terminate({exit_reason::kind::shutdown, "its supervisor is shutting down"});
    c->release();
    return;
  }
  try {
    child_rec r;
    r.c = c;
    r.name = opts.name.empty() ? std::string(c->type_name()) + "#" + std::to_string(c->id())
                               : std::move(opts.name);
    r.kind = opts.restart;
    r.shutdown = opts.shutdown;
    st_->children.push_back(std::move(r));
  } catch (...) {
    c->resume_terminate({exit_reason::kind::exception, "std::bad_alloc: adopting a child"});
    c->release();
    throw;
  }
  if (shutting_down_) return;  // suspending for a restart: the next incarnation starts it
  plan_.push_back({sup_step::op::start, c, {}});
  run_plan();
}

void supervisor::child_exited(detail::cell* c, exit_reason why) {
  const std::size_t i = find(c);
  if (i == npos) {  // not ours (any more): it cannot be left waiting
    c->resume_terminate(std::move(why));
    return;
  }
  child_rec& r = st_->children[i];
  const bool asked = r.state == state::stopping;
  const bool starting = r.state == state::starting;
  r.state = state::absent;  // we hold its token now
  r.stop_timer.cancel();
  r.last = why;
  if (asked || shutting_down_) {
    run_plan();
    return;
  }
  if (starting && !plan_.empty() && plan_.front().what == sup_step::op::start &&
      plan_.front().child == c) {
    plan_.pop_front();  // the start was made; it failed (handled like any exit)
  }
  if (!plan_.empty()) {
    deferred_.emplace_back(c, std::move(why));
    run_plan();
    return;
  }
  handle_exit(i, why);
  run_plan();
}

void supervisor::child_started(detail::cell* c) {
  const std::size_t i = find(c);
  if (i == npos) return;
  child_rec& r = st_->children[i];
  if (r.state == state::starting) r.state = state::running;
  run_plan();
}

void supervisor::stop_timeout(detail::cell* c, std::uint64_t seq) {
  const std::size_t i = find(c);
  if (i == npos) return;
  child_rec& r = st_->children[i];
  if (r.state != state::stopping || r.stop_seq != seq) return;
  detail::logger()->warn("supervisor {}: child {} did not stop within {}; killing it", describe(),
                         r.name, detail::ms_text(r.shutdown));
  r.c->request_kill();
}

bool supervisor::note_restart() {
  const auto now = system().core().now();
  restarts_.push_back(now);
  while (!restarts_.empty() && now - restarts_.front() > opts_.within) restarts_.pop_front();
  return restarts_.size() <= opts_.max_restarts;
}

void supervisor::handle_exit(std::size_t i, const exit_reason& why) {
  auto& ch = st_->children;
  child_rec& r = ch[i];
  bool again = r.kind == troupe::restart::permanent ||
               (r.kind == troupe::restart::transient && !why.is_normal());
  if (system().core().shutting_down.load(std::memory_order_acquire)) again = false;
  if (!again) {
    plan_.push_back({sup_step::op::terminate, r.c, why});
    return;
  }
  if (!note_restart()) {
    escalate(i, why);
    return;
  }
  ++r.restarts;
  system().core().restarts.fetch_add(1, std::memory_order_relaxed);
  r.c->count_restart();
  detail::logger()->info("supervisor {}: restarting {} (restart {}) after: {}", describe(), r.name,
                         r.restarts, why.to_string());
  if (detail::trace::on()) [[unlikely]]
    detail::trace::instant("restart", r.c->type_name(), r.c->id(), r.name + ": " + why.to_string());
  if (opts_.strategy == troupe::strategy::one_for_one) {
    plan_.push_back({sup_step::op::start, r.c, {}});
    return;
  }
  const std::size_t from = opts_.strategy == troupe::strategy::one_for_all ? 0 : i;
  for (std::size_t j = ch.size(); j-- > from;) {
    if (j != i) plan_.push_back({sup_step::op::suspend, ch[j].c, {}});
  }
  for (std::size_t j = from; j < ch.size(); ++j) {
    if (j == i || ch[j].kind != troupe::restart::temporary) {
      plan_.push_back({sup_step::op::start, ch[j].c, {}});
    } else {
      plan_.push_back({sup_step::op::terminate,
                       ch[j].c,
                       {exit_reason::kind::shutdown, "its supervisor restarted its siblings"}});
    }
  }
}

void supervisor::escalate(std::size_t i, const exit_reason& why) {
  const child_rec& failed = st_->children[i];
  std::string what = describe() + ": more than " + std::to_string(opts_.max_restarts) +
                     " restart(s) within " + detail::ms_text(opts_.within) +
                     "; last: " + failed.name + ": " + why.to_string();
  detail::logger()->error("supervisor gives up: {}", what);
  finish_reason_ = {exit_reason::kind::restart_limit, std::move(what)};
  deferred_.clear();
  plan_.clear();
  const auto& ch = st_->children;
  for (std::size_t j = ch.size(); j-- > 0;) {
    if (ch[j].state != state::absent) plan_.push_back({sup_step::op::suspend, ch[j].c, {}});
  }
  plan_.push_back({sup_step::op::finish, nullptr, finish_reason_});
}

void supervisor::arm_stop_timer(std::size_t i) {
  child_rec& r = st_->children[i];
  r.stop_seq = ++st_->seq;
  if (r.shutdown == std::chrono::milliseconds::max()) return;  // wait forever
  actor_addr me(cell_);
  actor_addr child(r.c);
  r.stop_timer = detail::add_internal_timer(
      system().core(), std::chrono::duration_cast<std::chrono::nanoseconds>(r.shutdown),
      [me, child, seq = r.stop_seq]() {
        auto* n = new (std::nothrow) detail::timeout_node(child.cell_ptr(), seq);
        if (n != nullptr) me.cell_ptr()->enqueue(n);
        return false;
      });
}

void supervisor::run_plan() {
  auto& ch = st_->children;
  for (;;) {
    while (!plan_.empty()) {
      sup_step& s = plan_.front();
      if (s.what == sup_step::op::finish) {
        exit_reason why = std::move(s.why);
        plan_.clear();
        deferred_.clear();
        stop(std::move(why));  // after the current handler (or intercepted stop)
        return;
      }
      const std::size_t i = find(s.child);
      if (i == npos) {
        plan_.pop_front();
        continue;
      }
      child_rec& r = ch[i];
      switch (s.what) {
        case sup_step::op::start:
          if (r.state == state::absent) {
            auto* note = new detail::started_node(r.c);
            r.state = state::starting;
            r.c->resume_start(note);
            return;  // wait until its on_start returned (or it failed)
          }
          if (r.state == state::starting) return;
          plan_.pop_front();
          continue;
        case sup_step::op::terminate:
          if (r.state == state::absent) {
            r.c->resume_terminate(std::move(s.why));
            remove(i);
            plan_.pop_front();
          } else {
            plan_.push_front({sup_step::op::stop, r.c, {}});  // bring it down first
          }
          continue;
        case sup_step::op::suspend:
        case sup_step::op::stop:
          if (r.state == state::absent) {
            plan_.pop_front();
            continue;
          }
          if (r.state == state::running || r.state == state::starting) {
            r.state = state::stopping;
            if (s.what == sup_step::op::suspend) {
              r.c->request_suspend();
            } else if (auto* n = static_cast<detail::notice_node*>(r.c->make_exit_node())) {
              // A child that traps exits gets an exit_msg and decides; one
              // that does not stops after what is already queued.
              n->role = detail::notice_node::purpose::stop_request;
              n->fill(cell_, {exit_reason::kind::shutdown, "its supervisor shuts down"});
              r.c->enqueue(n);
            } else {
              r.c->request_stop();
            }
            arm_stop_timer(i);
          }
          return;  // wait for its exit event
        case sup_step::op::finish:
          break;
      }
    }
    // Plan done: the exits that happened meanwhile, in order.
    if (deferred_.empty()) return;
    auto [c, why] = std::move(deferred_.front());
    deferred_.pop_front();
    const std::size_t i = find(c);
    if (i == npos || ch[i].state != state::absent) continue;  // handled by the plan
    handle_exit(i, why);
  }
}

}  // namespace troupe
