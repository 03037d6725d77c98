import asyncio

async def skynet(num, size, div):
    if size == 1:
        return num
    sub = size // div
    tasks = [asyncio.create_task(skynet(num + i * sub, sub, div)) for i in range(div)]
    return sum(await asyncio.gather(*tasks))

print(asyncio.run(skynet(0, 1000000, 10)))
