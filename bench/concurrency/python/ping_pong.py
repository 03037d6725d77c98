import asyncio

async def ponger(ping, pong):
    while True:
        v = await ping.get()
        if v is None:
            return
        await pong.put(v + 1)

async def main():
    ping, pong = asyncio.Queue(), asyncio.Queue()
    other = asyncio.create_task(ponger(ping, pong))
    v = 0
    for _ in range(1000000):
        await ping.put(v)
        v = await pong.get()
    await ping.put(None)
    await other
    print(v)

asyncio.run(main())
