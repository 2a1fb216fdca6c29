// Bounded mailboxes (troupe/actors/mailbox.hpp, internal/mailbox.hpp).

#include "internal/mailbox.hpp"

#include <memory>
#include <mutex>
#include <string>

#include "internal/core.hpp"
#include "internal/ext.hpp"
#include "troupe/actors/detail/trace.hpp"
#include "troupe/actors/error.hpp"

namespace troupe::detail {

namespace {

const char* policy_name(overflow p) noexcept {
  switch (p) {
    case overflow::fail:
      return "fail";
    case overflow::drop_newest:
      return "drop_newest";
    case overflow::drop_oldest:
      return "drop_oldest";
    case overflow::block:
      return "block";
  }
  return "?";
}

void run_admitted(room_waiter* admitted) noexcept {
  while (admitted != nullptr) {
    room_waiter* w = admitted;
    admitted = w->next;
    if (w->cb != nullptr) w->cb->done(send_result::ok);
    delete w;
  }
}

}  // namespace

bounded_mailbox::~bounded_mailbox() {
  // Normally empty: termination takes everything. A cell freed without
  // terminating (failed spawn) has nothing queued.
  while (head_ != nullptr) {
    message* m = head_;
    head_ = m->next;
    delete m;
  }
}

void bounded_mailbox::append(message* m, bool reserved) noexcept {
  m->next = nullptr;
  if (tail_ == nullptr) {
    head_ = m;
  } else {
    tail_->next = m;
  }
  tail_ = m;
  if (m->type == message::kind::user && !reserved) ++size_;
}

void bounded_mailbox::admit(room_waiter*& admitted, bool& notify) noexcept {
  while (waiting_ != nullptr && size_ < capacity_) {
    room_waiter* w = waiting_;
    waiting_ = w->next;
    if (waiting_ == nullptr) waiting_tail_ = nullptr;
    w->next = nullptr;
    if (w->thread) {
      w->granted = true;  // its slot: it makes and appends its node itself
      ++size_;
      notify = true;
    } else {
      append(w->node);
      w->node = nullptr;
      w->next = admitted;
      admitted = w;
    }
  }
}

message* bounded_mailbox::pop(room_waiter*& admitted, bool& notify) noexcept {
  message* m = head_;
  if (m == nullptr) return nullptr;
  head_ = m->next;
  if (head_ == nullptr) tail_ = nullptr;
  if (m->type == message::kind::user) --size_;
  admit(admitted, notify);
  return m;
}

message* bounded_mailbox::evict_oldest() noexcept {
  message* prev = nullptr;
  for (message* m = head_; m != nullptr; prev = m, m = m->next) {
    if (m->type != message::kind::user) continue;
    if (prev == nullptr) {
      head_ = m->next;
    } else {
      prev->next = m->next;
    }
    if (tail_ == m) tail_ = prev;
    m->next = nullptr;
    --size_;
    return m;
  }
  return nullptr;
}

void bounded_mailbox::add_waiter(room_waiter* w) noexcept {
  w->next = nullptr;
  if (waiting_tail_ == nullptr) {
    waiting_ = w;
  } else {
    waiting_tail_->next = w;
  }
  waiting_tail_ = w;
}

void bounded_mailbox::unreserve(room_waiter*& admitted, bool& notify) noexcept {
  --size_;
  admit(admitted, notify);
}

message* bounded_mailbox::close(room_waiter*& parked) noexcept {
  closed = true;
  message* m = head_;
  head_ = tail_ = nullptr;
  size_ = 0;
  while (waiting_ != nullptr) {
    room_waiter* w = waiting_;
    waiting_ = w->next;
    if (w->thread) {
      w->closed = true;
    } else {
      w->next = parked;
      parked = w;
    }
  }
  waiting_tail_ = nullptr;
  return m;
}

bool bounded_mailbox::offer(message* m) noexcept {
  lock_guard lk(mu);
  if (closed) return false;
  append(m);
  return true;
}

message* bounded_mailbox::take() noexcept {
  room_waiter* admitted = nullptr;
  bool notify = false;
  message* m = nullptr;
  {
    lock_guard lk(mu);
    m = pop(admitted, notify);
  }
  if (notify) room.notify_all();
  run_admitted(admitted);
  return m;
}

message* bounded_mailbox::shut(room_waiter*& parked) noexcept {
  message* rest = nullptr;
  {
    lock_guard lk(mu);
    rest = close(parked);
  }
  room.notify_all();
  return rest;
}

std::uint64_t bounded_mailbox::reject_parked(room_waiter* parked, const exit_reason& why,
                                             const char* actor_type) noexcept {
  std::uint64_t users = 0;
  while (parked != nullptr) {
    room_waiter* w = parked;
    parked = w->next;
    if (w->node != nullptr) users += reject_chain(w->node, why, actor_type);
    if (w->cb != nullptr) w->cb->done(send_result::closed);
    delete w;
  }
  return users;
}

std::uint64_t reject_chain(message* m, const exit_reason& why, const char* actor_type) noexcept {
  std::uint64_t users = 0;
  while (m != nullptr) {
    message* n = m->next;
    if (m->type == message::kind::user) {
      ++users;
      m->reject(why, actor_type);
    } else if (m->type == message::kind::notice) {
      m->reject(why, actor_type);
    }
    delete m;
    m = n;
  }
  return users;
}

bool cell::blocks_when_full() const noexcept {
  return bounded() && ext()->mailbox->policy() == overflow::block;
}

send_result cell::bounded_send(node_maker user_make, send_wait wait, park_callback* cb) {
  // Every node made here is a user message: its send starts a trace flow.
  auto make = [&]() -> message* {
    message* m = user_make();
    if (trace::on()) [[unlikely]]
      m->trace_flow = trace::flow_start(type_name(), id());
    return m;
  };
  bounded_mailbox& mb = *ext()->mailbox;
  if (wait == send_wait::block && core_ptr() != nullptr && core_ptr()->deterministic)
    wait = send_wait::never;
  const overflow policy = mb.policy();
  message* evicted = nullptr;
  unique_lock lk(mb.mu);
  if (!mb.closed && mb.full()) {
    switch (policy) {
      case overflow::fail:
      case overflow::drop_newest:
        lk.unlock();
        if (core_ptr() != nullptr) {
          core_ptr()->count_dead_letters(
              *this, 1,
              policy == overflow::fail ? dead_reason::mailbox_full : dead_reason::dropped);
        }
        if (cb != nullptr) cb->done(send_result::full);
        return send_result::full;
      case overflow::drop_oldest:
        evicted = mb.evict_oldest();  // none if only runtime messages are queued: overshoot
        break;
      case overflow::block: {
        if (wait == send_wait::never || wait == send_wait::defer) {
          lk.unlock();
          if (core_ptr() != nullptr && wait == send_wait::never) {
            core_ptr()->count_dead_letters(*this, 1, dead_reason::mailbox_full);
          }
          if (cb != nullptr) cb->done(send_result::full);
          return send_result::full;
        }
        if (wait == send_wait::park) {
          std::unique_ptr<message> node(make());  // may throw: nothing changed
          auto w = std::make_unique<room_waiter>();
          w->node = node.release();
          w->cb = cb;
          mb.add_waiter(w.release());
          return send_result::ok;  // cb is told later
        }
        room_waiter me;
        me.thread = true;
        mb.add_waiter(&me);
        while (!me.granted && !me.closed) mb.room.wait(lk.native());
        // Closed, possibly after our slot was granted: rejected as dead below.
        if (me.closed || mb.closed) break;
        // A slot is reserved for us.
        message* m = nullptr;
        try {
          m = make();
        } catch (...) {
          room_waiter* admitted = nullptr;
          bool notify = false;
          mb.unreserve(admitted, notify);
          lk.unlock();
          if (notify) mb.room.notify_all();
          run_admitted(admitted);
          throw;
        }
        mb.append(m, true);
        lk.unlock();
        if (inbox_.wake()) schedule_self(false);
        if (cb != nullptr) cb->done(send_result::ok);
        return send_result::ok;
      }
    }
  }
  if (mb.closed) {
    lk.unlock();
    // Dead: the message is made and rejected, as for an unbounded mailbox
    // (an ask fails with the exit reason, the dead letter is counted).
    message* m = user_make();  // enqueue starts its trace flow
    const send_result r = enqueue(m);
    if (cb != nullptr) cb->done(r);
    return r;
  }
  message* m = nullptr;
  try {
    m = make();
  } catch (...) {
    if (evicted != nullptr) mb.append(evicted);  // put it back (at the end; it is rare)
    throw;
  }
  mb.append(m);
  lk.unlock();
  if (inbox_.wake()) schedule_self(false);
  if (evicted != nullptr) {
    evicted->discard(type_name(), "drop_oldest: the mailbox was full");
    if (core_ptr() != nullptr)
      core_ptr()->count_dead_letters(*this, 1, dead_reason::dropped, evicted);
    delete evicted;
  }
  if (cb != nullptr) cb->done(send_result::ok);
  return send_result::ok;
}

void make_bounded(cell& c, const spawn_options& opts) {
  if (opts.capacity == 0) {
    throw error(errc::invalid_argument,
                "system::spawn: a bounded mailbox needs a capacity of at least 1");
  }
  auto* e = c.ensure_ext();
  e->mailbox = std::make_unique<bounded_mailbox>(opts.capacity, opts.policy);
  c.set_bounded();
}

std::string full_ask_text(const cell& c) {
  const bounded_mailbox* mb = c.ext() != nullptr ? c.ext()->mailbox.get() : nullptr;
  std::string s = std::string("ask ") + c.type_name() + ": mailbox full";
  if (mb != nullptr) {
    s += " (capacity " + std::to_string(mb->capacity()) +
         ", overflow::" + policy_name(mb->policy()) + ")";
  }
  return s;
}

std::string ask_dropped_text(const char* actor_type, const char* why) {
  return std::string("ask ") + actor_type + ": message dropped: " + why;
}

}  // namespace troupe::detail
