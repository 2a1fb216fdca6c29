#pragma once
/// Isolated actors: an actor running in a child process, driven through
/// troupe::isolated_ref<A>, whose API is ref<A>'s: send, ask, stop, kill,
/// terminated, plus addr() to monitor or link it from local actors.
///
///   struct Inc { int by = 1; TROUPE_FIELDS(by); };
///   TROUPE_MESSAGE(Inc, "demo.inc");
///   struct Get { int unused = 0; TROUPE_FIELDS(unused); };
///   TROUPE_MESSAGE(Get, "demo.get");
///   class Counter : public troupe::actor<Counter> { ... on(Inc), int on(Get) ... };
///   TROUPE_ISOLATED_ACTOR(Counter, "demo.counter", Inc, Get);
///
///   auto c = troupe::spawn_isolated<Counter>(sys);        // a child process
///   c.send(Inc{2});
///   int n = c.ask(Get{}).get();
///
/// Why a separate handle type and not ref<A> itself: ref<A> is a pointer to
/// the local cell that holds A's object and its handlers are called through
/// it without any indirection; making every ref polymorphic would put a
/// virtual call on the in-process hot path and make actors depend on nodes.
/// isolated_ref<A> keeps the same member functions, and addr() gives the
/// actor_addr that monitors and links take.
///
/// Rules checked at compile time (static_assert with a readable message):
/// A must be registered with TROUPE_ISOLATED_ACTOR, a message must be in
/// A's registered list and have a TROUPE_MESSAGE name, A must handle it, and
/// an ask's reply type must have a codec.
///
/// Delivery: at-most-once, in order (one connection per child). When the
/// child is lost (crash, exit, missed heartbeats, resource limit), every
/// pending ask fails with errc::peer_lost "peer lost: child <pid> killed by
/// signal 11 (SIGSEGV)", and addr()'s monitors get a `down` with
/// exit_reason::kind::peer_lost and the same text. An exception in A's
/// handler fails the pending ask (errc::handler_threw), ends the child, and
/// the down reason is the exception (kind::exception).
///
/// The last copy of an isolated_ref stops the child (graceful, then killed
/// after 1 s) and waits until it is reaped. Drop isolated refs before their
/// system.
///
/// The parts, one header each:
/// - troupe/nodes/isolated_actor.hpp: TROUPE_ISOLATED_ACTOR, the
///   isolated_actor concept and message_list;
/// - troupe/nodes/isolated_ref.hpp: the handle isolated_ref<A>;
/// - troupe/nodes/isolated_spawn.hpp: spawn_isolated and the placement
///   troupe::isolated;
/// - troupe/nodes/isolated_proxy.hpp: isolated_proxy<A> for supervisors;
/// - troupe/nodes/detail/isolated_registry.hpp (not API): the registry of
///   isolated actor types by name and their child-side host.

#include "troupe/nodes/detail/isolated_registry.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/nodes/isolated_proxy.hpp"
#include "troupe/nodes/isolated_ref.hpp"
#include "troupe/nodes/isolated_spawn.hpp"
#include "troupe/nodes/process.hpp"
