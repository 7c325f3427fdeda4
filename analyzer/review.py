"""The coach review loop: read a reviewed flagged_excerpts.csv, measure precision from the
verdicts per behaviour and per salesperson, and propose higher thresholds where flags were
too often wrong, showing what each change would keep and drop."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.ingest.csvfile import sniff_dialect
from analyzer.ingest.decode import decode

AGREE = {"agree", "agreed", "yes", "y", "1", "true", "correct", "right", "ok", "👍", "✓"}
DISAGREE = {"disagree", "disagreed", "no", "n", "0", "false", "incorrect", "wrong", "👎", "✗"}
MIN_VERDICTS = 10  # per behaviour, before its threshold is touched
TARGET_PRECISION = {"manipulation": 0.9, "pretending_to_know": 0.9, "blame_shifting": 0.85}
DEFAULT_TARGET = 0.8


class ReviewError(ValueError):
    """The reviewed file cannot be used (names the file and what to fix)."""


def parse_verdict(value: str) -> bool | None:
    """True (agree), False (disagree), None (not reviewed); ValueError when unreadable."""
    text = (value or "").strip().lstrip("'").strip().lower()
    if not text:
        return None
    if text in AGREE:
        return True
    if text in DISAGREE:
        return False
    raise ValueError(value)


@dataclass(frozen=True)
class Verdict:
    behavior: str
    salesperson: str
    confidence: float
    agreed: bool


@dataclass
class ReviewResult:
    verdicts: list[Verdict] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (line, value)


def read_review(path: Path) -> ReviewResult:
    try:
        text, _ = decode(str(path), path.read_bytes())
    except OSError as err:
        raise ReviewError(f"{path}: cannot read ({err.strerror})") from None
    reader = csv.DictReader(io.StringIO(text), dialect=sniff_dialect(text))
    needed = {"behavior", "confidence", "review_verdict"}
    if not needed <= set(reader.fieldnames or []):
        raise ReviewError(f"{path}: needs the columns {sorted(needed)} of flagged_excerpts.csv; found {reader.fieldnames}")
    result = ReviewResult()
    for row in reader:
        try:
            agreed = parse_verdict(row.get("review_verdict", ""))
            confidence = float((row.get("confidence") or "").lstrip("'"))
        except ValueError:
            result.unreadable.append((reader.line_num, row.get("review_verdict", "")))
            continue
        if agreed is not None:
            result.verdicts.append(Verdict(row["behavior"], row.get("salesperson", ""), confidence, agreed))
    return result


@dataclass(frozen=True)
class Precision:
    group: str
    reviewed: int
    agreed: int

    @property
    def precision(self) -> float:
        return self.agreed / self.reviewed if self.reviewed else 0.0


def precision_by(verdicts: list[Verdict], key) -> list[Precision]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for v in verdicts:
        counts[key(v)][0] += 1
        counts[key(v)][1] += v.agreed
    return [Precision(group, n, agreed) for group, (n, agreed) in sorted(counts.items())]


@dataclass(frozen=True)
class Proposal:
    behavior: str
    reviewed: int
    current: float | None       # threshold in force (lowest reviewed confidence if unknown)
    proposed: float | None      # None: leave as is
    kept: int
    dropped: int
    precision_before: float
    precision_after: float
    reason: str


def propose(verdicts: list[Verdict], thresholds: dict[str, float]) -> list[Proposal]:
    """Per behaviour: the lowest threshold at or above the current one whose reviewed flags
    reach the target precision. Only raises thresholds: flags below the current threshold
    were never shown, so nothing says lowering would be right."""
    by_behavior: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        by_behavior[v.behavior].append(v)
    proposals = []
    for behavior, rows in sorted(by_behavior.items()):
        current = thresholds.get(behavior)
        before = sum(v.agreed for v in rows) / len(rows)
        target = TARGET_PRECISION.get(behavior, DEFAULT_TARGET)
        if len(rows) < MIN_VERDICTS:
            proposals.append(Proposal(behavior, len(rows), current, None, len(rows), 0, before, before,
                                      f"not enough verdicts ({len(rows)} < {MIN_VERDICTS}); threshold unchanged"))
            continue
        if before >= target:
            proposals.append(Proposal(behavior, len(rows), current, None, len(rows), 0, before, before,
                                      f"precision {before:.0%} meets the {target:.0%} target; threshold unchanged"))
            continue
        choice = None
        for t in sorted({round(v.confidence, 2) for v in rows}):
            if current is not None and t <= current:
                continue
            kept = [v for v in rows if v.confidence >= t]
            if kept and sum(v.agreed for v in kept) / len(kept) >= target:
                choice = (t, kept)
                break
        if choice is None:
            proposals.append(Proposal(behavior, len(rows), current, None, len(rows), 0, before, before,
                                      f"no threshold reaches the {target:.0%} target on these verdicts; "
                                      "add reviewed examples with `loyalty train --extra`"))
            continue
        t, kept = choice
        after = sum(v.agreed for v in kept) / len(kept)
        proposals.append(Proposal(behavior, len(rows), current, t, len(kept), len(rows) - len(kept), before, after,
                                  f"raise to {t:.2f} to reach the {target:.0%} target"))
    return proposals
