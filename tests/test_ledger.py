"""Commitments across the calls of one account: kept, broken or open; repeated mistakes."""
from __future__ import annotations

import datetime as dt

from analyzer.ledger import KEPT, BROKEN, OPEN, build_ledger, history_of, later_calls
from analyzer.model import CallMeta
from analyzer.pipeline import Analyzer
from analyzer.score import with_ledger
from conftest import make_call


def history(call_id: str, day: int, *lines, account: str = "Acme"):
    call = make_call(*lines, call_id=call_id, date=dt.date(2026, 9, day))
    call = call.__class__(call.source, call.format, CallMeta(call_id, dt.date(2026, 9, day), "Dana", account), call.turns, call.salesperson)
    return history_of(Analyzer().analyze_call(call))


FIRST = history(
    "c1", 1,
    ("Cust", "Can you send the integration doc and a revised quote?"),
    ("Rep", "I'll send you the integration doc by Friday."),
    ("Cust", "And the quote?"),
    ("Rep", "I'll email the revised quote tomorrow morning."),
    ("Cust", "Also someone should look at the roof."),
    ("Rep", "I'll have our engineer inspect the roof next week."),
)
SECOND = history(
    "c2", 15,
    ("Rep", "Good to talk again. As promised, here's the revised quote with the new numbers."),
    ("Cust", "Thanks. But the integration doc, I never got it."),
    ("Rep", "Okay."),
)


def test_ledger_kept_broken_open():
    promises, _ = build_ledger([SECOND, FIRST])  # order does not matter: sorted by date
    status = {p.action.split(" by ")[0].split(" tomorrow")[0].split(" next")[0]: p.status for p in promises}
    assert status["I'll send you the integration doc"] == BROKEN
    assert status["I'll email the revised quote"] == KEPT
    assert status["I'll have our engineer inspect the roof"] == OPEN
    kept = next(p for p in promises if p.status == KEPT)
    assert kept.evidence_call_id == "c2" and "As promised" in kept.evidence_excerpt
    assert "quote" in kept.evidence_explanation


def test_ledger_other_accounts_are_not_evidence():
    other = history("c3", 20, ("Cust", "I never got the integration doc."), ("Rep", "Sorry."), account="Other")
    promises, _ = build_ledger([FIRST, other])
    assert all(p.status == OPEN for p in promises)
    assert later_calls([FIRST, other]) == set()
    assert later_calls([FIRST, SECOND]) == {"c1"}


def test_ledger_repeated_mistake_of_the_same_kind():
    one = history("m1", 1, ("Cust", "The invoice price was wrong."), ("Rep", "That's on me, I quoted the old price; I'll fix it today."))
    two = history("m2", 9, ("Cust", "The invoice is wrong again, the price is off."), ("Rep", "My mistake, I'll correct the price today."))
    _, repeated = build_ledger([one, two])
    assert [(r.call_id, r.kind, r.first_call_id) for r in repeated] == [("m2", "pricing", "m1")]


def test_ledger_rescores_r2_and_r3():
    scores = Analyzer().analyze_call(make_call(("Cust", "The price was wrong."), ("Rep", "That's on me, I'll send the corrected quote by Friday."))).scores
    updated = {s.rule: s for s in with_ledger(scores, [KEPT, BROKEN, OPEN], repeats=1)}
    assert updated["R2"].score == 50.0   # (1 + 0.5) / 3
    assert updated["R3"].score < {s.rule: s for s in scores}["R3"].score
