#pragma once
/// troupe::task<T> and everything a task can co_await: the whole coroutine
/// layer in one include. Each part has its own header under coro/:
///
/// - coro/task.hpp: task<T> (lazy, move-only; limits and guarantees there)
/// - coro/await_future.hpp: `co_await future<T>` (so `co_await ref.ask(m)`)
/// - coro/sleep.hpp: sleep_for, sleep_until, get_stop_token
/// - coro/go.hpp: system::go() and task_handle<T>
/// - coro/when.hpp: when_all, when_any
///
/// The channel operations of troupe::channels are awaitable too.

#include "troupe/actors/coro/await_future.hpp"
#include "troupe/actors/coro/go.hpp"
#include "troupe/actors/coro/sleep.hpp"
#include "troupe/actors/coro/task.hpp"
#include "troupe/actors/coro/when.hpp"
