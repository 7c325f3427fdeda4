"""The encoder as analysis runs it: the reference encoder (encoder.py: transformers'
BertModel with the LoRA adapter merged) exported with `torch.onnx.export`, its matrix
weights quantised to int8 per output channel by `onnxruntime.quantization.quantize_dynamic`,
and run by ONNX Runtime. The heads' F1 on this path is measured by `make eval`
(models/metrics.json, `*_int8`).

Dynamic quantisation scales each MatMul's activations over the whole input tensor, so a
text's embedding depends on the other texts in its batch. Analysis therefore encodes each
call on its own (classifier.py), never a batch mixing calls: a call's findings are the same
alone or in any folder. Measured alternatives (docs/speed.md): ORT fp32 is exactly
batch-invariant but ran at 0.4-1.7x the int8 speed on a busy machine; static
(calibrated) int8 is batch-invariant but its embeddings drift to cosine 0.91 of fp32; one text per run is batch-invariant at ~0.65x.

The attention is exported as transformers' eager attention (an additive mask before the
softmax), not its SDPA path, which exports as Where/IsNaN mask plumbing around every
softmax: on 1,152 bench texts that plumbing was 12 % of ONNX Runtime's time, and the eager
graph encodes them in 2.21-2.33 s against 2.62-2.77 s, as close to fp32 (mean cosine 0.9895
against 0.9896, minimum 0.9787 both). ONNX Runtime's offline transformer fusions (Attention,
BiasGelu, SkipLayerNormalization) on the eager graph were slower once quantised (2.5-3.4 s).

The graph is exported on first use into the cache folder under a name derived from the
encoder's and adapter's sha256, checked against the torch encoder on probe sentences when
built, and by its own sha256 whenever loaded."""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from analyzer.encoder import MODEL_SHA256, Encoder, EncoderError, encode_batched, mean_pool, sha256_of

GRAPH_VERSION = 3           # bump when the export below changes
MIN_PROBE_COSINE = 0.95     # a broken build, not a lossy one: "Right." alone sits at 0.965
OPSET = 17
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


def export_fp32(reference: Encoder, target: Path) -> None:
    """(input_ids, attention_mask) -> last hidden states, batch and length dynamic."""
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = reference.tokenizer(PROBES[:2], padding=True, return_tensors="np")  # tracing inputs only
    dynamic = {0: "batch", 1: "length"}
    # a copy, so the reference keeps its own attention: SDPA exports mask plumbing (module docstring)
    model = copy.deepcopy(reference.model)
    model.set_attn_implementation("eager")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHidden(model).eval(),
            (torch.from_numpy(example["input_ids"]), torch.from_numpy(example["attention_mask"])),
            str(target), input_names=["input_ids", "attention_mask"], output_names=["hidden"],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "hidden": dynamic},
            opset_version=OPSET, dynamo=False,
        )


def activation_matmuls(graph: Path) -> list[str]:
    """The attention products (query x key, weights x value): both inputs are activations,
    and quantising them costs accuracy (probe cosine 0.965 with, 0.99 without) for little speed."""
    import onnx

    model = onnx.load(str(graph))
    weights = {initializer.name for initializer in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and not weights.intersection(n.input)]


def build(reference: Encoder, target: Path) -> dict:
    """Write the int8 graph for `reference`'s weights to `target` (whole or not at all) and
    return its record: sha256 and the probe cosine to the torch embeddings."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        fp32 = Path(scratch) / "fp32.onnx"
        int8 = Path(scratch) / "int8.onnx"
        export_fp32(reference, fp32)
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # quantize_dynamic advises pre-processing on the root logger
        try:
            quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul"], nodes_to_exclude=activation_matmuls(fp32))
        finally:
            root.setLevel(level)
        candidate = OnnxEncoder(reference.tokenizer, int8, reference.batch_size)
        cosine = (candidate.encode(PROBES) * reference.encode(PROBES)).sum(1)
        if cosine.min() < MIN_PROBE_COSINE:
            raise EncoderError(f"the int8 encoder drifted from fp32 (probe cosine min {cosine.min():.3f})")
        record = {"sha256": sha256_of(int8), "probe_cosine_mean": round(float(cosine.mean()), 4),
                  "probe_cosine_min": round(float(cosine.min()), 4), "graph_version": GRAPH_VERSION}
        target.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
        os.replace(int8, target)
    return record


class OnnxEncoder:
    """Texts -> (n, 384) float32 unit vectors, like Encoder.encode, through ONNX Runtime."""

    def __init__(self, tokenizer, graph: Path, batch_size: int = 64) -> None:
        import onnxruntime
        import torch

        self.tokenizer = tokenizer
        self.batch_size = batch_size
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # the worker's share (engines.py)
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        (hidden,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return mean_pool(hidden, mask)

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


def int8_encoder(load_reference: Callable[[], Encoder], adapter_sha256: str | None) -> OnnxEncoder:
    """The int8 encoder for the reference weights: built on first use, verified on load.
    Only the tokenizer is needed once the graph exists, so torch weights stay unloaded."""
    from analyzer.encoder import load_tokenizer

    path = graph_path(adapter_sha256)
    if not path.is_file() or not path.with_suffix(".json").is_file():
        build(load_reference(), path)
    if not _intact(path):
        path.unlink(missing_ok=True)  # damaged: rebuilt next time
        raise EncoderError(f"{path} does not match the sha256 recorded when it was built; run again to rebuild it")
    return OnnxEncoder(load_tokenizer(), path)
