#pragma once
/// Everything troupe offers, the umbrella header of the troupe::troupe
/// target: actors, channels and coroutines, the wire format, and the process
/// backend. Include a component's own header (troupe/actors.hpp, ...) to
/// depend on less.

#include "troupe/actors.hpp"
#include "troupe/channels.hpp"
#include "troupe/nodes.hpp"
#include "troupe/version.hpp"
#include "troupe/wire.hpp"
