#pragma once
/// The nodes side of troupe: the wire format that the process backend and
/// network nodes share, and the process backend (isolated actors in child
/// processes, the process pool).

#include "troupe/nodes/isolated.hpp"
#include "troupe/nodes/isolated_actor.hpp"
#include "troupe/nodes/isolated_proxy.hpp"
#include "troupe/nodes/isolated_spawn.hpp"
#include "troupe/nodes/process.hpp"
#include "troupe/nodes/process_pool.hpp"
#include "troupe/nodes/ref_codec.hpp"
#include "troupe/wire.hpp"
