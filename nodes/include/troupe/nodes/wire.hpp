#pragma once
/// troupe's wire format, everything that turns typed values into bytes for
/// another process or host and bytes from an untrusted peer back into typed
/// values: codecs and TROUPE_FIELDS (codec.hpp), bounds (limits.hpp), errors
/// (wire_error.hpp), the message registry and TROUPE_MESSAGE (message.hpp),
/// framing (frame.hpp) and the handshake (handshake.hpp). All of it lives in
/// namespace troupe::wire. The format byte by byte: docs/nodes.md.

#include "troupe/nodes/codec.hpp"
#include "troupe/nodes/frame.hpp"
#include "troupe/nodes/handshake.hpp"
#include "troupe/nodes/limits.hpp"
#include "troupe/nodes/message.hpp"
#include "troupe/nodes/reader.hpp"
#include "troupe/nodes/wire_error.hpp"
#include "troupe/nodes/writer.hpp"
