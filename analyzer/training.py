"""What training, evaluation and the review loop's retraining share: the labelled data and
its scenario split, feature rows, threshold calibration and precision / recall / F1.

The split is by scenario, so paraphrases of one situation never straddle train and test:
sha1(scenario) % 100 < 70 train, < 85 validation (thresholds), else held-out test, which is
never used for training or threshold tuning. models/data/eval/independent.jsonl, written
separately from the training data, is only ever evaluated: its odd-numbered calls were read
for error analysis ("independent_dev"), its even-numbered calls never were
("independent_test")."""
from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from analyzer.classifier import BEHAVIORS, TACTICS, BehaviorClassifier, Featurizer, default_model_dir, pair_call

INDEPENDENT = ("independent_test", "independent_dev")
# precision-first behaviours: a false accusation costs a coach's trust
MIN_PRECISION = {"manipulation": 0.92, "pretending_to_know": 0.85}


def data_dir() -> Path:
    return default_model_dir() / "data"


def load_rows(paths: list[Path]) -> list[dict]:
    rows = []
    for path in paths:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                row["_source"] = f"{path.name}:{number}"
                rows.append(row)
    return rows


def split_of(scenario: str) -> str:
    bucket = int(hashlib.sha1(scenario.encode()).hexdigest(), 16) % 100
    return "train" if bucket < 70 else "val" if bucket < 85 else "test"


def targets(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    Y = np.array([[float(b in r["labels"]) for b in BEHAVIORS] for r in rows], dtype=np.float32)
    tactic = np.array([TACTICS.index(r["tactic"]) if r.get("tactic") in TACTICS else -1 for r in rows])
    return Y, tactic


class CachedEncoder:
    """Sentence embeddings cached on disk by text, one cache per encoder (adapter) version."""

    def __init__(self, encoder, path: Path) -> None:
        self.encoder = encoder
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            data = np.load(path, allow_pickle=False)
            self.vectors = dict(zip(data["texts"].tolist(), data["vectors"]))

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            started = time.perf_counter()
            for text, vector in zip(missing, self.encoder.encode(missing)):
                self.vectors[text] = vector
            print(f"encoded {len(missing)} texts in {time.perf_counter() - started:.1f}s", file=sys.stderr)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, texts=np.array(list(self.vectors)), vectors=np.stack(list(self.vectors.values())))
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def symbolic(rows: list[dict]) -> np.ndarray:
    featurizer = Featurizer(encoder=object())
    return np.array(
        [featurizer.symbolic(*pair_call(r["text"], r.get("context") or ""), r.get("context") or "") for r in rows],
        dtype=np.float32,
    )


def features(encoder, rows: list[dict]) -> np.ndarray:
    return Featurizer(encoder=encoder).embed(
        [r["text"] for r in rows], [r.get("context") or "" for r in rows], symbolic(rows)
    )


def prf(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    tp = float(((p == 1) & (y == 1)).sum())
    fp = float(((p == 1) & (y == 0)).sum())
    fn = float(((p == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "support": int(y.sum())}


def calibrate(y: np.ndarray, probabilities: np.ndarray, behavior: str) -> float:
    """Max F1 on validation; for precision-first behaviours the threshold with the best
    recall among those reaching the minimum precision (max F1 if none does)."""
    candidates = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scores = [(t, prf(y, (probabilities >= t).astype(int))) for t in candidates]
    floor = MIN_PRECISION.get(behavior)
    if floor is not None:
        reaching = [(t, m) for t, m in scores if m["precision"] >= floor and m["recall"] > 0]
        if reaching:
            return float(max(reaching, key=lambda tm: (tm[1]["recall"], tm[0]))[0])
    return float(max(scores, key=lambda tm: (tm[1]["f1"], tm[0]))[0])


def evaluate(model: BehaviorClassifier, X: np.ndarray, rows: list[dict], thresholds: dict[str, float]) -> dict:
    Y, tactic = targets(rows)
    probabilities = model.predict_proba(X)
    result = {
        b: prf(Y[:, i], (probabilities[:, i] >= thresholds[b]).astype(int))
        for i, b in enumerate(model.behaviors)
        if Y[:, i].sum() > 0
    }
    known = tactic >= 0
    if known.any():
        predicted = model.predict_tactic_proba(X[known]).argmax(1)
        result["manipulation_tactic_accuracy"] = round(float((predicted == tactic[known]).mean()), 3)
    return result


def print_table(title: str, metrics: dict) -> None:
    print(f"\n{title}")
    print(f"{'behaviour':22} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
    for behavior, m in metrics.items():
        if isinstance(m, dict):
            print(f"{behavior:22} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:6.3f} {m['support']:8d}")
        else:
            print(f"{behavior:22} {m:9.3f}")


def datasets(data: Path | None = None) -> dict[str, list[dict]]:
    data = data or data_dir()
    rows = load_rows(sorted((data / "raw").glob("*.jsonl")))
    parts: dict[str, list[dict]] = {"train": [], "val": [], "test": []}
    for row in rows:
        parts[split_of(row["scenario"])].append(row)
    independent = data / "eval" / "independent.jsonl"
    rows = load_rows([independent]) if independent.is_file() else []
    parts["independent_dev"] = [r for r in rows if int(r["scenario"].rsplit("-", 1)[1]) % 2 == 1]
    parts["independent_test"] = [r for r in rows if int(r["scenario"].rsplit("-", 1)[1]) % 2 == 0]
    return parts
