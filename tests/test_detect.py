"""Each detector on rows that must and must not fire, with the customer line before."""
from __future__ import annotations

import datetime as dt

import pytest

from analyzer.detect.dates import find_due
from analyzer.detect.registry import build_detectors
from analyzer.analysis import Analyzer
from conftest import make_call, parse

# behaviour, customer line before, salesperson line, should it be flagged
ROWS = [
    ("pretending_to_know", "How much will we save in year one?", "You'll definitely save 40 percent, guaranteed.", True),
    ("pretending_to_know", "Will it pass our SOC 2 audit?", "Oh that's all handled, don't worry about it, trust me.", True),
    ("pretending_to_know", "What's the list price?", "The list price is 40 dollars per seat per month.", False),
    ("pretending_to_know", "How much will we save?", "Based on your bills it's roughly 20 to 30 percent, but I can't guarantee it.", False),
    ("honest_uncertainty", "Will it integrate with our 2009 TMS?", "Honestly, I don't know. Let me check with our integration team.", True),
    ("honest_uncertainty", "What's the failure rate on coastal sites?", "i'd be guessing and i don't want to give you a wrong number", True),
    ("honest_uncertainty", "Can you hear me?", "Sorry, you cut out there, can you repeat that?", False),
    ("honest_uncertainty", "Tell me more.", "I don't know if you've heard, but we just won an award.", False),
    ("commitment", "Can you send the proposal?", "Yes, I'll send you the proposal by Friday.", True),
    ("commitment", "", "What I'll do is put together two options for you.", True),
    ("commitment", "", "Expect the revised quote from me by end of next week.", True),
    ("commitment", "", "yeah ill shoot that over to you tomorrow morning", True),
    ("commitment", "", "I don't think I'll send it by Friday.", False),
    ("commitment", "", "Prices will go up in January across the industry.", False),
    ("commitment", "", "So you'll send us the PO once legal signs off.", False),
    ("commitment", "", "Should I send it over to your CFO?", False),
    ("reframing", "Our problem is the trucks sit idle every afternoon.",
     "So it sounds like the real issue isn't the trucks, it's that dispatch is manual, and every week that costs you billable hours. Is that fair?", True),
    ("reframing", "We keep losing nurses to the hospital across town.",
     "It sounds like this isn't just a hiring problem, it's costing you overtime every single month, is that right?", True),
    ("reframing", "Our printers are too slow.", "So you need a faster printer.", False),
    ("manipulation", "I need to think about it.", "This price is only good until tonight, so I need a decision today.", True),
    ("manipulation", "What about the roof's age?", "Don't worry about that, it's a non-issue.", True),
    ("manipulation", "You said installation was included.", "I never said that.", True),
    ("manipulation", "When does the rebate end?", "The state rebate ends December 31; here's the official page so you can check.", False),
    ("manipulation", "Is this a good fit?", "Three of your neighbours installed with us last year; I can give you their numbers to call.", False),
]


@pytest.mark.parametrize("behavior,before,line,flagged", ROWS)
def test_detect_rows(behavior, before, line, flagged):
    lines = ([("Cust", before)] if before else []) + [("Rep", line)]
    result = Analyzer().analyze_call(make_call(*lines))
    hits = [f for f in result.findings if f.behavior == behavior]
    assert bool(hits) is flagged, [f.explanation for f in result.findings]
    for finding in hits:
        assert finding.explanation and finding.evidence
        assert 0 < finding.confidence <= 1


def test_detect_pretending_depends_on_the_question():
    answer = "Yes, definitely, it works with everything."
    asked = parse(("Cust", "Will it integrate with our SAP system?"), ("Rep", answer))
    told = parse(("Cust", "We use SAP."), ("Rep", answer))
    (detector,) = build_detectors(["pretending_to_know"])
    assert detector.detect(asked)[0].confidence > detector.detect(told)[0].confidence


def test_detect_commitment_carries_due_date_and_specificity():
    call = make_call(("Rep", "I'll email you the revised quote by Friday."), date=dt.date(2026, 11, 23))
    (finding,) = [f for f in Analyzer().analyze_call(call).findings if f.behavior == "commitment"]
    assert finding.commitment.due == dt.date(2026, 11, 27)
    assert finding.commitment.specific and finding.commitment.owner == "Rep"
    vague = make_call(("Rep", "I'll look into it."))
    (finding,) = [f for f in Analyzer().analyze_call(vague).findings if f.behavior == "commitment"]
    assert not finding.commitment.specific and finding.commitment.due is None


def test_detect_manipulation_names_the_tactic():
    result = Analyzer().analyze_call(make_call(("Cust", "Let me think."), ("Rep", "We only have two spots left this quarter.")))
    (finding,) = result.findings
    assert finding.tactic == "false_scarcity"


CALL_DATE = dt.date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize(
    "text,due",
    [
        ("by Friday", dt.date(2026, 11, 27)),
        ("end of next week", dt.date(2026, 12, 4)),
        ("tomorrow morning", dt.date(2026, 11, 24)),
        ("before the 15th", dt.date(2026, 12, 15)),
        ("in two weeks", dt.date(2026, 12, 7)),
        ("within 48 hours", dt.date(2026, 11, 25)),
        ("by December 3rd", dt.date(2026, 12, 3)),
        ("next Tuesday", dt.date(2026, 12, 1)),
        ("by EOD", CALL_DATE),
        ("end of the month", dt.date(2026, 11, 30)),
        ("no date at all", None),
    ],
)
def test_detect_due_dates(text, due):
    assert find_due(text, CALL_DATE)[1] == due


def test_detect_due_phrase_kept_without_call_date():
    assert find_due("I'll send it by Friday", None) == ("Friday", None)
