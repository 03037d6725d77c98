import asyncio

async def work(i):
    return i % 7

async def main():
    tasks = [asyncio.create_task(work(i)) for i in range(1000000)]
    total = 0
    for t in tasks:
        total += await t
    print(total)

asyncio.run(main())
