// process_pool: the parent's dispatch and worker replacement, the function
// registry, and the worker's side of a call.

#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "internal/nodes_log.hpp"
#include "internal/peer_link.hpp"
#include "internal/pool_internal.hpp"
#include "troupe/actors/detail/type_name.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/nodes/detail/isolated_registry.hpp"  // reply_ok, reply_error
#include "troupe/nodes/process_pool.hpp"
#include "troupe/wire/error.hpp"

namespace troupe::nodes::detail {

namespace {

struct fn_entry {
  std::string name;
  pool_invoker invoke;
};

struct fn_registry {
  std::mutex mu;
  std::map<std::string, pool_invoker, std::less<>> by_name;
  std::map<const void*, std::string> by_addr;
};

fn_registry& functions() {
  static fn_registry r;
  return r;
}

}  // namespace

bool register_pool_function(std::string_view name, const void* fn, pool_invoker invoke) {
  fn_registry& r = functions();
  std::lock_guard lk(r.mu);
  auto [it, inserted] = r.by_name.emplace(std::string(name), invoke);
  if (!inserted && it->second != invoke) {
    throw troupe::error(errc::invalid_argument, "TROUPE_POOL_FUNCTION: two functions are named \"" +
                                                    std::string(name) + "\"");
  }
  r.by_addr[fn] = std::string(name);
  return true;
}

std::string_view pool_function_name(const void* fn) {
  fn_registry& r = functions();
  std::lock_guard lk(r.mu);
  auto it = r.by_addr.find(fn);
  if (it == r.by_addr.end()) {
    throw troupe::error(errc::invalid_argument,
                        "process_pool: the function was not registered; add "
                        "TROUPE_POOL_FUNCTION(name) next to its definition");
  }
  return it->second;  // map nodes are stable
}

void run_pool_call(std::span<const std::byte> body) {
  wire::reader in(body);
  const auto req = in.fixed<std::uint64_t>();
  std::string name;
  wire::read_value(in, name);
  const std::uint64_t count = in.varint();
  if (!in.ok()) throw std::runtime_error("bad call frame");
  pool_invoker invoke = nullptr;
  {
    fn_registry& r = functions();
    std::lock_guard lk(r.mu);
    auto it = r.by_name.find(name);
    if (it != r.by_name.end()) invoke = it->second;
  }
  if (invoke == nullptr) {
    reply_error(req, errc::invalid_argument,
                "process_pool: no function \"" + name + "\" registered in the worker");
    return;
  }
  std::vector<std::byte> out;
  try {
    wire::writer w(out);
    invoke(in, count, w);
    if (!in.complete()) {
      reply_error(req, errc::invalid_argument, in.result("pool arguments").message());
      return;
    }
  } catch (const std::exception& e) {
    reply_error(req, errc::handler_threw,
                "process_pool task " + name + " threw " +
                    troupe::detail::demangle(typeid(e).name()) + ": " + e.what());
    return;
  } catch (...) {
    reply_error(
        req, errc::handler_threw,
        "process_pool task " + name + " threw an exception not derived from std::exception");
    return;
  }
  try {
    reply_ok(
        req,
        [](wire::writer& w, const void* p) {
          w.bytes(*static_cast<const std::vector<std::byte>*>(p));
        },
        &out);
  } catch (const wire::wire_error& e) {
    // Nothing was queued (the encoder rolled back); the task fails, the
    // worker lives on.
    reply_error(req, errc::invalid_argument,
                "process_pool task " + name + ": result too large: " + std::to_string(out.size()) +
                    " bytes do not fit in a frame (" + e.what() + ")");
  }
}

// ---- the parent's side -----------------------------------------------------------

struct pool_impl : std::enable_shared_from_this<pool_impl> {
  struct slot {
    std::shared_ptr<process_peer> peer;
    std::shared_ptr<std::atomic<std::size_t>> load = std::make_shared<std::atomic<std::size_t>>(0);
  };

  pool_impl(troupe::system& s, const isolated_options& o) : sys(s), opts(o) {}

  troupe::system& sys;
  isolated_options opts;
  mutable std::mutex mu;
  std::condition_variable changed;  // a worker was replaced (or could not be)
  std::vector<slot> slots;
  bool closing = false;
  std::atomic<std::uint64_t> replaced{0};

  // Caller holds mu (or is the constructor).
  void start_worker(std::size_t i) {
    std::weak_ptr<pool_impl> weak = weak_from_this();
    auto gen = slots[i].load;
    slots[i].peer = launch(sys, pool_worker_name, "process_pool worker", opts,
                           [weak, i, gen](const exit_reason& why) {
                             if (auto self = weak.lock()) self->lost(i, gen, why);
                           });
  }

  // I/O thread: a worker is gone; replace it unless closing.
  void lost(std::size_t i, const std::shared_ptr<std::atomic<std::size_t>>& gen,
            const exit_reason& why) {
    struct notify {
      std::condition_variable& cv;
      ~notify() { cv.notify_all(); }
    } n{changed};
    std::lock_guard lk(mu);
    if (closing || i >= slots.size() || slots[i].load != gen) return;
    log_warn("troupe.nodes: process_pool worker {} lost ({}); starting a new one",
             peer_pid(*slots[i].peer), why.to_string());
    slots[i].load = std::make_shared<std::atomic<std::size_t>>(0);
    try {
      start_worker(i);
      replaced.fetch_add(1, std::memory_order_relaxed);
    } catch (const std::exception& e) {
      log_error("troupe.nodes: process_pool could not replace a worker: {}", e.what());
      slots[i].peer.reset();
    }
  }
};

}  // namespace troupe::nodes::detail

namespace troupe {

process_pool::process_pool(troupe::system& sys, std::size_t workers,
                           const nodes::isolated_options& opts)
    : impl_(std::make_shared<nodes::detail::pool_impl>(sys, opts)) {
  if (workers == 0) throw error(errc::invalid_argument, "process_pool: zero workers");
  std::lock_guard lk(impl_->mu);
  impl_->slots.resize(workers);
  for (std::size_t i = 0; i < workers; ++i) impl_->start_worker(i);
}

process_pool::~process_pool() {
  std::vector<std::shared_ptr<nodes::detail::process_peer>> peers;
  {
    std::lock_guard lk(impl_->mu);
    impl_->closing = true;
    for (auto& s : impl_->slots) {
      if (s.peer) peers.push_back(s.peer);
    }
  }
  for (auto& p : peers) nodes::detail::peer_stop(*p);
  for (auto& p : peers) nodes::detail::peer_release(*p, std::chrono::milliseconds(1000));
}

void process_pool::submit(const void* fn, std::size_t count, nodes::detail::encode_fn enc,
                          const void* args, nodes::detail::reply_fn done) {
  const std::string_view name = nodes::detail::pool_function_name(fn);
  std::shared_ptr<nodes::detail::process_peer> peer;
  std::shared_ptr<std::atomic<std::size_t>> load;
  {
    std::unique_lock lk(impl_->mu);
    std::size_t best = 0;
    bool found = false;
    // A worker that just died is being replaced (on the I/O thread): wait
    // for its successor rather than fail, up to the startup timeout.
    const auto deadline = std::chrono::steady_clock::now() + impl_->opts.startup_timeout;
    for (;;) {
      bool replacing = false;
      for (std::size_t i = 0; i < impl_->slots.size(); ++i) {
        auto& s = impl_->slots[i];
        if (!s.peer) continue;
        if (nodes::detail::peer_terminated(*s.peer)) {
          replacing = true;
          continue;
        }
        if (!found || s.load->load() < impl_->slots[best].load->load()) {
          best = i;
          found = true;
        }
      }
      if (found || !replacing || nodes::detail::io_runtime::get().on_io_thread() ||
          impl_->changed.wait_until(lk, deadline) == std::cv_status::timeout) {
        break;
      }
    }
    if (!found) {
      lk.unlock();
      nodes::detail::reply_view r{false, {}, errc::peer_lost, "process_pool: no live worker"};
      done(r);
      return;
    }
    peer = impl_->slots[best].peer;
    load = impl_->slots[best].load;
    load->fetch_add(1);
  }
  nodes::detail::peer_call(
      *peer, name, count, enc, args,
      [load, done = std::move(done)](const nodes::detail::reply_view& r) mutable {
        load->fetch_sub(1);
        done(r);
      });
}

std::size_t process_pool::size() const noexcept { return impl_->slots.size(); }

std::uint64_t process_pool::replacements() const noexcept {
  return impl_->replaced.load(std::memory_order_relaxed);
}

std::vector<int> process_pool::pids() const {
  std::lock_guard lk(impl_->mu);
  std::vector<int> out;
  for (const auto& s : impl_->slots) out.push_back(s.peer ? nodes::detail::peer_pid(*s.peer) : 0);
  return out;
}

}  // namespace troupe
