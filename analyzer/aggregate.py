"""Per salesperson and per account, per rule, across calls: how often the rule applied, the
mean score, consistency (share of applicable calls that met the bar) and the trend over time
(least-squares slope, points per 30 days). Below `min_calls` applicable calls the row says
"not enough calls" instead of ranking anyone."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from analyzer.model import RuleScore
from analyzer.score import RULES
from analyzer.settings import Settings


@dataclass(frozen=True)
class Aggregate:
    group: str            # salesperson name or account
    rule: str
    calls: int            # calls analysed for this group
    applicable_calls: int
    mean_score: float | None
    consistency: float | None   # 0-1
    trend_per_30_days: float | None
    first_date: dt.date | None
    last_date: dt.date | None
    status: str           # "ok" or "not enough calls"


def slope_per_30_days(points: list[tuple[dt.date, float]]) -> float | None:
    if len({d for d, _ in points}) < 2:
        return None
    xs = [(d - points[0][0]).days for d, _ in points]
    ys = [s for _, s in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    return round(30 * cov / var, 1)


@dataclass(frozen=True)
class ScoredCall:
    """What aggregation needs of a call: kept small, since a run holds one per call."""

    call_id: str
    date: dt.date | None
    salesperson: str
    account: str | None
    scores: tuple[RuleScore, ...]


def aggregate(calls: list[ScoredCall], by: str, settings: Settings) -> list[Aggregate]:
    """Rows per group (`by` = "salesperson" or "account") and rule, sorted by group and rule."""
    groups: dict[str, list[ScoredCall]] = defaultdict(list)
    for call in calls:
        name = getattr(call, by)
        if name:
            groups[name].append(call)
    rows = []
    for name in sorted(groups):
        members = sorted(groups[name], key=lambda c: (c.date or dt.date.min, c.call_id))
        dates = [c.date for c in members if c.date]
        for rule in RULES:
            scored = [
                (r.date, s.score)
                for r in members
                for s in r.scores
                if s.rule == rule and s.score is not None
            ]
            values = [score for _, score in scored]
            enough = len(values) >= settings.min_calls
            rows.append(
                Aggregate(
                    group=name,
                    rule=rule,
                    calls=len(members),
                    applicable_calls=len(values),
                    mean_score=round(sum(values) / len(values), 1) if values else None,
                    consistency=round(sum(v >= settings.consistency_bar for v in values) / len(values), 2) if values else None,
                    trend_per_30_days=slope_per_30_days([(d, s) for d, s in scored if d]) if enough else None,
                    first_date=min(dates) if dates else None,
                    last_date=max(dates) if dates else None,
                    status="ok" if enough else "not enough calls",
                )
            )
    return rows
