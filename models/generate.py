#!/usr/bin/env python3
"""Generates the small ONNX test models under models/ with fixed seeds, and
models/reference.json: each model's outputs for fixed inputs as onnxruntime
computes them (the backends are checked against it within 1e-5).

    python3 models/generate.py        # installs onnx, onnxruntime, numpy if missing

The models:
- mlp.onnx: a classifier, features Float32[N, 16] -> logits Float32[N, 4]
  (Gemm 16x32, Relu, Gemm 32x4).
- embedder.onnx: token_ids Int64[N, L] -> embedding Float32[N, 8] (an
  embedding table of 100 tokens, mean over the sequence, L2-normalised).
- two_inputs.onnx: a Float32[N, 4], b Float32[N, 4] -> out Float32[N, 3]
  ((a + b) x W) and diff Float32[N, 4] (a - b).
- classifier.onnx: embedding Float32[N, 8] -> logits Float32[N, 2].
- unsupported_op.onnx: a node of an operator no backend knows.
- tiny_bert/: a BERT encoder with random weights (vocabulary 100, as the
  tokenizer's; hidden 16, 2 layers, 4 heads) as candle reads it:
  config.json and model.safetensors; and tiny_bert.onnx, the same network as
  an ONNX graph (fetch_minilm.py's builder): input_ids Int64[N, L] ->
  sentence_embedding Float32[N, 16] (mean over non-padding tokens, L2-normalised).
- tokenizer.json: a small WordPiece tokenizer (lower-cased, BERT-style
  pre-tokenisation, `[CLS] ... [SEP]`) whose ids (< 100) index the
  embedder's table.
"""
import json
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def need(*modules):
    missing = []
    for m in modules:
        try:
            __import__(m)
        except ImportError:
            missing.append(m)
    if missing:
        pins = {"onnx": "onnx==1.17.0", "onnxruntime": "onnxruntime==1.32.0", "numpy": "numpy", "tokenizers": "tokenizers==0.23.3"}
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + [pins[m] for m in missing])


need("numpy", "onnx", "onnxruntime", "tokenizers")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
import onnxruntime as ort  # noqa: E402


def save(model, name):
    model.opset_import[0].version = 17
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(HERE / name))


def mlp():
    rng = np.random.default_rng(7)
    w1 = (rng.standard_normal((16, 32)) * 0.3).astype(np.float32)
    b1 = (rng.standard_normal(32) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((32, 4)) * 0.3).astype(np.float32)
    b2 = (rng.standard_normal(4) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["features", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", "w2", "b2"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 4])],
        [numpy_helper.from_array(a, n) for a, n in [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2")]],
    )
    save(helper.make_model(graph, producer_name="stark-tests"), "mlp.onnx")


def embedder():
    rng = np.random.default_rng(11)
    table = rng.standard_normal((100, 8)).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "token_ids"], ["vectors"], axis=0),
        helper.make_node("ReduceMean", ["vectors"], ["mean"], axes=[1], keepdims=0),
        helper.make_node("LpNormalization", ["mean"], ["embedding"], axis=1, p=2),
    ]
    graph = helper.make_graph(
        nodes,
        "embedder",
        [helper.make_tensor_value_info("token_ids", TensorProto.INT64, ["N", "L"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 8])],
        [numpy_helper.from_array(table, "table")],
    )
    model = helper.make_model(graph, producer_name="stark-tests")
    model.opset_import[0].version = 17
    # ReduceMean takes `axes` as an attribute up to opset 17.
    save(model, "embedder.onnx")


def two_inputs():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Add", ["a", "b"], ["s"]),
        helper.make_node("MatMul", ["s", "w"], ["out"]),
        helper.make_node("Sub", ["a", "b"], ["diff"]),
    ]
    graph = helper.make_graph(
        nodes,
        "two_inputs",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 4]),
        ],
        [
            helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("diff", TensorProto.FLOAT, ["N", 4]),
        ],
        [numpy_helper.from_array(w, "w")],
    )
    save(helper.make_model(graph, producer_name="stark-tests"), "two_inputs.onnx")


def classifier():
    rng = np.random.default_rng(13)
    w = (rng.standard_normal((8, 2)) * 2.0).astype(np.float32)
    b = np.array([0.1, -0.1], dtype=np.float32)
    nodes = [helper.make_node("Gemm", ["embedding", "w", "b"], ["logits"])]
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    save(helper.make_model(graph, producer_name="stark-tests"), "classifier.onnx")


WORDS = """the a an is was and or not of to in on for with this that it i you we they
good great love happy fine excellent bad terrible hate sad awful poor
movie film food service day model server request text fast slow price
man eating bread piece stock market fell rose today""".split()


def tokenizer():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", ".", ",", "!", "?", "##s", "##ing"] + WORDS)}
    assert len(vocab) <= 100, len(vocab)
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    tok.save(str(HERE / "tokenizer.json"))


def unsupported():
    node = helper.make_node("FrobnicateTensor", ["x"], ["y"], domain="stark.test")
    graph = helper.make_graph(
        [node],
        "unsupported_op",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(
        graph, producer_name="stark-tests", opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("stark.test", 1)]
    )
    model.ir_version = 8
    onnx.save(model, str(HERE / "unsupported_op.onnx"))


TINY_BERT = {
    "architectures": ["BertModel"], "model_type": "bert", "vocab_size": 100, "hidden_size": 16,
    "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 32, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 32,
    "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
    "position_embedding_type": "absolute",
}


def write_safetensors(tensors, path):
    """The safetensors format: an 8-byte little-endian header length, a JSON
    header (dtype, shape, byte offsets; padded to 8 bytes), the raw data."""
    header, offset = {}, 0
    for name, a in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())


def tiny_bert():
    sys.path.insert(0, str(HERE))
    from fetch_minilm import bert_onnx

    rng = np.random.default_rng(17)
    c = TINY_BERT
    h, inner = c["hidden_size"], c["intermediate_size"]
    t = {
        "embeddings.word_embeddings.weight": rng.standard_normal((c["vocab_size"], h)),
        "embeddings.position_embeddings.weight": rng.standard_normal((c["max_position_embeddings"], h)) * 0.1,
        "embeddings.token_type_embeddings.weight": rng.standard_normal((2, h)) * 0.1,
        "embeddings.LayerNorm.weight": 1 + rng.standard_normal(h) * 0.1,
        "embeddings.LayerNorm.bias": rng.standard_normal(h) * 0.1,
    }
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for name, (o, n) in {"attention.self.query": (h, h), "attention.self.key": (h, h), "attention.self.value": (h, h),
                             "attention.output.dense": (h, h), "intermediate.dense": (inner, h), "output.dense": (h, inner)}.items():
            t[p + name + ".weight"] = rng.standard_normal((o, n)) / np.sqrt(n)
            t[p + name + ".bias"] = rng.standard_normal(o) * 0.1
        for ln in ["attention.output.LayerNorm", "output.LayerNorm"]:
            t[p + ln + ".weight"] = 1 + rng.standard_normal(h) * 0.1
            t[p + ln + ".bias"] = rng.standard_normal(h) * 0.1
    t = {k: v.astype(np.float32) for k, v in t.items()}
    folder = HERE / "tiny_bert"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(c, indent=1) + "\n")
    write_safetensors(t, folder / "model.safetensors")
    save(bert_onnx(t, c), "tiny_bert.onnx")


def pattern(shape, scale=0.25):
    """The inputs both sides use: ((i % 7) - 3) * scale over the flat index."""
    n = int(np.prod(shape))
    return ((np.arange(n) % 7 - 3) * scale).astype(np.float32).reshape(shape)


def reference():
    ref = {}
    run = lambda name, feeds: ort.InferenceSession(str(HERE / name)).run(None, feeds)
    for n in [1, 3, 8]:
        ref[f"mlp/{n}"] = run("mlp.onnx", {"features": pattern((n, 16))})[0].ravel().tolist()
    ids = (np.arange(2 * 5) * 7 % 100).astype(np.int64).reshape(2, 5)
    ref["embedder/2x5"] = run("embedder.onnx", {"token_ids": ids})[0].ravel().tolist()
    a, b = pattern((2, 4)), pattern((2, 4), 0.5)
    outs = run("two_inputs.onnx", {"a": a, "b": b})
    ref["two_inputs/out"] = outs[0].ravel().tolist()
    ref["two_inputs/diff"] = outs[1].ravel().tolist()
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(HERE / "tokenizer.json"))
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    texts = ["The food was great!", "A man is eating bread.", "I hate this slow service."]
    tiny_ids = np.array([e.ids for e in tok.encode_batch(texts)], dtype=np.int64)
    ref["tiny_bert/ids"] = tiny_ids.ravel().tolist()
    ref["tiny_bert/shape"] = list(tiny_ids.shape)
    ref["tiny_bert/embedding"] = run("tiny_bert.onnx", {"input_ids": tiny_ids})[0].ravel().tolist()
    (HERE / "reference.json").write_text(json.dumps(ref, indent=1) + "\n")


if __name__ == "__main__":
    mlp()
    embedder()
    two_inputs()
    classifier()
    unsupported()
    tokenizer()
    tiny_bert()
    reference()
    print("wrote", ", ".join(sorted(p.name for p in HERE.glob("*.onnx"))), "tokenizer.json and reference.json")
