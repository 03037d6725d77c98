-module(fan_in).
-export([main/0]).

%% Erlang has no bounded channel: producers send to the consumer's mailbox.
produce(_, _, 100000) -> ok;
produce(C, Id, I) -> C ! {v, I rem 10 + Id}, produce(C, Id, I + 1).

consume(0, T) -> T;
consume(N, T) -> receive {v, V} -> consume(N - 1, T + V) end.

main() ->
    Self = self(),
    [spawn(fun() -> produce(Self, Id, 0) end) || Id <- lists:seq(0, 99)],
    io:format("~p~n", [consume(10000000, 0)]),
    halt().
