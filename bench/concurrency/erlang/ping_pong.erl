-module(ping_pong).
-export([main/0]).

ponger() -> receive {From, V} -> From ! V + 1, ponger(); stop -> ok end.

loop(_, V, 0) -> V;
loop(P, V, N) -> P ! {self(), V}, receive R -> loop(P, R, N - 1) end.

main() ->
    P = spawn(fun ponger/0),
    V = loop(P, 0, 1000000),
    P ! stop,
    io:format("~p~n", [V]),
    halt().
