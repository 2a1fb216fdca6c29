#pragma once
/// The CSP side of troupe: channels, select, and the coroutines they work
/// with (troupe::task, system::go, sleep_for, when_all, when_any).

#include "troupe/actors/task.hpp"
#include "troupe/channels/channel.hpp"
#include "troupe/channels/select.hpp"
