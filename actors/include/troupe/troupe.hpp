#pragma once
/// Everything troupe offers: actors, and channels when that component is present.

#include "troupe/actors.hpp"
#if __has_include("troupe/channels.hpp")
#include "troupe/channels.hpp"
#endif
