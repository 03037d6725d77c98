import asyncio

async def echo(mailbox):
    while True:
        x, fut = await mailbox.get()
        fut.set_result(x + 1)

async def main():
    mailbox = asyncio.Queue(maxsize=1024)
    actor = asyncio.create_task(echo(mailbox))
    loop = asyncio.get_running_loop()
    v = 0
    for _ in range(1000000):
        fut = loop.create_future()
        await mailbox.put((v, fut))
        v = await fut
    print(v)
    actor.cancel()

asyncio.run(main())
