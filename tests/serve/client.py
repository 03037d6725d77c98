#!/usr/bin/env python3
"""Talks to `stark serve tests/serve/mlp.stark` with Triton's own KServe v2
client (`tritonclient[http]`) and checks every answer against onnxruntime
run on the same inputs in this process (within 1e-5).

    python3 tests/serve/client.py PORT

crates/stark-cli/tests/serve.rs runs it against a server it started; it
prints one line per check and exits non-zero on the first mismatch.
"""
import sys

import numpy as np
import onnxruntime as ort
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

MODEL = "models/mlp.onnx"


def check(what, ok, detail=""):
    if not ok:
        sys.exit(f"FAIL {what} {detail}")
    print(f"ok {what}")


def infer(client, x):
    inp = triton.InferInput("features", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=False)
    out = triton.InferRequestedOutput("logits", binary_data=False)
    return client.infer("mlp", [inp], outputs=[out]).as_numpy("logits")


def main(port):
    client = triton.InferenceServerClient(f"127.0.0.1:{port}")
    check("live", client.is_server_live())
    check("ready", client.is_server_ready())
    check("model ready", client.is_model_ready("mlp"))
    meta = client.get_model_metadata("mlp")
    check("metadata input", meta["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 16]}], meta)
    check("metadata output", meta["outputs"] == [{"name": "logits", "datatype": "FP32", "shape": [-1, 4]}], meta)

    session = ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(7)
    for batch in (1, 3, 16, 40):
        x = rng.standard_normal((batch, 16)).astype(np.float32)
        got = infer(client, x)
        want = session.run(None, {"features": x})[0]
        err = float(np.max(np.abs(got - want)))
        check(f"infer batch {batch} matches onnxruntime", got.shape == want.shape and err <= 1e-5, f"max error {err}")

    try:
        infer(client, rng.standard_normal((2, 8)).astype(np.float32))
        check("wrong shape refused", False, "the server answered")
    except InferenceServerException as e:
        check("wrong shape refused", "wrong shape" in str(e), str(e))
    check("still serving", infer(client, np.zeros((1, 16), np.float32)).shape == (1, 4))


if __name__ == "__main__":
    main(int(sys.argv[1]))
