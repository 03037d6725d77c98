-module(spawn_join).
-export([main/0]).

main() ->
    Self = self(),
    N = 1000000,
    [spawn(fun() -> Self ! {done, I rem 7} end) || I <- lists:seq(0, N - 1)],
    io:format("~p~n", [collect(N, 0)]),
    halt().

collect(0, T) -> T;
collect(N, T) -> receive {done, V} -> collect(N - 1, T + V) end.
