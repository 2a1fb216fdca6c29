#pragma once
/// Not API. The typed ends of the process connection's type-erased calls:
/// encode functions (detail::encode_fn) for a value or a named message,
/// and completing a promise from a child's reply, shared by isolated actors
/// and process_pool.

#include <string>
#include <type_traits>
#include <utility>

#include "troupe/actors/error.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/wire/codec.hpp"
#include "troupe/wire/message.hpp"
#include "troupe/wire/reader.hpp"
#include "troupe/wire/writer.hpp"

namespace troupe::nodes::detail {

/// encode_fn for a value of type T (written with its codec).
template <class T>
void encode_value(wire::writer& w, const void* p) {
  wire::write_value(w, *static_cast<const T*>(p));
}
/// encode_fn for a named message of type M (its name, then its fields).
template <class M>
void encode_msg(wire::writer& w, const void* p) {
  wire::write_message(w, *static_cast<const M*>(p));
}

/// Completes `p` from reply `r`: the child's error, or the one R of the
/// body (void: none). A body that is not exactly one R fails `p` with
/// errc::peer_lost "<context>: bad <noun>: <reader's error>".
/// `outcome(ok)` runs first, before `p` completes.
template <class R, class Outcome>
void complete_reply(promise<R>& p, const reply_view& r, const char* context, const char* noun,
                    Outcome&& outcome) {
  if (!r.ok) {
    outcome(false);
    p.set_error(r.code, std::string(r.what));
    return;
  }
  if constexpr (std::is_void_v<R>) {
    outcome(true);
    p.set_value();
  } else {
    R v{};
    wire::reader rd(r.body);
    rd.set_context(r.context);
    wire::read_value(rd, v);
    if (!rd.complete()) {
      outcome(false);
      p.set_error(errc::peer_lost,
                  std::string(context) + ": bad " + noun + ": " + rd.result(noun).message());
      return;
    }
    outcome(true);
    p.set_value(std::move(v));
  }
}

}  // namespace troupe::nodes::detail
