import asyncio

async def produce(i_d, q):
    for i in range(100000):
        await q.put(i % 10 + i_d)

async def main():
    q = asyncio.Queue(maxsize=1024)
    producers = [asyncio.create_task(produce(i, q)) for i in range(100)]
    total = 0
    for _ in range(10000000):
        total += await q.get()
    await asyncio.gather(*producers)
    print(total)

asyncio.run(main())
