#pragma once
/// Not API. The typed ends of the process connection's type-erased calls:
/// encode functions (detail::encode_fn) for a value or a named message.

#include "troupe/nodes/process.hpp"
#include "troupe/wire/codec.hpp"
#include "troupe/wire/message.hpp"
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

}  // namespace troupe::nodes::detail
