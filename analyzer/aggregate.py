"""Per salesperson and per account, per rule, across calls: how often the rule applied, the
mean score, consistency (share of applicable calls that met the bar) and the trend over time
(least-squares slope, points per 30 days). Below `min_calls` applicable calls the row says
"not enough calls" instead of ranking anyone.

Computed with pandas from one small frame of the calls' rule scores (`score_frame`: one row
per call, a column per rule), never from the flagged rows. Float sums are Python's, in call
order, and rounding is Python's (python_sum, python_round): the written digits do not
depend on how pandas sums or numpy rounds."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from analyzer.export.tables import python_round, typed
from analyzer.model import ScoredCall
from analyzer.score import RULES
from analyzer.settings import Settings

GROUPS = {"salesperson": "rep_scores", "account": "account_scores"}  # group column -> its table


def score_frame(calls: Iterable[ScoredCall]) -> pd.DataFrame:
    """One row per call: call_id, date, salesperson, account and a score column per rule
    (NaN where the call gave the rule no opportunity). Names are categories, so the frame
    costs a few dozen bytes per call."""
    calls = list(calls)
    frame = pd.DataFrame({
        "call_id": pd.array([c.call_id for c in calls], dtype="string"),
        "date": pd.to_datetime(pd.Series([c.date for c in calls], dtype=object)).astype("datetime64[s]"),
        "salesperson": pd.Series([c.salesperson for c in calls], dtype="category"),
        "account": pd.Series([c.account or None for c in calls], dtype="category"),
    })
    scores = pd.DataFrame.from_records(
        [{s.rule: s.score for s in c.scores} for c in calls], columns=list(RULES), index=frame.index
    ).astype("float64")
    return pd.concat([frame, scores], axis=1)


def python_sum(values: pd.Series) -> float:
    """The builtin sum, in row (call) order. pandas' own sum is compensated, which is more
    exact but moves some means that sit on a rounding half (59.15) to the other side: the
    CSVs keep the digits they always had."""
    return sum(values.tolist())


def python_mean(values: pd.Series) -> float:
    return python_sum(values) / len(values)


def _trend(scored: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Least-squares slope of score against date, points per 30 days, per group; NaN with
    fewer than two distinct dates."""
    dated = scored[scored["date"].notna()].copy()
    groups = dated.groupby(keys, observed=True)
    dated["x"] = (dated["date"] - groups["date"].transform("min")).dt.days.astype("float64")
    dx = dated["x"] - groups["x"].transform(python_mean)
    dy = dated["score"] - groups["score"].transform(python_mean)
    sums = dated.assign(cov=dx * dy, var=dx * dx).groupby(keys, observed=True).agg(
        cov=("cov", python_sum), var=("var", python_sum), dates=("date", "nunique"))
    return (30 * sums["cov"] / sums["var"]).where(sums["dates"] >= 2)


def aggregate(calls: pd.DataFrame, by: str, settings: Settings) -> pd.DataFrame:
    """The rep_scores (`by`="salesperson") or account_scores (`by`="account") table from a
    score_frame: a row per group and rule, sorted by group and rule, typed as declared."""
    named = calls[calls[by].notna() & (calls[by] != "")]
    calls = named.sort_values([by, "date", "call_id"], na_position="first", kind="stable")  # undated first
    per_group = calls.groupby(by, observed=True).agg(
        calls=("call_id", "size"), first_date=("date", "min"), last_date=("date", "max"))
    scored = calls.melt(id_vars=[by, "date"], value_vars=list(RULES), var_name="rule", value_name="score")
    scored = scored[scored["score"].notna()].assign(met=lambda f: f["score"] >= settings.consistency_bar)
    stats = scored.groupby([by, "rule"], observed=True).agg(
        applicable_calls=("score", "size"), total=("score", python_sum), met=("met", "sum"))
    every_rule = pd.MultiIndex.from_product([per_group.index, list(RULES)], names=[by, "rule"])
    rows = stats.reindex(every_rule).join(per_group, on=by)
    rows["applicable_calls"] = rows["applicable_calls"].fillna(0)
    enough = rows["applicable_calls"] >= settings.min_calls
    rows["mean_score"] = python_round(rows["total"] / rows["applicable_calls"], 1)
    rows["consistency"] = python_round(rows["met"] / rows["applicable_calls"], 2)
    rows["trend_per_30_days"] = python_round(_trend(scored, [by, "rule"]).reindex(every_rule).where(enough), 1)
    rows["status"] = np.where(enough, "ok", "not enough calls")
    return typed(rows.reset_index(), GROUPS[by])
