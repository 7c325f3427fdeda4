"""Per call, per rule: a 0-100 score, or None when the call gave no opportunity for the rule.
The formulas (also in the README):

R1  Q = customer questions the salesperson answered, B = summed confidence of
    pretending_to_know.  score = 100 * max(0, Q - B) / Q;  empty when Q = 0.
    (honest_uncertainty keeps the rule: it is counted, never penalised.)
R2  C = commitments made.  score = 100 * (specific + 0.5 * vague) / C;  empty when C = 0.
    Once a later call of the same account exists, the ledger decides instead:
    score = 100 * (kept + 0.5 * open) / C  (broken counts 0).
R3  O, B = summed confidence of ownership and blame_shifting, R = mistakes of a kind this
    account had already seen (repeated_mistake).  score = 100 * O / (O + B + R);
    empty when none occurred (no mistake came up).
R4  every call applies.  score = 100 * (0.4 D + 0.2 T + 0.2 M + 0.2 F) with
    D = min(1, summed confidence of discovery_question / 3)   (three good questions: full)
    T = talk ratio by words: 1 at <= 0.55, falling linearly to 0 at 0.85
    M = longest monologue: 1 at <= 150 words, falling linearly to 0 at 450 words
    F = customer focus (you-words share of you + I/we words): min(1, focus / 0.5)
R5  P = customer utterances describing a problem, F = summed confidence of reframing.
    score = 100 * min(1, F);  empty when P = 0.  (one confident reframe per call earns 100)
R6  every call applies.  score = 100 * max(0, 1 - M / 2), M = summed confidence of
    manipulation (each certain manipulation costs 50 points).
R7  T, G = summed confidence of tailored_solution and generic_pitch.
    score = 100 * T / (T + G);  empty when neither occurred (no proposal was made).
"""
from __future__ import annotations

import dataclasses
from collections import Counter

from analyzer.detect import patterns as pattern_data
from analyzer.model import CallMetrics, Finding, ParsedCall, Role, RuleScore

RULES = {
    "R1": "If you don't know, don't pretend.",
    "R2": "Do what you say you are going to do.",
    "R3": "If you make a mistake, take responsibility and avoid repeating it.",
    "R4": "Get on the customer's side of the table.",
    "R5": "Help the customer arrive at a better definition of the problem.",
    "R6": "Understand the difference between persuasion and manipulation.",
    "R7": "Use imagination and innovation for crafting your solution.",
}
RULE_BEHAVIORS = {
    "R1": ("pretending_to_know", "honest_uncertainty"),
    "R2": ("commitment",),
    "R3": ("ownership", "blame_shifting"),
    "R4": ("discovery_question",),
    "R5": ("reframing",),
    "R6": ("manipulation",),
    "R7": ("tailored_solution", "generic_pitch"),
}


def _sum(findings: list[Finding], behavior: str) -> float:
    return sum(f.confidence for f in findings if f.behavior == behavior)


def answered_questions(parsed: ParsedCall) -> int:
    answered = {u.responds_to for u in parsed.salesperson_utterances() if u.responds_to}
    return sum(1 for uid in answered if (u := parsed.get(uid)) is not None and u.is_question)


def problem_statements(parsed: ParsedCall) -> int:
    return sum(
        1
        for u in parsed.utterances
        if u.role is Role.CUSTOMER and pattern_data.matches_any("context", "problem_statement", u.text)
    )


def _falling(value: float | None, full: float, zero: float) -> float:
    """1 up to `full`, 0 from `zero`, linear between; 1 when unknown."""
    if value is None:
        return 1.0
    return max(0.0, min(1.0, (zero - value) / (zero - full)))


def r4_score(discovery: float, metrics: CallMetrics) -> float:
    d = min(1.0, discovery / 3)
    t = _falling(metrics.talk_ratio_words, 0.55, 0.85)
    m = _falling(metrics.longest_monologue_words, 150, 450)
    f = min(1.0, metrics.customer_focus / 0.5) if metrics.customer_focus is not None else 0.0
    return 100 * (0.4 * d + 0.2 * t + 0.2 * m + 0.2 * f)


def score_call(parsed: ParsedCall, findings: list[Finding], metrics: CallMetrics) -> tuple[RuleScore, ...]:
    counts = Counter(f.behavior for f in findings)

    def rule_score(rule: str, score: float | None, opportunities: int, positive: float, negative: float) -> RuleScore:
        behaviors = tuple((b, counts.get(b, 0)) for b in RULE_BEHAVIORS[rule])
        rounded = None if score is None else round(score, 1)
        return RuleScore(rule, rounded, opportunities, round(positive, 3), round(negative, 3), behaviors)

    questions = answered_questions(parsed)
    bluff = _sum(findings, "pretending_to_know")
    r1 = rule_score(
        "R1", 100 * max(0.0, questions - bluff) / questions if questions else None,
        questions, _sum(findings, "honest_uncertainty"), bluff,
    )

    commitments = [f for f in findings if f.behavior == "commitment" and f.commitment]
    specific = sum(1 for f in commitments if f.commitment.specific)
    r2 = rule_score(
        "R2", 100 * (specific + 0.5 * (len(commitments) - specific)) / len(commitments) if commitments else None,
        len(commitments), float(specific), float(len(commitments) - specific),
    )

    owned, blamed = _sum(findings, "ownership"), _sum(findings, "blame_shifting")
    r3 = rule_score("R3", 100 * owned / (owned + blamed) if owned + blamed else None,
                    sum(counts.get(b, 0) for b in RULE_BEHAVIORS["R3"]), owned, blamed)

    discovery = _sum(findings, "discovery_question")
    r4 = rule_score("R4", r4_score(discovery, metrics), metrics.questions_asked, discovery, 0.0)

    problems = problem_statements(parsed)
    reframes = _sum(findings, "reframing")
    r5 = rule_score("R5", 100 * min(1.0, reframes) if problems else None, problems, reframes, 0.0)

    manipulation = _sum(findings, "manipulation")
    r6 = rule_score(
        "R6", 100 * max(0.0, 1 - manipulation / 2), len(parsed.salesperson_utterances()), 0.0, manipulation
    )
    tailored, generic = _sum(findings, "tailored_solution"), _sum(findings, "generic_pitch")
    r7 = rule_score("R7", 100 * tailored / (tailored + generic) if tailored + generic else None,
                    sum(counts.get(b, 0) for b in RULE_BEHAVIORS["R7"]), tailored, generic)
    return (r1, r2, r3, r4, r5, r6, r7)


def with_ledger(scores: tuple[RuleScore, ...], statuses: list[str], repeats: int) -> tuple[RuleScore, ...]:
    """A call's scores once later calls are known: R2 from kept / broken / open commitments
    (when `statuses` is non-empty), R3 lowered by repeated mistakes."""
    updated = []
    for s in scores:
        if s.rule == "R2" and statuses:
            kept, still_open = statuses.count("kept"), statuses.count("open")
            s = dataclasses.replace(
                s, score=round(100 * (kept + 0.5 * still_open) / len(statuses), 1),
                positive=float(kept), negative=float(statuses.count("broken")),
            )
        if s.rule == "R3" and repeats:
            negative = s.negative + repeats
            s = dataclasses.replace(
                s, score=round(100 * s.positive / (s.positive + negative), 1), negative=round(negative, 3),
                opportunities=s.opportunities + repeats,
            )
        updated.append(s)
    return tuple(updated)
