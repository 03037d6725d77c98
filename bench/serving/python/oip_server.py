"""Python peer of bench/serving/http: an Open Inference Protocol (KServe v2)
server on aiohttp, `POST /v2/models/mlp/infer` with JSON tensors, whose
requests go through the same asyncio dynamic batcher as batched_server.py
(max_batch 128, max_delay 500 us, onnxruntime on a worker thread).

    python3 oip_server.py MODEL PORT
"""
import asyncio
import sys

import numpy as np
from aiohttp import web

from batched_server import batcher, session


async def infer(request):
    body = await request.json()
    inp = body["inputs"][0]
    x = np.asarray(inp["data"], dtype=np.float32).reshape(inp["shape"])
    fut = asyncio.get_running_loop().create_future()
    await request.app["queue"].put((x, fut))
    y = await fut
    out = {"name": "logits", "shape": list(y.shape), "datatype": "FP32", "data": y.ravel().tolist()}
    return web.json_response({"model_name": "mlp", "outputs": [out]})


async def start(app):
    app["queue"] = asyncio.Queue()
    app["batcher"] = asyncio.create_task(batcher(app["session"], app["queue"]))


def main(path, port):
    app = web.Application()
    app["session"] = session(path)
    app.on_startup.append(start)
    app.router.add_post("/v2/models/mlp/infer", infer)
    app.router.add_get("/v2/health/ready", lambda _: web.json_response({"ready": True}))
    web.run_app(app, host="127.0.0.1", port=port, print=lambda *_: print("serving", flush=True))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
