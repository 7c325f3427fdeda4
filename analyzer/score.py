"""Per call, per rule: a 0-100 score, or None when the call gave no opportunity for the rule.
The formulas (also in the README):

R1  Q = customer questions the salesperson answered, B = summed confidence of
    pretending_to_know.  score = 100 * max(0, Q - B) / Q;  empty when Q = 0.
    (honest_uncertainty keeps the rule: it is counted, never penalised.)
R2  C = commitments made.  score = 100 * (specific + 0.5 * vague) / C;  empty when C = 0.
R5  P = customer utterances describing a problem, F = summed confidence of reframing.
    score = 100 * min(1, F);  empty when P = 0.  (one confident reframe per call earns 100)
R6  every call applies.  score = 100 * max(0, 1 - M / 2), M = summed confidence of
    manipulation (each certain manipulation costs 50 points).
"""
from __future__ import annotations

from collections import Counter

from analyzer.detect import patterns as pattern_data
from analyzer.model import Finding, ParsedCall, Role, RuleScore

RULES = {
    "R1": "If you don't know, don't pretend.",
    "R2": "Do what you say you are going to do.",
    "R5": "Help the customer arrive at a better definition of the problem.",
    "R6": "Understand the difference between persuasion and manipulation.",
}
RULE_BEHAVIORS = {
    "R1": ("pretending_to_know", "honest_uncertainty"),
    "R2": ("commitment",),
    "R5": ("reframing",),
    "R6": ("manipulation",),
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


def score_call(parsed: ParsedCall, findings: list[Finding]) -> tuple[RuleScore, ...]:
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

    problems = problem_statements(parsed)
    reframes = _sum(findings, "reframing")
    r5 = rule_score("R5", 100 * min(1.0, reframes) if problems else None, problems, reframes, 0.0)

    manipulation = _sum(findings, "manipulation")
    r6 = rule_score(
        "R6", 100 * max(0.0, 1 - manipulation / 2), len(parsed.salesperson_utterances()), 0.0, manipulation
    )
    return (r1, r2, r5, r6)
