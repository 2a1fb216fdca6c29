#pragma once
/// The actor side of troupe: system, actor, ref, future, timer, monitors
/// and links, supervisors, mailboxes, the registry, test_system.

#include "troupe/actors/actor.hpp"
#include "troupe/actors/actor_addr.hpp"
#include "troupe/actors/error.hpp"
#include "troupe/actors/exit_reason.hpp"
#include "troupe/actors/future.hpp"
#include "troupe/actors/logging.hpp"
#include "troupe/actors/mailbox.hpp"
#include "troupe/actors/monitor.hpp"
#include "troupe/actors/ref.hpp"
#include "troupe/actors/registry.hpp"
#include "troupe/actors/supervisor.hpp"
#include "troupe/actors/system.hpp"
#include "troupe/actors/test_system.hpp"
#include "troupe/actors/timer.hpp"
