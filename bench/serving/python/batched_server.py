"""Python peer of bench/serving: onnxruntime behind an asyncio queue doing
the same dynamic batching as STARK's `serve` (a batch runs at max_batch
requests or when its oldest has waited max_delay), the session run on a
worker thread. 1,000 client coroutines send 100 requests each. Also
prints onnxruntime's offline batched ceiling.

    python3 batched_server.py MODEL [ceiling]
"""
import asyncio
import sys
import time

import numpy as np
import onnxruntime as ort

MAX_BATCH, MAX_DELAY = 128, 0.0005
CLIENTS, PER_CLIENT = 1000, 100


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


async def batcher(sess, queue):
    loop = asyncio.get_running_loop()
    while True:
        first = await queue.get()
        batch = [first]
        deadline = loop.time() + MAX_DELAY
        while len(batch) < MAX_BATCH:
            timeout = deadline - loop.time()
            if timeout <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(queue.get(), timeout))
            except asyncio.TimeoutError:
                break
        x = np.concatenate([b[0] for b in batch])
        out = await loop.run_in_executor(None, lambda: sess.run(None, {"features": x})[0])
        for i, (_, fut) in enumerate(batch):
            fut.set_result(out[i : i + 1])


def width(sess):
    """The features per request: the model's second input dimension."""
    w = sess.get_inputs()[0].shape[1]
    return w if isinstance(w, int) else 16


async def client(queue, cid, latencies, features):
    loop = asyncio.get_running_loop()
    x = np.full((1, features), (cid % 10) * 0.1, dtype=np.float32)
    for _ in range(PER_CLIENT):
        t = time.perf_counter()
        fut = loop.create_future()
        await queue.put((x, fut))
        await fut
        latencies.append((time.perf_counter() - t) * 1e6)


async def serve(path):
    sess = session(path)
    queue = asyncio.Queue()
    worker = asyncio.create_task(batcher(sess, queue))
    latencies = []
    start = time.perf_counter()
    await asyncio.gather(*(client(queue, c, latencies, width(sess)) for c in range(CLIENTS)))
    secs = time.perf_counter() - start
    worker.cancel()
    latencies.sort()
    n = len(latencies)
    print(f"requests {n} throughput {n / secs:.0f} p50_us {latencies[n // 2]:.0f} p99_us {latencies[n * 99 // 100]:.0f}")


def ceiling(path):
    sess = session(path)
    best = 0.0
    for b in (1, 8, 32, 128, 512):
        x = np.random.default_rng(0).standard_normal((b, width(sess))).astype(np.float32)
        for _ in range(20):
            sess.run(None, {"features": x})
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.5:
            sess.run(None, {"features": x})
            n += b
        best = max(best, n / (time.perf_counter() - start))
    print(f"ceiling {best:.0f}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "ceiling":
        ceiling(sys.argv[1])
    else:
        asyncio.run(serve(sys.argv[1]))
