%% chameneos N CREATURES: the Savina chameneos protocol. A mall process
%% pairs meeting requests until N meetings have happened, then answers every
%% further request with 'exit'. A paired creature computes its new color,
%% tells its partner ('change'), counts the meeting and asks the mall again;
%% at 'exit' it fades and reports its meeting count to the mall. The
%% reported counts must sum to 2N. msgs = 4N.
-module(chameneos).
-export([main/1]).

main(Args) ->
    [N, Creatures] = bench_common:args(Args, [1000000, 10], "chameneos N CREATURES"),
    case Creatures >= 2 of
        true -> ok;
        false -> io:format(standard_error, "chameneos needs at least 2 creatures~n", []),
                 erlang:halt(2)
    end,
    Threads = bench_common:threads(),
    Parent = self(),
    T0 = bench_common:now(),
    Mall = spawn(fun() -> mall(N, none, 0, 0, Creatures, Parent) end),
    [spawn(fun() -> start_creature(Mall, I rem 3) end) || I <- lists:seq(0, Creatures - 1)],
    Sum = receive {done, S} -> S end,
    Secs = bench_common:secs_since(T0),
    bench_common:emit("chameneos", N, [{creatures, Creatures}], Threads, Secs, 4 * N,
                      Sum =:= 2 * N, [{meetings, Sum}]).

mall(Remaining, Waiting, Faded, Sum, Creatures, Parent) ->
    receive
        {meet, Color, From} ->
            if
                Remaining =:= 0 ->
                    From ! exit,
                    mall(Remaining, Waiting, Faded, Sum, Creatures, Parent);
                Waiting =:= none ->
                    mall(Remaining, From, Faded, Sum, Creatures, Parent);
                true ->
                    Waiting ! {meet, Color, From},
                    mall(Remaining - 1, none, Faded, Sum, Creatures, Parent)
            end;
        {count, M} ->
            case Faded + 1 of
                Creatures -> Parent ! {done, Sum + M};
                F -> mall(Remaining, Waiting, F, Sum + M, Creatures, Parent)
            end
    end.

complement(A, A) -> A;
complement(A, B) -> 3 - A - B.

start_creature(Mall, Color) ->
    Mall ! {meet, Color, self()},
    creature(Mall, Color, 0).

creature(Mall, Color, Meetings) ->
    receive
        {meet, Other, Partner} ->
            C = complement(Color, Other),
            Partner ! {change, C},
            Mall ! {meet, C, self()},
            creature(Mall, C, Meetings + 1);
        {change, C} ->
            Mall ! {meet, C, self()},
            creature(Mall, C, Meetings + 1);
        exit ->
            Mall ! {count, Meetings}
    end.
