"""The encoder as analysis runs it: the same weights as encoder.py (all-MiniLM-L6-v2 with the
LoRA adapter merged), written once into an ONNX graph whose matrix weights are int8,
quantised per output channel, and run by ONNX Runtime. On these machines that is 1.6-1.9x
the torch fp32 speed with cosine ~0.99 to its embeddings (shared/notes/measurements.md);
per-tensor int8 is faster still but drops cosine to ~0.93, so it is not used. The heads'
F1 on this path is measured by `make eval` (models/metrics.json, `held_out_int8`).

The graph is built from the verified safetensors on first use and kept in the cache folder
under a name derived from the encoder's and adapter's sha256; it is checked against the
torch encoder on probe sentences when built and by its own sha256 whenever loaded."""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from analyzer.encoder import MODEL_SHA256, Encoder, EncoderError, encode_batched, sha256_of

GRAPH_VERSION = 1           # bump when the graph below changes
MIN_PROBE_COSINE = 0.97     # a build whose int8 embeddings drift further is refused
PROBES = (
    "I'll send the revised quote by Friday and copy your finance lead.",
    "Honestly, I don't know whether the inverter handles that, let me check with our engineer.",
    "So the real problem isn't the price, it's the hours your dispatch team loses every morning.",
    "ok so um what happens at the front desk when the phones go down",
    "That was my mistake on the invoice, I'm sorry, a corrected one is on its way today.",
    "This price is only good until Monday, after that it goes up fifteen percent.",
    "Right.",
    "Which part of the month-end close takes your team the most time right now?",
)


def cache_dir() -> Path:
    """Derived files (the int8 graph): LOYALTY_CACHE_DIR, else ~/.cache/loyalty-analyzer."""
    return Path(os.environ.get("LOYALTY_CACHE_DIR", Path.home() / ".cache" / "loyalty-analyzer"))


def graph_path(adapter_sha256: str | None) -> Path:
    identity = f"{MODEL_SHA256}:{adapter_sha256 or 'none'}:{GRAPH_VERSION}"
    return cache_dir() / f"encoder-int8-{hashlib.sha256(identity.encode()).hexdigest()[:16]}.onnx"


def _graph(weights: dict, config: dict):
    """BERT's transformer layers as an ONNX graph over (hidden states after the embedding
    layer-norm, additive attention bias) -> last hidden states. Embedding lookup and pooling
    stay in numpy: they are cheap and keep the graph to what quantisation speeds up."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    size, eps = hidden // heads, config["layer_norm_eps"]
    nodes, inits = [], []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def linear(x: str, key: str, out: str) -> str:
        w = const(key + ".w", weights[key + ".weight"].numpy().T.astype(np.float32))
        b = const(key + ".b", weights[key + ".bias"].numpy().astype(np.float32))
        return node("Add", [node("MatMul", [x, w], out + ".mm"), b], out)

    def norm(x: str, key: str, out: str) -> str:
        scale = const(key + ".gamma", weights[key + ".weight"].numpy().astype(np.float32))
        bias = const(key + ".beta", weights[key + ".bias"].numpy().astype(np.float32))
        return node("LayerNormalization", [x, scale, bias], out, axis=-1, epsilon=eps)

    split_shape = const("split_shape", np.array([0, 0, heads, size], dtype=np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, hidden], dtype=np.int64))
    inv_sqrt = const("inv_sqrt", np.array(1.0 / math.sqrt(size), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))
    one = const("one", np.array(1.0, dtype=np.float32))
    inv_sqrt2 = const("inv_sqrt2", np.array(1.0 / math.sqrt(2.0), dtype=np.float32))
    x = "hidden_in"
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q, k, v = (
            node("Transpose", [node("Reshape", [linear(x, p + f"attention.self.{n}", f"l{i}.{n}"), split_shape], f"l{i}.{n}.split")],
                 f"l{i}.{n}.heads", perm=perm)
            for n, perm in (("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3]))
        )
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], f"l{i}.qk"), inv_sqrt], f"l{i}.scaled"), "attention_bias"], f"l{i}.scores")
        probs = node("Softmax", [scores], f"l{i}.probs", axis=-1)
        context = node("Reshape", [node("Transpose", [node("MatMul", [probs, v], f"l{i}.ctx")], f"l{i}.ctx.t", perm=[0, 2, 1, 3]),
                                   merge_shape], f"l{i}.ctx.merged")
        attended = linear(context, p + "attention.output.dense", f"l{i}.attn")
        x = norm(node("Add", [x, attended], f"l{i}.res1"), p + "attention.output.LayerNorm", f"l{i}.ln1")
        inner = linear(x, p + "intermediate.dense", f"l{i}.inner")
        erf = node("Erf", [node("Mul", [inner, inv_sqrt2], f"l{i}.gelu.s")], f"l{i}.gelu.erf")
        gelu = node("Mul", [node("Mul", [inner, half], f"l{i}.gelu.h"), node("Add", [erf, one], f"l{i}.gelu.1p")], f"l{i}.gelu")
        out = linear(gelu, p + "output.dense", f"l{i}.out")
        x = norm(node("Add", [x, out], f"l{i}.res2"), p + "output.LayerNorm", f"l{i}.ln2")
    nodes.append(helper.make_node("Identity", [x], ["hidden_out"], name="hidden_out"))
    graph = helper.make_graph(
        nodes, "minilm_layers",
        [helper.make_tensor_value_info("hidden_in", TensorProto.FLOAT, ["batch", "length", hidden]),
         helper.make_tensor_value_info("attention_bias", TensorProto.FLOAT, ["batch", 1, 1, "length"])],
        [helper.make_tensor_value_info("hidden_out", TensorProto.FLOAT, ["batch", "length", hidden])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build(reference: Encoder, target: Path) -> dict:
    """Write the int8 graph for `reference`'s weights to `target` (whole or not at all) and
    return its record: sha256 and the probe cosine to the torch embeddings."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        fp32 = Path(scratch) / "fp32.onnx"
        int8 = Path(scratch) / "int8.onnx"
        onnx.save(_graph(reference.w, reference.config), str(fp32))
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # quantize_dynamic advises pre-processing on the root logger
        try:
            quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        candidate = OnnxEncoder(reference, int8)
        cosine = (candidate.encode(PROBES) * reference.encode(PROBES)).sum(1)
        if cosine.min() < MIN_PROBE_COSINE:
            raise EncoderError(f"the int8 encoder drifted from fp32 (probe cosine min {cosine.min():.3f})")
        record = {"sha256": sha256_of(int8), "probe_cosine_mean": round(float(cosine.mean()), 4),
                  "probe_cosine_min": round(float(cosine.min()), 4), "graph_version": GRAPH_VERSION}
        target.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
        os.replace(int8, target)
    return record


class OnnxEncoder:
    """Texts -> (n, 384) float32 unit vectors, like Encoder.encode, through ONNX Runtime.
    Shares the reference encoder's tokenizer and embedding tables."""

    def __init__(self, reference: Encoder, graph: Path) -> None:
        import onnxruntime

        self.reference = reference
        self.tokenizer = reference.tokenizer
        self.batch_size = reference.batch_size
        w = reference.w
        # the token-type embedding is always type 0: fold it into the word table
        self.words = (w["embeddings.word_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]).numpy()
        self.positions = w["embeddings.position_embeddings.weight"].numpy()
        self.ln = (w["embeddings.LayerNorm.weight"].numpy(), w["embeddings.LayerNorm.bias"].numpy(),
                   reference.config["layer_norm_eps"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = reference._torch.get_num_threads()  # the worker's share (engines.py)
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def _forward(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1.0
        x = self.words[ids] + self.positions[:length][None]
        gamma, beta, eps = self.ln
        mean = x.mean(-1, keepdims=True)
        x = (x - mean) / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + eps) * gamma + beta
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        (hidden,) = self.session.run(None, {"hidden_in": x.astype(np.float32), "attention_bias": bias.astype(np.float32)})
        pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return encode_batched(texts, self.tokenizer, self.batch_size, self._forward)


def _intact(path: Path) -> bool:
    record = path.with_suffix(".json")
    return path.is_file() and record.is_file() and sha256_of(path) == json.loads(record.read_text())["sha256"]


def ensure_graph(load_reference: Callable[[], Encoder], adapter_sha256: str | None) -> Path:
    """The int8 graph for the shipped weights and this adapter, built now when missing or
    damaged (before workers start, so they never race to build it). The fp32 encoder is
    loaded only when a build is needed."""
    path = graph_path(adapter_sha256)
    if not _intact(path):
        build(load_reference(), path)
    return path


def int8_encoder(reference: Encoder, adapter_sha256: str | None) -> OnnxEncoder:
    """The int8 encoder for `reference`'s weights: built on first use, verified on load."""
    path = graph_path(adapter_sha256)
    if not path.is_file() or not path.with_suffix(".json").is_file():
        build(reference, path)
    if not _intact(path):
        path.unlink(missing_ok=True)  # damaged: rebuilt next time
        raise EncoderError(f"{path} does not match the sha256 recorded when it was built; run again to rebuild it")
    return OnnxEncoder(reference, path)
