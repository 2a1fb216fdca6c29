// Monitors and links (troupe/actors/monitor.hpp): watcher lists in the
// extension block of the watched cell, outgoing monitors in the watcher's.
//
// Every notice is allocated when the monitor or link is made and delivered
// by whoever takes its entry out of a list under the list's mutex: the
// exiting actor (fire_watchers), or the attacher when it finds the target
// already dead. demonitor/unlink delete the entry instead. A notice that was
// already queued when its monitor or link was removed is recognized when it
// runs (consume_monitor / consume_link find no record) and skipped, so a
// down is handled at most once per monitor, and exactly once unless the
// watcher demonitors first or dies.
//
// Locks: one extension block's mutex at a time, never two.

#include <algorithm>
#include <memory>
#include <new>
#include <string>

#include "internal/core.hpp"
#include "internal/ext.hpp"
#include "troupe/actors/detail/notice.hpp"

namespace troupe::detail {

namespace {

const exit_reason& unknown_reason() noexcept {
  static const exit_reason r{exit_reason::kind::normal, "terminated"};
  return r;
}

void free_entry(watch_entry* x) noexcept {
  delete x->node;
  x->watcher->release();
  delete x;
}

// Removes w's monitor `id` from t's watcher list (if still there).
void detach_monitor(cell& t, cell& w, std::uint64_t id) noexcept {
  cell_ext* e = t.ext();
  if (e == nullptr) return;
  watch_entry* found = nullptr;
  {
    lock_guard lk(e->mu);
    for (watch_entry** pp = &e->watchers; *pp != nullptr; pp = &(*pp)->next) {
      watch_entry* x = *pp;
      if (!x->link && x->watcher == &w && x->node->tag == id) {
        *pp = x->next;
        found = x;
        break;
      }
    }
  }
  if (found != nullptr) free_entry(found);
}

}  // namespace

void notice_node::fill(cell* exited, const exit_reason& why) noexcept {
  who = actor_addr(exited);
  try {
    reason = why;
  } catch (...) {
    reason.code = why.code;
  }
}

const char* notice_node::type_name() const noexcept {
  return role == purpose::monitor ? "troupe::down" : "troupe::exit_msg";
}

void fire_watchers(cell& c, cell_ext* e, const exit_reason& why, bool final) noexcept {
  watch_entry* fire = nullptr;
  std::uint64_t inc = 0;
  {
    lock_guard lk(e->mu);
    inc = e->incarnation;
    watch_entry** tail = &fire;
    for (watch_entry** pp = &e->watchers; *pp != nullptr;) {
      watch_entry* x = *pp;
      if (final || x->link) {
        *pp = x->next;
        x->next = nullptr;
        *tail = x;
        tail = &x->next;
      } else {
        pp = &x->next;
      }
    }
    if (final) {
      e->dead = true;
    } else {
      ++e->incarnation;
    }
  }
  while (fire != nullptr) {
    watch_entry* x = fire;
    fire = x->next;
    notice_node* n = x->node;
    n->fill(&c, why);
    if (x->link) n->tag = inc;
    x->watcher->enqueue(n);  // a dead watcher drops it
    x->watcher->release();
    delete x;
  }
  // The incarnation's own monitors end with it.
  for (const monitor_rec& m : e->monitoring) {
    detach_monitor(*m.target, c, m.id);
    m.target->release();
  }
  e->monitoring.clear();
}

bool consume_monitor(cell& watcher, std::uint64_t id) noexcept {
  cell_ext* e = watcher.ext();
  if (e == nullptr) return false;
  auto& v = e->monitoring;
  auto it = std::find_if(v.begin(), v.end(), [id](const monitor_rec& m) { return m.id == id; });
  if (it == v.end()) return false;
  cell* t = it->target;
  *it = v.back();
  v.pop_back();
  t->release();
  return true;
}

bool consume_link(cell& self, cell* peer, std::uint64_t inc) noexcept {
  cell_ext* e = self.ext();
  if (e == nullptr || peer == nullptr) return false;
  watch_entry* found = nullptr;
  {
    lock_guard lk(e->mu);
    for (watch_entry** pp = &e->watchers; *pp != nullptr; pp = &(*pp)->next) {
      watch_entry* x = *pp;
      if (x->link && x->watcher == peer && x->peer_inc == inc) {
        *pp = x->next;
        found = x;
        break;
      }
    }
  }
  if (found == nullptr) return false;
  free_entry(found);
  return true;
}

void exit_untrapped(cell& self, notice_node& n) noexcept {
  if (n.role == notice_node::purpose::stop_request) {
    self.exit_self({exit_reason::kind::shutdown, "stopped by its supervisor"});
    return;
  }
  if (n.reason.is_normal()) return;
  exit_reason why{exit_reason::kind::linked, {}};
  try {
    why.what = std::string("linked actor ") + n.who.type_name() + "#" + std::to_string(n.who.id()) +
               " exited: " + n.reason.to_string();
  } catch (...) {
  }
  self.exit_self(std::move(why));
}

std::uint64_t monitor_attach(cell& w, cell& t, notice_node* raw) {
  std::unique_ptr<notice_node> node(raw);
  if (node == nullptr) throw std::bad_alloc();
  cell_ext* ew = w.ensure_ext();  // w is running: never sealed
  ew->monitoring.reserve(ew->monitoring.size() + 1);
  auto entry = std::make_unique<watch_entry>();
  const std::uint64_t id = w.core().next_monitor_id.fetch_add(1, std::memory_order_relaxed);
  node->tag = id;
  entry->watcher = &w;
  entry->node = node.get();
  bool attached = false;
  if (cell_ext* et = t.ensure_ext()) {
    lock_guard lk(et->mu);
    if (!et->dead) {
      w.add_ref();
      entry->next = et->watchers;
      et->watchers = entry.release();
      (void)node.release();  // the list owns it now
      attached = true;
    }
  }
  t.add_ref();
  ew->monitoring.push_back({id, &t});  // reserved above: cannot throw
  if (!attached) {
    // Already dead: its down, now (exit_ was published before it sealed).
    const exit_reason* why = t.exit();
    notice_node* n = node.release();
    n->fill(&t, why != nullptr ? *why : unknown_reason());
    w.enqueue(n);
  }
  return id;
}

bool demonitor(cell& w, std::uint64_t id) noexcept {
  cell_ext* e = w.ext();
  if (e == nullptr) return false;
  auto& v = e->monitoring;
  auto it = std::find_if(v.begin(), v.end(), [id](const monitor_rec& m) { return m.id == id; });
  if (it == v.end()) return false;
  cell* t = it->target;
  *it = v.back();
  v.pop_back();
  detach_monitor(*t, w, id);  // a down already queued is skipped when it runs
  t->release();
  return true;
}

void link_cells(cell& a, cell& b) {
  if (&a == &b) return;
  cell_ext* ea = a.ensure_ext();
  std::unique_ptr<notice_node> for_a(static_cast<notice_node*>(a.make_exit_node()));
  std::unique_ptr<notice_node> for_b(static_cast<notice_node*>(b.make_exit_node()));
  if (for_a == nullptr || for_b == nullptr) throw std::bad_alloc();
  auto in_b = std::make_unique<watch_entry>();  // in b's list: tell a when b exits
  auto in_a = std::make_unique<watch_entry>();  // in a's list: tell b when a exits
  std::uint64_t a_inc = 0;
  {
    lock_guard lk(ea->mu);
    a_inc = ea->incarnation;
  }
  in_b->link = true;
  in_b->watcher = &a;
  in_b->peer_inc = a_inc;
  in_b->node = for_a.get();
  bool attached = false;
  std::uint64_t b_inc = 0;
  if (cell_ext* eb = b.ensure_ext()) {
    lock_guard lk(eb->mu);
    if (!eb->dead) {
      for (watch_entry* x = eb->watchers; x != nullptr; x = x->next) {
        if (x->link && x->watcher == &a && x->peer_inc == a_inc) return;  // already linked
      }
      b_inc = eb->incarnation;
      a.add_ref();
      in_b->next = eb->watchers;
      eb->watchers = in_b.release();
      (void)for_a.release();  // the list owns it now
      attached = true;
    }
  }
  if (!attached) {
    // b is dead: a gets its exit signal at once.
    const exit_reason* why = b.exit();
    notice_node* n = for_a.release();
    n->role = notice_node::purpose::dead_link;
    n->fill(&b, why != nullptr ? *why : unknown_reason());
    a.enqueue(n);
    return;
  }
  in_a->link = true;
  in_a->watcher = &b;
  in_a->peer_inc = b_inc;
  in_a->node = for_b.release();
  b.add_ref();
  lock_guard lk(ea->mu);
  in_a->next = ea->watchers;
  ea->watchers = in_a.release();
}

bool unlink_cells(cell& a, cell& b) noexcept {
  cell_ext* ea = a.ext();
  if (ea == nullptr) return false;
  watch_entry* gone = nullptr;
  std::uint64_t a_inc = 0;
  {
    lock_guard lk(ea->mu);
    a_inc = ea->incarnation;
    for (watch_entry** pp = &ea->watchers; *pp != nullptr;) {
      watch_entry* x = *pp;
      if (x->link && x->watcher == &b) {
        *pp = x->next;
        x->next = gone;
        gone = x;
      } else {
        pp = &x->next;
      }
    }
  }
  const bool was_linked = gone != nullptr;
  if (cell_ext* eb = b.ext()) {
    lock_guard lk(eb->mu);
    for (watch_entry** pp = &eb->watchers; *pp != nullptr;) {
      watch_entry* x = *pp;
      if (x->link && x->watcher == &a && x->peer_inc == a_inc) {
        *pp = x->next;
        x->next = gone;
        gone = x;
      } else {
        pp = &x->next;
      }
    }
  }
  while (gone != nullptr) {
    watch_entry* x = gone;
    gone = x->next;
    free_entry(x);
  }
  return was_linked;
}

void set_trap_exit(cell& c, bool on) {
  if (cell_ext* e = c.ensure_ext()) e->trap_exit = on;
}

}  // namespace troupe::detail
