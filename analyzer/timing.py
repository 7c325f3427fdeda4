"""Seconds spent per pipeline stage, summed over calls (and over worker processes), for
run.json and `make bench`: where a run's time goes is part of its result."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

STAGES = ("ingest", "redact", "segment", "model", "detect", "score", "cache", "export")


class StageTimes:
    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start

    def add(self, other: dict[str, float]) -> None:
        self.seconds.update(other)

    def as_dict(self) -> dict[str, float]:
        return {name: round(self.seconds[name], 3) for name in STAGES if name in self.seconds}
