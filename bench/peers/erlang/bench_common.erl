%% Shared benchmark convention for the Erlang/OTP peers: positional integer
%% arguments, BENCH_THREADS -> +S T:T (set by the wrapper script), a
%% monotonic timer around the workload only, RSS from /proc/self/status, and
%% exactly one JSON line on stdout (exit status 1 if the check failed).
-module(bench_common).
-export([args/3, threads/0, now/0, secs_since/1, proc_status_kb/1, emit/8]).

args(Strs, Defaults, Usage) ->
    case length(Strs) > length(Defaults) of
        true -> usage(Usage);
        false -> ok
    end,
    Given = [parse_int(S, Usage) || S <- Strs],
    Given ++ lists:nthtail(length(Given), Defaults).

parse_int(S, Usage) ->
    try list_to_integer(S) of
        V when V >= 0 -> V;
        _ -> usage(Usage)
    catch
        _:_ -> usage(Usage)
    end.

usage(Usage) ->
    io:format(standard_error, "usage: ~s~n", [Usage]),
    erlang:halt(2).

threads() -> erlang:system_info(schedulers_online).

now() -> erlang:monotonic_time(nanosecond).

secs_since(T0) -> (erlang:monotonic_time(nanosecond) - T0) / 1.0e9.

%% A "VmRSS"/"VmHWM" style field of /proc/self/status, in KiB.
proc_status_kb(Field) ->
    case file:read_file("/proc/self/status") of
        {ok, Bin} ->
            Prefix = list_to_binary(Field ++ ":"),
            Lines = binary:split(Bin, <<"\n">>, [global]),
            find_field(Lines, Prefix);
        _ -> 0
    end.

find_field([], _) -> 0;
find_field([L | Rest], Prefix) ->
    case binary:match(L, Prefix) of
        {0, Len} ->
            <<_:Len/binary, Tail/binary>> = L,
            [Num | _] = string:lexemes(binary_to_list(Tail), " \tkB"),
            list_to_integer(Num);
        _ -> find_field(Rest, Prefix)
    end.

%% Params and Extra are lists of {Key, Value}; Value an integer, float or
%% string. Prints the JSON line and halts.
emit(Workload, N, Params, Threads, Secs, Msgs, Ok, Extra) ->
    Rate = case Secs > 0 of true -> Msgs / Secs; false -> 0.0 end,
    Check = case Ok of true -> "passed"; false -> "failed" end,
    Extra2 = case lists:keymember(peak_rss_kb, 1, Extra) of
                 true -> Extra;
                 false -> Extra ++ [{peak_rss_kb, proc_status_kb("VmHWM")}]
             end,
    Line = [io_lib:format("{\"impl\":\"erlang\",\"workload\":\"~s\",\"n\":~B", [Workload, N]),
            [kv(K, V) || {K, V} <- Params],
            io_lib:format(",\"threads\":~B,\"time_s\":~.6f,\"msgs\":~B,\"msgs_per_s\":~.1f,"
                          "\"check\":\"~s\"", [Threads, float(Secs), Msgs, float(Rate), Check]),
            [kv(K, V) || {K, V} <- Extra2],
            "}\n"],
    io:put_chars(Line),
    erlang:halt(case Ok of true -> 0; false -> 1 end).

kv(K, V) when is_integer(V) -> io_lib:format(",\"~s\":~B", [K, V]);
kv(K, V) when is_float(V) -> io_lib:format(",\"~s\":~.1f", [K, V]);
kv(K, V) -> io_lib:format(",\"~s\":\"~s\"", [K, V]).
