%% fjthrput N ACTORS: fork-join throughput (Savina). A driver process sends
%% N messages to each of ACTORS workers, round-robin; each message carries
%% theta=37.2 and the worker does a tiny compute (s = sin(theta); acc += s*s).
%% Then the driver asks every worker for its count: each must be exactly N.
%% msgs = N*ACTORS.
-module(fjthrput).
-export([main/1]).

main(Args) ->
    [N, Actors0] = bench_common:args(Args, [100000, 60], "fjthrput N ACTORS"),
    Actors = max(1, Actors0),
    Threads = bench_common:threads(),
    Parent = self(),
    %% Workers' mailboxes grow long (the driver outruns them): keep queued
    %% messages off the process heap so GC does not copy the queue each time.
    Workers = [spawn_opt(fun() -> worker(0, 0.0) end, [{message_queue_data, off_heap}])
               || _ <- lists:seq(1, Actors)],
    Theta = 37.2,
    Driver = spawn(fun() -> receive go -> ok end, Parent ! {done, driver(Workers, N, Theta)} end),
    T0 = bench_common:now(),
    Driver ! go,
    Ok = receive {done, R} -> R end,
    Secs = bench_common:secs_since(T0),
    bench_common:emit("fjthrput", N, [{actors, Actors}], Threads, Secs, N * Actors, Ok, []).

worker(Count, Acc) ->
    receive
        Theta when is_float(Theta) ->
            S = math:sin(Theta),
            worker(Count + 1, Acc + S * S);
        {get, From} -> From ! {result, Count, Acc}
    end.

driver(Workers, N, Theta) ->
    send_rounds(Workers, N, Theta),
    Self = self(),
    lists:foreach(fun(W) -> W ! {get, Self} end, Workers),
    {Ok, Sum} = lists:foldl(
                  fun(_, {Ok0, Sum0}) ->
                          receive {result, C, A} -> {Ok0 andalso C =:= N, Sum0 + A} end
                  end, {true, 0.0}, Workers),
    S = math:sin(Theta),
    Expect = N * length(Workers) * S * S,
    Ok andalso abs(Sum - Expect) < 1.0e-6 * Expect + 1.0e-9.

send_rounds(_, 0, _) -> ok;
send_rounds(Workers, K, Theta) ->
    send_all(Workers, Theta),
    send_rounds(Workers, K - 1, Theta).

send_all([], _) -> ok;
send_all([W | Ws], Theta) -> W ! Theta, send_all(Ws, Theta).
