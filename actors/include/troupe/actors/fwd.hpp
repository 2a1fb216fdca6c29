#pragma once
/// Forward declarations of troupe's actor types.

namespace troupe {
class system;
template <class D>
class actor;
template <class A>
class ref;
template <class T>
class future;
template <class T>
class promise;
class timer;
class error;
struct exit_reason;
struct system_config;
struct system_stats;
struct shutdown_report;
class actor_addr;
struct monitor_id;
struct down;
struct exit_msg;
class supervisor;
struct supervisor_options;
struct child_options;
class registry;
class test_system;
struct spawn_options;
class send_outcome;
}  // namespace troupe
