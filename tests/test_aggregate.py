"""Aggregates per salesperson and account follow the README: mean over applicable calls,
consistency against the bar, trend in points per 30 days only with enough calls, every
rule listed for every group, typed as rep_scores / account_scores declare."""
from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from analyzer.aggregate import aggregate, score_frame
from analyzer.export.tables import dtypes
from analyzer.model import RuleScore, ScoredCall
from analyzer.settings import Settings

NAN = math.nan


def _call(day: int | None, score: float | None, rep: str = "Dana", account: str | None = "Acme",
          call_id: str | None = None) -> ScoredCall:
    date = dt.date(2026, 9, 1) + dt.timedelta(days=day - 1) if day else None
    return ScoredCall(call_id or f"c{day}-{score}", date, rep, account, (RuleScore("R1", score, 1, 0, 0),))


def _r1(calls: list[ScoredCall], by: str = "salesperson"):
    rows = aggregate(score_frame(calls), by, Settings())
    return rows[rows["rule"] == "R1"].iloc[0]


@pytest.mark.parametrize(
    "calls,expected",
    [
        # (calls, applicable_calls, mean_score, consistency, trend_per_30_days, status)
        ([_call(1, 50), _call(11, 70), _call(21, 90), _call(25, None)], (4, 3, 70.0, 0.67, 60.0, "ok")),
        ([_call(1, 50)], (1, 1, 50.0, 0.0, NAN, "not enough calls")),
        ([_call(1, None)], (1, 0, NAN, NAN, NAN, "not enough calls")),
        ([_call(5, 40, call_id="a"), _call(5, 60, call_id="b"), _call(5, 80, call_id="c")], (3, 3, 60.0, 0.33, NAN, "ok")),
        ([_call(1, 50), _call(11, 70), _call(None, 90)], (3, 3, 70.0, 0.67, 60.0, "ok")),  # undated: mean, not trend
        ([_call(1, 0.0), _call(2, 0.1)], (2, 2, 0.1, 0.0, NAN, "not enough calls")),  # 0.05 rounds as Python does
        ([_call(1, 100), _call(31, 70), _call(61, 40)], (3, 3, 70.0, 0.67, -30.0, "ok")),
        # summed in call order, 188.6 / 4 = 47.15 rounds down; a compensated sum (188.60000000000002) would not
        ([_call(1, 2.5), _call(2, 54.1), _call(3, 93.9), _call(4, 38.1)], (4, 4, 47.1, 0.25, 439.8, "ok")),
    ],
    ids=["trend", "too-few", "never-applicable", "one-date", "undated", "python-rounding", "falling", "python-sum"],
)
def test_aggregate_rule_statistics(calls, expected):
    row = _r1(calls)
    got = (row["calls"], row["applicable_calls"], row["mean_score"], row["consistency"], row["trend_per_30_days"],
           row["status"])
    assert got[:2] == expected[:2] and got[5] == expected[5]
    for value, wanted in zip(got[2:5], expected[2:5]):
        assert (math.isnan(value) and math.isnan(wanted)) or value == wanted


@pytest.mark.parametrize(
    "by,calls,groups",
    [
        ("salesperson", [_call(1, 50, rep="Zoe"), _call(2, 60, rep="Åsa"), _call(3, 70, rep="Al")], ["Al", "Zoe", "Åsa"]),
        ("account", [_call(1, 50, account="B"), _call(2, 60, account=None), _call(3, 70, account="")], ["B"]),
        ("account", [_call(1, 50, account=None)], []),
    ],
    ids=["sorted-by-code-point", "no-account-left-out", "nothing-to-group"],
)
def test_aggregate_groups_sorted_with_every_rule(by, calls, groups):
    rows = aggregate(score_frame(calls), by, Settings())
    assert list(rows[by]) == [g for g in groups for _ in range(7)]
    assert list(rows["rule"].astype(str)) == [f"R{i}" for _ in groups for i in range(1, 8)]


@pytest.mark.parametrize("by,table", [("salesperson", "rep_scores"), ("account", "account_scores")])
def test_aggregate_typed_as_declared(by, table):
    rows = aggregate(score_frame([_call(1, 50), _call(20, None)]), by, Settings())
    assert {c: str(t) for c, t in rows.dtypes.items()} == dtypes(table)
    assert (rows["first_date"].iloc[0], rows["last_date"].iloc[0]) == (dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 20))


@pytest.mark.parametrize("min_calls,bar,status,consistency", [(3, 70.0, "ok", 0.67), (4, 70.0, "not enough calls", 0.67),
                                                              (3, 50.0, "ok", 1.0), (3, 95.0, "ok", 0.0)])
def test_aggregate_follows_settings(min_calls, bar, status, consistency):
    calls = [_call(1, 50), _call(11, 70), _call(21, 90)]
    rows = aggregate(score_frame(calls), "salesperson", Settings(min_calls=min_calls, consistency_bar=bar))
    r1 = rows[rows["rule"] == "R1"].iloc[0]
    assert (r1["status"], r1["consistency"]) == (status, consistency)


def _reference_slope(points: list[tuple[dt.date, float]]) -> float | None:
    """The README's trend, written out plainly: least squares, points per 30 days."""
    if len({d for d, _ in points}) < 2:
        return None
    xs = [(d - points[0][0]).days for d, _ in points]
    ys = [y for _, y in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    return round(30 * cov / sum((x - mean_x) ** 2 for x in xs), 1)


@pytest.mark.parametrize("seed", range(8))
def test_aggregate_matches_the_plain_formulas(seed):
    """Random calls, several salespeople: every digit as the formulas written out give it."""
    rng = random.Random(seed)
    calls = [_call(rng.randint(1, 120), rng.choice([None, round(rng.uniform(0, 100), 1)]), rep=rng.choice("ABC"),
                   call_id=f"c{i}") for i in range(rng.randint(3, 40))]
    rows = aggregate(score_frame(calls), "salesperson", Settings())
    for row in rows[rows["rule"] == "R1"].itertuples():
        members = sorted((c for c in calls if c.salesperson == row.salesperson), key=lambda c: (c.date, c.call_id))
        points = [(c.date, c.scores[0].score) for c in members if c.scores[0].score is not None]
        values = [score for _, score in points]
        assert row.applicable_calls == len(values)
        if values:
            assert row.mean_score == round(sum(values) / len(values), 1)
            assert row.consistency == round(sum(v >= 70 for v in values) / len(values), 2)
        slope = _reference_slope(points) if len(values) >= 3 else None
        assert (slope is None and math.isnan(row.trend_per_30_days)) or row.trend_per_30_days == slope
