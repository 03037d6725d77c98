-module(actor_ask).
-behaviour(gen_server).
-export([main/0, init/1, handle_call/3, handle_cast/2]).

init(N) -> {ok, N}.
handle_call(X, _From, N) -> {reply, N + X, N + X}.
handle_cast(_, N) -> {noreply, N}.

client(Parent, S) ->
    [gen_server:call(S, 1) || _ <- lists:seq(1, 1000)],
    Parent ! done.

main() ->
    {ok, S} = gen_server:start(?MODULE, 0, []),
    Self = self(),
    [spawn(fun() -> client(Self, S) end) || _ <- lists:seq(1, 1000)],
    [receive done -> ok end || _ <- lists:seq(1, 1000)],
    io:format("~p~n", [gen_server:call(S, 0)]),
    halt().
