"""Rule scores follow the documented formulas and are empty without an opportunity."""
from __future__ import annotations

import pytest

from analyzer.analysis import Analyzer
from conftest import make_call


def scores(*lines):
    return {s.rule: s for s in Analyzer().analyze_call(make_call(*lines)).scores}


def test_score_empty_without_opportunity():
    result = scores(("Cust", "Hello."), ("Rep", "Hi, good to meet you."))
    assert result["R1"].score is None   # no question answered
    assert result["R2"].score is None   # no commitment
    assert result["R5"].score is None   # no problem described
    assert result["R6"].score == 100    # every call can be manipulative or not


def test_score_r1_penalises_bluffing_per_question():
    result = scores(("Cust", "How much will we save?"), ("Rep", "You'll definitely save 40 percent, guaranteed."))
    r1 = result["R1"]
    assert r1.opportunities == 1 and r1.negative > 0.5
    assert r1.score == pytest.approx(100 * (1 - r1.negative), abs=0.1)


def test_score_r2_specific_beats_vague():
    specific = scores(("Rep", "I'll send the quote by Friday."))["R2"].score
    vague = scores(("Rep", "I'll look into it."))["R2"].score
    assert specific == 100 and vague == 50


def test_score_r6_drops_with_manipulation():
    assert scores(("Cust", "Let me think."), ("Rep", "I never said that."), ("Cust", "Hm."), ("Rep", "Price goes up tonight."))["R6"].score < 50


def test_score_r4_metrics_from_the_call():
    from analyzer.metrics import call_metrics
    from conftest import parse

    parsed = parse(
        ("Rep", "What matters most to you this quarter? How do you measure it today?"),
        ("Cust", "Uptime, mostly, and we measure it by hand."),
        ("Rep", "Our platform has dashboards and reports and alerts and we built it ourselves over ten years."),
        ("Cust", "Mm-hm."),
        ("Rep", "Is Tuesday okay for a demo?"),
    )
    metrics = call_metrics(parsed)
    assert metrics.questions_asked == 3 and metrics.open_questions == 2 and metrics.closed_questions == 1
    assert 0.5 < metrics.talk_ratio_words < 1
    assert metrics.talk_ratio_time is not None
    rep_words = [len(u.text.split()) for u in parsed.utterances if u.turn in (2, 4)]
    assert metrics.longest_monologue_words == sum(rep_words)  # the backchannel does not end it
    assert 0 < metrics.customer_focus < 1


@pytest.mark.parametrize(
    "lines,rule,expected",
    [
        ((("Cust", "The invoice was wrong."), ("Rep", "That's on me, I'll send a corrected one today.")), "R3", 100),
        ((("Cust", "The invoice was wrong."), ("Rep", "That was the billing team's fault, not mine.")), "R3", 0),
        ((("Cust", "Hello."), ("Rep", "Hi there, good to meet you.")), "R3", None),
        ((("Cust", "We have 14 trucks."), ("Rep", "Since you said 14 trucks, what if we start with a pilot on six?")), "R7", 100),
        ((("Cust", "Hello."), ("Rep", "Hi there, good to meet you.")), "R7", None),
    ],
)
def test_score_r3_r7_follow_the_evidence(lines, rule, expected):
    assert scores(*lines)[rule].score == expected


def test_score_r4_rewards_discovery_and_listening():
    listening = scores(
        ("Rep", "Walk me through what a bad week looks like for your dispatchers?"),
        ("Cust", "Drivers call in sick and we scramble for hours."),
        ("Rep", "What does that cost you when it happens, and who else feels it?"),
        ("Cust", "Overtime, and the customers feel it."),
    )["R4"].score
    pitching = scores(("Cust", "Hi."), ("Rep", "Our platform offers AI-powered dashboards, alerts, reports and integrations for every fleet."))["R4"].score
    assert listening > pitching
