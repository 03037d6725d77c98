#!/usr/bin/env python3
"""Writes a serving-sized MLP for bench/serving/run (fixed seed):
features Float32[N, 256] -> Gemm 256x1024, Relu, Gemm 1024x1024, Relu,
Gemm 1024x16 -> logits Float32[N, 16]; about 1.3 M multiply-adds a row,
so the engine's work, not the serving runtime's per-request cost, sets
the pace (the test MLP of models/ does about 600 a row).

    python3 bench/serving/wide_mlp.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WIDTHS = [256, 1024, 1024, 16]


def main(out):
    rng = np.random.default_rng(3)
    nodes, weights, x = [], [], "features"
    for i, (m, n) in enumerate(zip(WIDTHS, WIDTHS[1:])):
        w = (rng.standard_normal((m, n)) / np.sqrt(m)).astype(np.float32)
        b = (rng.standard_normal(n) * 0.1).astype(np.float32)
        weights += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        last = i == len(WIDTHS) - 2
        y = "logits" if last else f"h{i}"
        nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [y if last else f"g{i}"]))
        if not last:
            nodes.append(helper.make_node("Relu", [f"g{i}"], [y]))
        x = y
    graph = helper.make_graph(
        nodes,
        "mlp_wide",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", WIDTHS[0]])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", WIDTHS[-1]])],
        weights,
    )
    model = helper.make_model(graph, producer_name="stark-bench")
    model.opset_import[0].version = 17
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main(sys.argv[1])
