%% pingpong N: two processes exchange N round trips (2N messages).
-module(pingpong).
-export([main/1]).

main(Args) ->
    [N] = bench_common:args(Args, [1000000], "pingpong N"),
    Threads = bench_common:threads(),
    Parent = self(),
    Pong = spawn(fun pong/0),
    Ping = spawn(fun() -> receive go -> ok end, Parent ! {done, ping(Pong, N, 0)} end),
    T0 = bench_common:now(),
    Ping ! go,
    Got = receive {done, G} -> G end,
    Secs = bench_common:secs_since(T0),
    bench_common:emit("pingpong", N, [], Threads, Secs, 2 * N, Got =:= N, []).

pong() ->
    receive
        {ping, From, V} -> From ! {pong, V}, pong();
        stop -> ok
    end.

ping(Pong, 0, Count) -> Pong ! stop, Count;
ping(Pong, K, Count) ->
    Pong ! {ping, self(), K},
    receive {pong, _} -> ping(Pong, K - 1, Count + 1) end.
