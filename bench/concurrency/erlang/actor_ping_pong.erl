-module(actor_ping_pong).
-behaviour(gen_server).
-export([main/0, init/1, handle_call/3, handle_cast/2]).

init(_) -> {ok, nil}.
handle_call(X, _From, S) -> {reply, X + 1, S}.
handle_cast(_, S) -> {noreply, S}.

loop(_, V, 0) -> V;
loop(S, V, N) -> loop(S, gen_server:call(S, V), N - 1).

main() ->
    {ok, S} = gen_server:start(?MODULE, nil, []),
    io:format("~p~n", [loop(S, 0, 1000000)]),
    halt().
