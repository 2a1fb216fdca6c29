// system::registry(): actors by name (troupe/actors/registry.hpp).

#include "troupe/actors/registry.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>

#include "internal/core.hpp"
#include "internal/ext.hpp"

namespace troupe {

namespace detail {
void throw_registry_type(std::string_view name, const char* actual, const std::string& wanted) {
  throw error(errc::invalid_argument, "registry::find<" + wanted + ">(\"" + std::string(name) +
                                          "\"): the actor registered as \"" + std::string(name) +
                                          "\" is a " + actual + ", not a " + wanted);
}
}  // namespace detail

bool registry::add(std::string name, const actor_addr& a) {
  detail::cell* c = a.cell_ptr();
  if (c == nullptr) throw error(errc::invalid_argument, "registry::add: empty actor ref");
  if (name.empty()) throw error(errc::invalid_argument, "registry::add: empty name");
  detail::cell_ext* e = c->ensure_ext();  // null: terminated without one
  if (e == nullptr) return false;
  // Dekker with termination (cell::terminate): we publish `registered`,
  // then look at the mailbox; it closes the mailbox, then looks at
  // `registered`. Whichever looks second sees the other.
  e->registered.store(true, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  auto& t = core_->names;
  detail::lock_guard lk(t.mu);
  // Termination removes the names under this lock: an actor that closed
  // its mailbox before this point is refused; one that closes it after
  // sees `registered` and removes the entry.
  if (c->terminated()) return false;
  auto [it, inserted] = t.names.try_emplace(std::move(name), detail::name_table::entry{c});
  if (!inserted) {
    if (it->second.c->terminated()) {
      // A stale entry (its actor is terminating right now): take the name over.
      it->second.c->release();
      it->second.c = c;
    } else {
      return false;
    }
  }
  c->add_ref();
  return true;
}

actor_addr registry::find_addr(std::string_view name) const {
  auto& t = core_->names;
  detail::lock_guard lk(t.mu);
  auto it = t.names.find(std::string(name));
  if (it == t.names.end()) return {};
  return actor_addr(it->second.c);
}

bool registry::remove(std::string_view name) {
  detail::cell* c = nullptr;
  {
    auto& t = core_->names;
    detail::lock_guard lk(t.mu);
    auto it = t.names.find(std::string(name));
    if (it == t.names.end()) return false;
    c = it->second.c;
    t.names.erase(it);
  }
  c->release();
  return true;
}

std::vector<std::string> registry::names() const {
  std::vector<std::string> out;
  {
    auto& t = core_->names;
    detail::lock_guard lk(t.mu);
    out.reserve(t.names.size());
    for (const auto& [n, e] : t.names) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t registry::size() const {
  auto& t = core_->names;
  detail::lock_guard lk(t.mu);
  return t.names.size();
}

namespace detail {

void system_core::forget_names_of(cell& c, cell_ext& e) noexcept {
  // Dekker with registry::add (see there): the mailbox is closed.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!e.registered.load(std::memory_order_relaxed)) return;
  std::size_t dropped = 0;
  {
    lock_guard lk(names.mu);
    for (auto it = names.names.begin(); it != names.names.end();) {
      if (it->second.c == &c) {
        ++dropped;
        it = names.names.erase(it);
      } else {
        ++it;
      }
    }
  }
  // The cell is terminating: its self reference keeps it alive here.
  for (; dropped != 0; --dropped) c.release();
}

}  // namespace detail

}  // namespace troupe
