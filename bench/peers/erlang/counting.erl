%% counting N: a producer process sends N increments to one counting
%% process, then asks for the count; it must equal N. msgs = N.
-module(counting).
-export([main/1]).

main(Args) ->
    [N] = bench_common:args(Args, [10000000], "counting N"),
    Threads = bench_common:threads(),
    Parent = self(),
    %% The counter's mailbox grows long (the producer outruns it): keep queued
    %% messages off the process heap so GC does not copy the queue each time.
    Counter = spawn_opt(fun() -> counter(0) end, [{message_queue_data, off_heap}]),
    Producer = spawn(fun() -> receive go -> ok end, producer(Counter, N, Parent) end),
    T0 = bench_common:now(),
    Producer ! go,
    Got = receive {done, C} -> C end,
    Secs = bench_common:secs_since(T0),
    bench_common:emit("counting", N, [], Threads, Secs, N, Got =:= N, [{count, Got}]).

counter(C) ->
    receive
        inc -> counter(C + 1);
        {get, From} -> From ! {count, C}
    end.

producer(Counter, 0, Parent) ->
    Counter ! {get, self()},
    receive {count, C} -> Parent ! {done, C} end;
producer(Counter, K, Parent) ->
    Counter ! inc,
    producer(Counter, K - 1, Parent).
