import asyncio

async def counter(mailbox):
    n = 0
    while True:
        x, fut = await mailbox.get()
        n += x
        fut.set_result(n)

async def client(mailbox):
    loop = asyncio.get_running_loop()
    for _ in range(1000):
        fut = loop.create_future()
        await mailbox.put((1, fut))
        await fut

async def main():
    mailbox = asyncio.Queue(maxsize=1024)
    actor = asyncio.create_task(counter(mailbox))
    await asyncio.gather(*[client(mailbox) for _ in range(1000)])
    fut = asyncio.get_running_loop().create_future()
    await mailbox.put((0, fut))
    print(await fut)
    actor.cancel()

asyncio.run(main())
