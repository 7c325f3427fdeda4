"""report.html: one self-contained page (inline CSS and SVG, no network) that a coach would
rather look at than read: a salesperson x rule heat map, score trends over time, the
commitment ledger, and the strongest and weakest excerpts per rule with their explanations."""
from __future__ import annotations

import datetime as dt
import heapq
import math
from collections import Counter, defaultdict
from html import escape
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from analyzer.ledger import Promise
from analyzer.score import RULES

EXCERPTS_PER_SIDE = 3

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d1dc}main{padding:8px 28px 40px;max-width:1200px}
section{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);margin:18px 0;padding:16px 20px}
h2{font-size:17px;margin:0 0 10px}table{border-collapse:collapse;width:100%}
th,td{padding:6px 8px;text-align:left;border-bottom:1px solid #e6e9ee;vertical-align:top}
th{font-weight:600;color:#4a5567;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.cell{text-align:center;font-weight:600;border-radius:4px;border:2px solid #fff}
td.na{color:#9aa4b2;font-weight:400;background:#f1f3f6}.muted{color:#6b7685;font-size:12px}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.kept{background:#d8f3dc;color:#1b5e20}.broken{background:#fde2e1;color:#a61b1b}.open{background:#eef1f5;color:#4a5567}
.plus{border-left:4px solid #2e9d57;padding-left:10px;margin:8px 0}.minus{border-left:4px solid #d64545;padding-left:10px;margin:8px 0}
blockquote{margin:2px 0;font-style:italic}.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}
svg text{font-size:10px;fill:#6b7685}
"""


def _colour(score: float | None) -> str:
    """Red (0) through amber (50) to green (100)."""
    if score is None:
        return "#f1f3f6"
    hue = max(0.0, min(120.0, score * 1.2))
    return f"hsl({hue:.0f},65%,78%)"


def heat_map(reps: pd.DataFrame) -> str:
    """`reps`: the rep_scores frame (aggregate.aggregate by salesperson)."""
    head = "".join(f'<th title="{escape(RULES[r])}">{r}</th>' for r in RULES)
    body = []
    for rep, rules in reps.groupby("salesperson", sort=True):
        by_rule = {a.rule: a for a in rules.itertuples()}
        cells = []
        for rule in RULES:
            a = by_rule.get(rule)
            if a is None or math.isnan(a.mean_score):
                cells.append('<td class="cell na">–</td>')
                continue
            note = f"{a.applicable_calls} of {a.calls} calls; consistency {a.consistency:.0%}"
            if a.status != "ok":
                note += f"; {a.status}"
            label = f"{a.mean_score:.0f}" + ("" if a.status == "ok" else "*")
            cells.append(f'<td class="cell" style="background:{_colour(a.mean_score)}" title="{escape(note)}">{label}</td>')
        calls = rules["calls"].max()
        body.append(f"<tr><td>{escape(rep)}<div class='muted'>{calls} calls</div></td>{''.join(cells)}</tr>")
    return (
        f"<table><tr><th>salesperson</th>{head}</tr>{''.join(body)}</table>"
        "<p class='muted'>Mean rule score over the calls where the rule applied (0–100). "
        "* fewer applicable calls than the minimum: not ranked. Hover a cell for consistency.</p>"
    )


def sparkline(points: list[tuple[dt.date, float]], width: int = 220, height: int = 46) -> str:
    if not points:
        return "<span class='muted'>no scored calls</span>"
    first, last = points[0][0], points[-1][0]
    span = max(1, (last - first).days)

    def xy(date: dt.date, score: float) -> tuple[float, float]:
        x = 6 + (width - 12) * ((date - first).days / span if len(points) > 1 else 0.5)
        return x, 4 + (height - 16) * (1 - score / 100)

    coords = [xy(d, s) for d, s in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{_colour(s).replace("78%", "45%")}"/>' for (x, y), (_, s) in zip(coords, points))
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="trend">'
        f'<line x1="6" x2="{width - 6}" y1="{4 + (height - 16) / 2:.1f}" y2="{4 + (height - 16) / 2:.1f}" stroke="#e6e9ee"/>'
        f'<polyline points="{path}" fill="none" stroke="#4a5567" stroke-width="1.5"/>{dots}'
        f'<text x="6" y="{height - 2}">{first:%d %b}</text><text x="{width - 6}" y="{height - 2}" text-anchor="end">{last:%d %b}</text></svg>'
    )


TREND_RULES = ("R1", "R2", "R4", "R6")


def trends(calls: pd.DataFrame) -> str:
    """`calls`: aggregate.score_frame, a row per call with its rule scores."""
    ordered = calls.sort_values(["salesperson", "date", "call_id"], na_position="first", kind="stable")
    rows = []
    for rep, members in ordered.groupby("salesperson", observed=True, sort=True):
        dated = members[members["date"].notna()]
        cells = []
        for rule in TREND_RULES:
            points = dated[dated[rule].notna()]
            cells.append(f"<td>{sparkline(list(zip(points['date'].dt.date, points[rule])))}</td>")
        rows.append(f"<tr><td>{escape(rep)}</td>{''.join(cells)}</tr>")
    head = "".join(f"<th>{r} {escape(RULES[r])}</th>" for r in TREND_RULES)
    return f"<table><tr><th>salesperson</th>{head}</tr>{''.join(rows)}</table>"


LEDGER_ROWS = 200  # commitments listed in the report; commitments.csv has every one


class LedgerView:
    """The commitments the report lists, collected as the ledger streams past: all of them
    when there are at most LEDGER_ROWS, else broken ones first, then open, then kept."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.candidates: dict[str, list[tuple[int, Promise]]] = defaultdict(list)
        self.total = 0

    def add(self, promise: Promise) -> None:
        self.counts[promise.status] += 1
        bucket = self.candidates[promise.status]
        if len(bucket) < LEDGER_ROWS:
            bucket.append((self.total, promise))
        self.total += 1

    def shown(self) -> list[Promise]:
        chosen = [item for status in ("broken", "open", "kept") for item in self.candidates.get(status, [])][:LEDGER_ROWS]
        return [promise for _, promise in sorted(chosen, key=lambda item: item[0])]


def ledger(view: LedgerView) -> str:
    if not view.total:
        return "<p class='muted'>No commitments found.</p>"
    summary = " ".join(f"<span class='pill {s}'>{view.counts[s]} {s}</span>" for s in ("kept", "broken", "open"))
    shown = view.shown()
    if len(shown) < view.total:
        summary += (f" <span class='muted'>showing {len(shown)} of {view.total}, broken and open first; "
                    f"all are in commitments.csv</span>")
    rows = "".join(
        f"<tr><td>{escape(p.account)}</td><td>{p.date or ''}</td><td>{escape(p.salesperson)}</td>"
        f"<td>{escape(p.action)}</td><td>{p.due or escape(p.due_phrase)}</td>"
        f"<td><span class='pill {p.status}'>{p.status}</span></td>"
        f"<td>{escape(p.evidence_excerpt)}<div class='muted'>{escape(p.evidence_call_id)} {escape(p.evidence_explanation)}</div></td></tr>"
        for p in shown
    )
    return (
        f"<p>{summary}</p><table><tr><th>account</th><th>date</th><th>salesperson</th><th>commitment</th>"
        f"<th>due</th><th>status</th><th>evidence</th></tr>{rows}</table>"
    )


def top_excerpts(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per (rule, polarity) the EXCERPTS_PER_SIDE most confident rows, ties in row order:
    one pass, a few rows kept, however many are flagged."""
    heaps: dict[tuple[str, str], list] = defaultdict(list)
    for number, row in enumerate(rows):
        heap = heaps[(row["rule"], row["polarity"])]
        heapq.heappush(heap, (float(row["confidence"]), -number, row))
        if len(heap) > EXCERPTS_PER_SIDE:
            heapq.heappop(heap)
    return {key: [row for *_, row in sorted(heap, key=lambda item: (-item[0], -item[1]))] for key, heap in heaps.items()}


def excerpts(top: dict[tuple[str, str], list[dict[str, Any]]]) -> str:
    blocks = []
    for rule in RULES:
        if not any(flagged_rule == rule for flagged_rule, _ in top):
            continue
        best, worst = top.get((rule, "+"), []), top.get((rule, "-"), [])

        def item(r: dict[str, Any], css: str) -> str:
            context = f"<div class='muted'>{escape(r['context'])}</div>" if r["context"] else ""
            return (
                f"<div class='{css}'>{context}<blockquote>{escape(r['excerpt'])}</blockquote>"
                f"<div class='muted'>{escape(r['salesperson'])} · {escape(r['call_id'])} {escape(r['start'])} · "
                f"{escape(r['behavior'])} {escape(r['confidence'])} — {escape(r['explanation'])}</div></div>"
            )

        strongest = "".join(item(r, "plus") for r in best) or "<p class='muted'>none flagged</p>"
        weakest = "".join(item(r, "minus") for r in worst) or "<p class='muted'>none flagged</p>"
        blocks.append(
            f"<h3>{rule} {escape(RULES[rule])}</h3><div class='grid'><div><h4>Strongest</h4>{strongest}</div>"
            f"<div><h4>Weakest</h4>{weakest}</div></div>"
        )
    return "".join(blocks) or "<p class='muted'>Nothing flagged.</p>"


def render(reps: pd.DataFrame, calls: pd.DataFrame, commitments: LedgerView,
           top: dict[tuple[str, str], list[dict[str, Any]]], version: str) -> str:
    """`reps`: the rep_scores frame; `calls`: aggregate.score_frame; `top`: the excerpts to
    show, from top_excerpts over the flagged rows."""
    dates = calls["date"].dropna()
    period = f"{dates.min().date()} – {dates.max().date()}" if len(dates) else "undated calls"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer loyalty report</title><style>{_CSS}</style></head>
<body><header><h1>Customer loyalty report</h1>
<p>{len(calls)} calls · {calls['salesperson'].nunique()} salespeople · {period} · loyalty-analyzer {escape(version)}</p></header>
<main>
<section id="heatmap"><h2>Rules by salesperson</h2>{heat_map(reps)}</section>
<section id="trends"><h2>Trends over time</h2>{trends(calls)}</section>
<section id="ledger"><h2>Commitment ledger</h2>{ledger(commitments)}</section>
<section id="excerpts"><h2>Strongest and weakest moments per rule</h2>{excerpts(top)}</section>
</main></body></html>
"""
