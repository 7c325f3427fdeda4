"""`loyalty classify`: score any labelled set against the shipped heads. Input lines are
`{"id", "text", "context"?, "turns"?, "reaction"?}`: `turns` are the preceding turns as
`{"speaker", "role", "text"}` (the window the model reads), `context` the customer line just
before, `reaction` the customer's line after. Output lines `{"id", "scores": {behaviour:
probability}, "labels": [behaviours at or above the shipped thresholds]}` (plus `tactics`,
most likely first, when manipulation is among the labels). Bad lines are reported with their
line number; the rest are scored."""
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
        elif record.get("reaction") is not None and not isinstance(record["reaction"], str):
            yield BadLine(number, "'reaction' is not a string")
        elif (problem := _turns_problem(record.get("turns"))) is not None:
            yield BadLine(number, problem)
        else:
            yield number, record


def _turns_problem(turns) -> str | None:
    if turns is None:
        return None
    if not isinstance(turns, list):
        return "'turns' is not a list"
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or not isinstance(turn.get("text"), str):
            return f"'turns'[{i}] is not an object with a 'text' string"
        if turn.get("role", "customer") not in ("customer", "salesperson"):
            return f"'turns'[{i}] has role {turn.get('role')!r}; use 'customer' or 'salesperson'"
    return None


def classify_records(scorer, records: list[dict]) -> list[dict]:
    """Each record as a small call (its turns, context, text and reaction), judged as analysis
    judges an utterance in its call."""
    from analyzer.classifier import example_call
    from analyzer.detect.confidence import reported_tactics

    examples = [
        example_call(r["text"], r.get("context") or "", r.get("turns") or (), r.get("reaction") or "", call_id=f"line{i}")
        for i, r in enumerate(records)
    ]
    results = []
    for record, prediction in zip(records, scorer.predict(examples)):
        scores = {b: round(p, 4) for b, p in prediction.probabilities.items()}
        labels = [b for b, p in scores.items() if p >= scorer.thresholds.get(b, 0.5)]
        result = {"id": record["id"], "scores": scores, "labels": labels}
        if "manipulation" in labels:
            result["tactics"] = reported_tactics(prediction.tactics)
        results.append(result)
    return results
