"""R5 — Help the customer arrive at a better definition of the problem. A reframe only
counts against a problem the customer described shortly before."""
from __future__ import annotations

from analyzer.detect import patterns as pattern_data
from analyzer.detect.base import Context, PatternDetector, quote
from analyzer.model import ParsedCall, Polarity, Utterance


PROBLEM_LOOKBACK = 8  # customer utterances


def stated_problem(parsed: ParsedCall, utterance: Utterance) -> Utterance | None:
    """The latest of the customer's recent utterances that describes a problem. A reframe
    often comes after the customer has been asked to say more, so look back a few turns."""
    for before in reversed(parsed.customer_before(utterance, PROBLEM_LOOKBACK)):
        if pattern_data.matches_any("context", "problem_statement", before.text):
            return before
    return None


class Reframing(PatternDetector):
    name = "reframing"
    rule = "R5"
    polarity = Polarity.KEEPS

    def context(self, parsed: ParsedCall, utterance: Utterance) -> Context:
        problem = stated_problem(parsed, utterance)
        if problem is None:
            return Context(0.5, "no customer problem statement just before")
        return Context(1.0, f"the customer had said {quote(problem.text)}")
