"""The coach review loop: read a reviewed flagged_excerpts.csv, measure precision from the
verdicts per behaviour and per salesperson, and propose higher thresholds where flags were
too often wrong, showing what each change would keep and drop. The verdicts are one typed
frame; the statistics are pandas groupbys over it."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analyzer.export.tables import python_round
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


VERDICT_DTYPES = {"behavior": "category", "salesperson": "string", "confidence": "float64", "agreed": "bool"}


def verdict_frame(rows: Iterable[tuple[str, str, float, bool]]) -> pd.DataFrame:
    """Reviewed flags, a row each: behavior, salesperson, confidence, agreed."""
    return pd.DataFrame.from_records(list(rows), columns=list(VERDICT_DTYPES)).astype(VERDICT_DTYPES)


@dataclass
class ReviewResult:
    verdicts: pd.DataFrame  # verdict_frame
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
    verdicts: list[tuple[str, str, float, bool]] = []
    unreadable: list[tuple[int, str]] = []
    for row in reader:
        try:
            agreed = parse_verdict(row.get("review_verdict", ""))
            confidence = float((row.get("confidence") or "").lstrip("'"))
        except ValueError:
            unreadable.append((reader.line_num, row.get("review_verdict", "")))
            continue
        if agreed is not None:
            verdicts.append((row["behavior"], row.get("salesperson", ""), confidence, agreed))
    return ReviewResult(verdict_frame(verdicts), unreadable)


def precision_by(verdicts: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per value of `column` (behavior or salesperson), sorted: reviewed, agreed, precision."""
    counts = verdicts.groupby(column, observed=True, sort=True).agg(reviewed=("agreed", "size"), agreed=("agreed", "sum"))
    return counts.assign(precision=counts["agreed"] / counts["reviewed"])


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


def propose(verdicts: pd.DataFrame, thresholds: dict[str, float]) -> list[Proposal]:
    """Per behaviour: the lowest threshold at or above the current one whose reviewed flags
    reach the target precision. Only raises thresholds: flags below the current threshold
    were never shown, so nothing says lowering would be right."""
    proposals = []
    for behavior, rows in verdicts.groupby("behavior", observed=True, sort=True):
        current = thresholds.get(behavior)
        reviewed = len(rows)
        before = float(rows["agreed"].sum() / reviewed)
        target = TARGET_PRECISION.get(behavior, DEFAULT_TARGET)

        def unchanged(reason: str) -> Proposal:
            return Proposal(behavior, reviewed, current, None, reviewed, 0, before, before, reason)

        if reviewed < MIN_VERDICTS:
            proposals.append(unchanged(f"not enough verdicts ({reviewed} < {MIN_VERDICTS}); threshold unchanged"))
            continue
        if before >= target:
            proposals.append(unchanged(f"precision {before:.0%} meets the {target:.0%} target; threshold unchanged"))
            continue
        candidates = np.sort(python_round(rows["confidence"], 2).unique())
        if current is not None:
            candidates = candidates[candidates > current]
        # a column per candidate threshold: which reviewed flags it keeps, how many of them were right
        kept = rows["confidence"].to_numpy()[:, None] >= candidates[None, :]
        kept_count = kept.sum(axis=0)
        agreed_count = (kept & rows["agreed"].to_numpy()[:, None]).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            reaching = np.flatnonzero((kept_count > 0) & (agreed_count / kept_count >= target))
        if not len(reaching):
            proposals.append(unchanged(f"no threshold reaches the {target:.0%} target on these verdicts; "
                                       "add reviewed examples with `loyalty train --extra`"))
            continue
        first = reaching[0]
        t, keep = float(candidates[first]), int(kept_count[first])
        proposals.append(Proposal(behavior, reviewed, current, t, keep, reviewed - keep, before,
                                  float(agreed_count[first] / keep), f"raise to {t:.2f} to reach the {target:.0%} target"))
    return proposals
