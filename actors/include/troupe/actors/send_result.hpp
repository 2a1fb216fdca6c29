#pragma once
/// troupe::send_result: what happened to a sent message or value. One
/// vocabulary for every send in troupe: to an actor (ref<A>::send,
/// try_send) and into a channel (sender::try_send, send_for).

namespace troupe {

enum class send_result : unsigned char {
  ok,       ///< delivered: enqueued in the mailbox, or handed to the channel
  full,     ///< no room, and waiting was not allowed: a bounded mailbox's fail or
            ///< drop_newest policy, `block` where nothing may wait, a full channel's try_send
  timeout,  ///< no room before the deadline (a channel's send_for / send_until)
  closed,   ///< the receiver is gone: the actor had terminated (a dead letter), or
            ///< the channel is closed or has no receiver left
};

}  // namespace troupe
