-module(skynet).
-export([main/0]).

skynet(Parent, Num, 1, _Div) -> Parent ! {self(), Num};
skynet(Parent, Num, Size, Div) ->
    Sub = Size div Div,
    Self = self(),
    [spawn(fun() -> skynet(Self, Num + I * Sub, Sub, Div) end) || I <- lists:seq(0, Div - 1)],
    Parent ! {self(), collect(Div, 0)}.

collect(0, Sum) -> Sum;
collect(N, Sum) -> receive {_, V} -> collect(N - 1, Sum + V) end.

main() ->
    Self = self(),
    spawn(fun() -> skynet(Self, 0, 1000000, 10) end),
    receive {_, V} -> io:format("~p~n", [V]) end,
    halt().
