#pragma once
/// troupe's wire format, everything that turns typed values into bytes for
/// another process or host and bytes from an untrusted peer back into typed
/// values: codecs and TROUPE_FIELDS (codec.hpp), bounds (limits.hpp), errors
/// (wire_error.hpp), the message registry and TROUPE_MESSAGE (message.hpp),
/// framing (frame.hpp) and the handshake (handshake.hpp). All of it lives in
/// namespace troupe::wire. The format byte by byte: docs/nodes.md.

#include "troupe/wire/codec.hpp"
#include "troupe/wire/error.hpp"
#include "troupe/wire/frame.hpp"
#include "troupe/wire/handshake.hpp"
#include "troupe/wire/limits.hpp"
#include "troupe/wire/message.hpp"
#include "troupe/wire/reader.hpp"
#include "troupe/wire/writer.hpp"
