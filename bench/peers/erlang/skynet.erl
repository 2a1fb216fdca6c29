%% skynet N FANOUT: every node with size > 1 spawns min(FANOUT, size)
%% children over equal sub-ranges and sums their replies; a leaf (size 1)
%% replies its number. N leaves; the root sum must be N*(N-1)/2.
%% msgs = number of nodes (each replies once to its parent).
-module(skynet).
-export([main/1]).

main(Args) ->
    [N, Fanout] = bench_common:args(Args, [1000000, 10], "skynet N FANOUT"),
    case N >= 1 andalso Fanout >= 2 of
        true -> ok;
        false -> io:format(standard_error, "skynet needs N >= 1 and FANOUT >= 2~n", []),
                 erlang:halt(2)
    end,
    Threads = bench_common:threads(),
    Count = count_nodes(N, Fanout),
    erlang:garbage_collect(),
    Base = bench_common:proc_status_kb("VmRSS"),
    Parent = self(),
    T0 = bench_common:now(),
    spawn(fun() -> skynet(Parent, 0, N, Fanout) end),
    Sum = receive S -> S end,
    Secs = bench_common:secs_since(T0),
    Peak = bench_common:proc_status_kb("VmHWM"),
    Bpa = (Peak - Base) * 1024 / N,
    bench_common:emit("skynet", N, [{fanout, Fanout}], Threads, Secs, Count - 1,
                      Sum =:= N * (N - 1) div 2,
                      [{sum, Sum}, {actors, Count}, {bytes_per_actor, float(Bpa)},
                       {peak_rss_kb, Peak}, {base_rss_kb, Base}]).

skynet(Parent, Num, 1, _Div) ->
    Parent ! Num;
skynet(Parent, Num, Size, Div) ->
    K = min(Div, Size),
    spawn_children(self(), Num, Size, Div, K, 0),
    Parent ! collect(K, 0).

spawn_children(_, _, _, _, K, K) -> ok;
spawn_children(Self, Num, Size, Div, K, I) ->
    Lo = Num + I * Size div K,
    Hi = Num + (I + 1) * Size div K,
    spawn(fun() -> skynet(Self, Lo, Hi - Lo, Div) end),
    spawn_children(Self, Num, Size, Div, K, I + 1).

collect(0, Sum) -> Sum;
collect(K, Sum) -> receive V -> collect(K - 1, Sum + V) end.

count_nodes(Size, _) when Size =< 1 -> 1;
count_nodes(Size, Div) ->
    K = min(Div, Size),
    1 + lists:sum([count_nodes((I + 1) * Size div K - I * Size div K, Div) || I <- lists:seq(0, K - 1)]).
