#pragma once
/// Isolated actors: an actor running in a child process, behind the same
/// troupe::ref<A> as a pooled actor: send, try_send, ask, stop, kill,
/// terminated, monitor and link work unchanged, and a function taking a
/// ref<A> accepts either. Where the place matters, r.location() says
/// (location::kind::process and the child's pid).
///
///   struct Inc { int by = 1; };
///   TROUPE_MESSAGE(Inc, "demo.inc", by);      // name and fields: the one declaration
///   struct Get {};
///   TROUPE_MESSAGE(Get, "demo.get");
///   class Counter : public troupe::actor<Counter> { ... on(Inc), int on(Get) ... };
///   TROUPE_ISOLATED_ACTOR(Counter, "demo.counter");
///
///   troupe::ref<Counter> c = sys.spawn<Counter>(troupe::isolated);  // a child process
///   c.send(Inc{2});
///   int n = c.ask(Get{}).get();
///
/// How: the ref points to a remote cell (troupe/actors/detail/remote.hpp),
/// whose send kind sends a message down the branch that a bounded mailbox
/// takes already, so a send to a pooled actor pays nothing more; there the
/// message is encoded on the sender's thread and queued on the child's
/// connection. The cell terminates when the child is gone, with its down
/// reason, so monitors and links see it like any actor.
///
/// Rules: A must be registered with TROUPE_ISOLATED_ACTOR (checked at
/// compile time by spawn), right after A in its header. What crosses is
/// every TROUPE_MESSAGE type A handles: each send of one to a ref<A>
/// registers its delivery in every process of the program (see
/// detail/remote_ops.hpp). A type without TROUPE_MESSAGE, or an ask whose
/// reply type has no codec, cannot cross: the send or ask to an isolated A
/// throws troupe::error(errc::invalid_argument) naming the type.
///
/// Delivery: at-most-once, in order (one connection per child). When the
/// child is lost (crash, exit, missed heartbeats, resource limit), every
/// pending ask fails with errc::peer_lost "peer lost: child <pid> killed by
/// signal 11 (SIGSEGV)", and monitors get a `down` with
/// exit_reason::kind::peer_lost and the same text. An exception in A's
/// handler fails the pending ask (errc::handler_threw), ends the child, and
/// the down reason is the exception (kind::exception).
///
/// Lifetime, as for a local actor: the child runs until A stops, it is
/// stopped or killed through a ref, or its system shuts down (graceful; a
/// child that has not stopped after 1 s is killed); dropping the last ref
/// does not stop it. After ~system() returns no child of it is left.
/// Sends to a full connection queue: a plain thread waits for room (send)
/// or gets send_result::full (try_send); a plain handler on a pool worker
/// gets full; a task's `co_await r.send(m)` suspends until there is room.
///
/// The parts, one header each:
/// - troupe/nodes/isolated_actor.hpp: TROUPE_ISOLATED_ACTOR and the
///   isolated_actor concept;
/// - troupe/nodes/isolated_spawn.hpp: spawn_isolated and the placement
///   troupe::isolated;
/// - troupe/nodes/isolated_proxy.hpp: isolated_proxy<A> for supervisors;
/// - troupe/nodes/detail/isolated_registry.hpp (not API): the registry of
///   isolated actor types by name and their child-side host;
/// - troupe/nodes/detail/remote_ops.hpp (not API): how one message type
///   crosses to an actor type, and its delivery there;
/// - troupe/nodes/detail/isolated_construct.hpp (not API): constructor
///   entries and the start of one child.

#include "troupe/nodes/detail/isolated_registry.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/nodes/isolated_proxy.hpp"
#include "troupe/nodes/isolated_spawn.hpp"
#include "troupe/nodes/process.hpp"
