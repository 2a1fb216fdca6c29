%% threadring N RING: RING processes 0..RING-1 in a ring; process 0 receives
%% the token with value N; each hop decrements it and forwards to
%% (i+1)%RING; the process receiving 0 is the winner and must be N rem RING.
%% msgs = N hops.
-module(threadring).
-export([main/1]).

main(Args) ->
    [N, Ring0] = bench_common:args(Args, [10000000, 503], "threadring N RING"),
    Ring = max(1, Ring0),
    Threads = bench_common:threads(),
    Parent = self(),
    Pids = [spawn(fun() -> init(Id, Parent) end) || Id <- lists:seq(0, Ring - 1)],
    Nexts = tl(Pids) ++ [hd(Pids)],
    lists:foreach(fun({P, Nx}) -> P ! {next, Nx} end, lists:zip(Pids, Nexts)),
    T0 = bench_common:now(),
    hd(Pids) ! N,
    Winner = receive {winner, W} -> W end,
    Secs = bench_common:secs_since(T0),
    bench_common:emit("threadring", N, [{ring, Ring}], Threads, Secs, N, Winner =:= N rem Ring,
                      [{winner, Winner}]).

init(Id, Parent) ->
    receive {next, Next} -> loop(Id, Next, Parent) end.

loop(Id, Next, Parent) ->
    receive
        0 -> Parent ! {winner, Id};
        V -> Next ! V - 1, loop(Id, Next, Parent)
    end.
