#pragma once
/// Everything troupe offers: actors, and channels and nodes when those components are present.

#include "troupe/actors.hpp"
#if __has_include("troupe/channels.hpp")
#include "troupe/channels.hpp"
#endif
#if __has_include("troupe/nodes.hpp")
#include "troupe/nodes.hpp"
#endif
