#pragma once
/// The actor side of troupe: system, actor, ref, future, timer.

#include "troupe/actors/actor.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/exit_reason.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/logging.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/actors/timer.hpp"
