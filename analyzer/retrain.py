"""`loyalty train --extra REVIEWED.csv`: add a coach's verdicts to the training data and
retrain the heads on the shipped encoder (adapter kept) by `make train`'s recipe for them
(thresholds out of fold on the calibration calls), in minutes rather than the full
`make train`. Held-out metrics are measured before and after on the same split; the previous
heads are kept in models/previous/ so `loyalty train --rollback` undoes a bad update."""
from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

from analyzer.classifier import BEHAVIORS, CONFIG_NAME, WEIGHTS_NAME, ModelScorer, default_model_dir, example_call
from analyzer.ingest.csvfile import sniff_dialect
from analyzer.ingest.decode import decode
from analyzer.review import ReviewError, parse_verdict
from analyzer.training import CALIBRATION, CachedEncoder, datasets, evaluate, features, fit_calibrated

PREVIOUS = "previous"
SEED = 13


def reviewed_rows(path: Path) -> list[dict]:
    """Verdict rows as training rows: the verdict labels the flagged behaviour only."""
    text, _ = decode(str(path), path.read_bytes())
    reader = csv.DictReader(io.StringIO(text), dialect=sniff_dialect(text))
    if not {"behavior", "excerpt", "review_verdict"} <= set(reader.fieldnames or []):
        raise ReviewError(f"{path}: needs the behavior, excerpt and review_verdict columns of flagged_excerpts.csv")
    rows = []
    for row in reader:
        try:
            agreed = parse_verdict(row.get("review_verdict", ""))
        except ValueError:
            continue
        if agreed is None or row["behavior"] not in BEHAVIORS:
            continue
        context = (row.get("context") or "").lstrip("'")
        context = context.split(": ", 1)[1] if ": " in context else context
        rows.append({
            "text": row["excerpt"].lstrip("'"), "context": context, "behavior": row["behavior"],
            "labels": [row["behavior"]] if agreed else [], "tactic": None,
            "origin": f"coach review ({path.name}, line {reader.line_num})",
            "_example": example_call(row["excerpt"].lstrip("'"), context),
            # the verdict is about the flagged behaviour only
            "_judged": {row["behavior"]},
        })
    return rows


def retrain_heads(extra: Path, directory: Path | None = None, data: Path | None = None) -> dict:
    directory = directory or default_model_dir()
    scorer = ModelScorer(directory)
    parts = datasets(data)
    added = reviewed_rows(extra)
    if not added:
        raise ReviewError(f"{extra}: no verdicts to learn from")
    # fp32 embeddings, as the heads were trained on (models/train.py); analysis runs int8
    cache = CachedEncoder(scorer.reference_encoder, directory / ".cache" / f"embeddings-{scorer.adapter_sha256[:12]}.npz")
    parts = {**parts, "train": parts["train"] + added}
    X = {name: features(cache, parts[name]) for name in ("train", "val", "test", CALIBRATION)}
    before = evaluate(scorer.classifier, X["test"], parts["test"], scorer.thresholds)
    model, thresholds, _ = fit_calibrated(X, parts, scorer.config.get("head_epochs", 12), scorer.config.get("members", 1), SEED)
    after = evaluate(model, X["test"], parts["test"], thresholds)

    backup = directory / PREVIOUS
    backup.mkdir(exist_ok=True)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        shutil.copy2(directory / name, backup / name)
    config = {k: v for k, v in scorer.config.items() if k not in ("weights_sha256", "behaviors", "tactics", "hidden", "n_features", "members")}
    config.update({
        "thresholds": thresholds,
        "metrics": {**config.get("metrics", {}), "held_out": after},
        "extra_training": {
            "reviewed_csv": extra.name, "reviewed_sha256": hashlib.sha256(extra.read_bytes()).hexdigest(), "rows": len(added),
            "heads_only": True,
        },
    })
    model.save(directory, config)
    return {"before": before, "after": after, "added": len(added)}


def rollback(directory: Path | None = None) -> None:
    """Swap the current heads with the previous ones (twice restores)."""
    directory = directory or default_model_dir()
    backup = directory / PREVIOUS
    if not (backup / CONFIG_NAME).is_file():
        raise FileNotFoundError(f"no previous heads in {backup}")
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        current, previous, swap = directory / name, backup / name, backup / f"{name}.swap"
        shutil.move(current, swap)
        shutil.move(previous, current)
        shutil.move(swap, previous)
