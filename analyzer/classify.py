"""`loyalty classify`: score any labelled set against the shipped heads. Input lines are
`{"id", "text", "context"?}`; output lines `{"id", "scores": {behaviour: probability},
"labels": [behaviours at or above the shipped thresholds]}` (plus `tactic` when manipulation
is among the labels). Bad lines are reported with their line number; the rest are scored."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class BadLine:
    number: int
    problem: str


def parse_lines(lines: Iterable[str]) -> Iterator[tuple[int, dict] | BadLine]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            yield BadLine(number, f"not valid JSON ({err.msg})")
            continue
        if not isinstance(record, dict):
            yield BadLine(number, "not a JSON object")
        elif "id" not in record:
            yield BadLine(number, "no 'id'")
        elif not isinstance(record.get("text"), str) or not record["text"].strip():
            yield BadLine(number, "'text' is missing or not a non-empty string")
        elif record.get("context") is not None and not isinstance(record["context"], str):
            yield BadLine(number, "'context' is not a string")
        else:
            yield number, record


def classify_records(scorer, records: list[dict]) -> list[dict]:
    """One batched pass: features for every pair, then the heads."""
    texts = [r["text"] for r in records]
    contexts = [r.get("context") or "" for r in records]
    X = scorer.featurizer.pairs(texts, contexts)
    probabilities = scorer.classifier.predict_proba(X)
    tactics = scorer.classifier.predict_tactic_proba(X)
    results = []
    for record, row, tactic_row in zip(records, probabilities, tactics):
        scores = {b: round(float(p), 4) for b, p in zip(scorer.classifier.behaviors, row)}
        labels = [b for b, p in scores.items() if p >= scorer.thresholds.get(b, 0.5)]
        result = {"id": record["id"], "scores": scores, "labels": labels}
        if "manipulation" in labels:
            result["tactic"] = scorer.classifier.tactics[int(tactic_row.argmax())]
        results.append(result)
    return results
