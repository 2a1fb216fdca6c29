// system::actors(), metrics() and metrics_text() (troupe/actors/introspect.hpp).
#include "troupe/actors/introspect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>
#include <unordered_map>

#include "internal/core.hpp"
#include "internal/ticks.hpp"
#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/system.hpp"

namespace troupe {

namespace detail {

double ns_per_tick() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  static const double ratio = [] {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const std::uint64_t k0 = ticks();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto t1 = clock::now();
    const std::uint64_t k1 = ticks();
    const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
    return k1 > k0 ? ns / static_cast<double>(k1 - k0) : 1.0;
  }();
  return ratio;
#else
  using period = std::chrono::steady_clock::period;
  return 1e9 * static_cast<double>(period::num) / static_cast<double>(period::den);
#endif
}

namespace {

// Calls f(cell&) for each live cell of `core`, each shard under its lock (a
// cell stays linked until its last ref is gone: the dead are skipped).
template <class F>
void for_each_live(system_core& core, F&& f) {
  for (auto& s : core.shards) {
    lock_guard lk(s.mu);
    for (cell* c = s.head; c != nullptr; c = c->reg_next) {
      if (c->exit() == nullptr) f(*c);
    }
  }
}

}  // namespace

}  // namespace detail

const char* to_string(actor_state s) noexcept {
  switch (s) {
    case actor_state::idle:
      return "idle";
    case actor_state::busy:
      return "busy";
    case actor_state::restarting:
      return "restarting";
  }
  return "unknown";
}

std::vector<actor_info> system::actors() const {
  auto& core = *core_;
  core.time_handlers.store(true, std::memory_order_relaxed);
  // A name per actor: the first in the table's order (several are rare).
  std::unordered_map<const detail::cell*, std::string> names;
  {
    detail::lock_guard lk(core.names.mu);
    for (const auto& [name, e] : core.names.names) names.try_emplace(e.c, name);
  }
  const double ns_per_tick = detail::ns_per_tick();
  std::vector<actor_info> out;
  detail::for_each_live(core, [&](const detail::cell& c) {
    const detail::cell_figures f = c.figures();
    actor_info a;
    a.id = c.id();
    a.type = c.type_name();
    if (auto it = names.find(&c); it != names.end()) a.name = it->second;
    a.state = f.absent ? actor_state::restarting : (f.idle ? actor_state::idle : actor_state::busy);
    a.detached = c.detached;
    a.isolated = c.remote();
    a.mailbox_depth = f.depth;
    a.handled = f.handled;
    a.busy = std::chrono::nanoseconds(
        static_cast<std::int64_t>(static_cast<double>(f.busy_ticks) * ns_per_tick));
    a.restarts = f.restarts;
    out.push_back(std::move(a));
  });
  std::sort(out.begin(), out.end(),
            [](const actor_info& x, const actor_info& y) { return x.id < y.id; });
  return out;
}

system_metrics system::metrics() const {
  const system_stats st = stats();
  system_metrics m;
  m.workers = core_->sched.size();
  m.live_actors = st.live_actors;
  m.spawned = st.spawned;
  m.messages_processed = st.messages_processed;
  m.dead_letters_actor_dead = st.dead_letters_by_reason.actor_dead;
  m.dead_letters_mailbox_full = st.dead_letters_by_reason.mailbox_full;
  m.dead_letters_dropped = st.dead_letters_by_reason.dropped;
  m.dead_letters_crashed = st.dead_letters_by_reason.crashed;
  m.actor_failures = st.actor_failures;
  m.restarts = st.restarts;
  m.tracing = detail::trace::on();
  detail::for_each_live(*core_, [&](const detail::cell& c) {
    if (c.detached) ++m.detached_actors;
    const std::size_t d = c.figures().depth;
    m.mailbox_depth += d;
    m.max_mailbox_depth = std::max(m.max_mailbox_depth, d);
  });
  return m;
}

namespace {

// A label value in the text exposition format: \ " and newline escaped.
std::string label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char ch : v) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '"') {
      out += "\\\"";
    } else if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
  return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string system::metrics_text() const {
  const system_metrics m = metrics();
  const std::vector<actor_info> list = actors();
  std::string out;
  auto one = [&](const char* name, const char* type, const char* help, auto value) {
    family(out, name, type, help);
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  };
  one("troupe_workers", "gauge", "Worker threads of the pool.", m.workers);
  one("troupe_actors", "gauge", "Live actors (spawned, not yet terminated).", m.live_actors);
  one("troupe_detached_actors", "gauge", "Live actors on threads of their own.", m.detached_actors);
  one("troupe_actors_spawned_total", "counter", "Actors spawned since the system started.",
      m.spawned);
  one("troupe_messages_processed_total", "counter", "Handler runs since the system started.",
      m.messages_processed);
  family(out, "troupe_dead_letters_total", "counter", "Messages not delivered, by reason.");
  fmt::format_to(std::back_inserter(out),
                 "troupe_dead_letters_total{{reason=\"actor_dead\"}} {}\n"
                 "troupe_dead_letters_total{{reason=\"mailbox_full\"}} {}\n"
                 "troupe_dead_letters_total{{reason=\"dropped\"}} {}\n"
                 "troupe_dead_letters_total{{reason=\"crashed\"}} {}\n",
                 m.dead_letters_actor_dead, m.dead_letters_mailbox_full, m.dead_letters_dropped,
                 m.dead_letters_crashed);
  one("troupe_actor_failures_total", "counter", "Actor incarnations ended by an exception.",
      m.actor_failures);
  one("troupe_restarts_total", "counter", "Restarts made by supervisors.", m.restarts);
  one("troupe_mailbox_depth", "gauge", "Messages queued over all live actors.", m.mailbox_depth);
  one("troupe_mailbox_depth_max", "gauge", "The deepest mailbox of a live actor.",
      m.max_mailbox_depth);
  one("troupe_tracing", "gauge", "1 while a trace is being recorded.", m.tracing ? 1 : 0);

  // Per actor type: a live program may hold millions of actors, so the
  // per-actor figures are summed by type (system::actors() has each one).
  struct by_type {
    std::size_t actors = 0;
    std::size_t depth = 0;
    std::uint64_t handled = 0;
    std::chrono::nanoseconds busy{};
    std::uint64_t restarts = 0;
  };
  std::vector<std::pair<std::string, by_type>> types;
  {
    std::unordered_map<std::string, std::size_t> index;
    for (const actor_info& a : list) {
      auto [it, fresh] = index.try_emplace(a.type, types.size());
      if (fresh) types.emplace_back(a.type, by_type{});
      by_type& t = types[it->second].second;
      ++t.actors;
      t.depth += a.mailbox_depth;
      t.handled += a.handled;
      t.busy += a.busy;
      t.restarts += a.restarts;
    }
  }
  std::sort(types.begin(), types.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  auto per_type = [&](const char* name, const char* type, const char* help, auto get) {
    family(out, name, type, help);
    for (const auto& [t, v] : types) {
      fmt::format_to(std::back_inserter(out), "{}{{type=\"{}\"}} {}\n", name, label_value(t),
                     get(v));
    }
  };
  per_type("troupe_type_actors", "gauge", "Live actors of each type.",
           [](const by_type& v) { return v.actors; });
  per_type("troupe_type_mailbox_depth", "gauge", "Messages queued at the actors of each type.",
           [](const by_type& v) { return v.depth; });
  per_type("troupe_type_messages_handled_total", "counter",
           "Messages handled by the live actors of each type.",
           [](const by_type& v) { return v.handled; });
  per_type("troupe_type_handler_seconds_total", "counter",
           "Time the live actors of each type spent in their handlers.",
           [](const by_type& v) { return std::chrono::duration<double>(v.busy).count(); });
  per_type("troupe_type_restarts_total", "counter", "Restarts of the live actors of each type.",
           [](const by_type& v) { return v.restarts; });
  return out;
}

}  // namespace troupe
