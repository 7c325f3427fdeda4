"""R3 — If you make a mistake, take responsibility. Both behaviours are judged against the
customer raising the problem just before."""
from __future__ import annotations

from analyzer.detect.base import Context, PatternDetector, quote
from analyzer.model import ParsedCall, Polarity, Utterance


def _raised(parsed: ParsedCall, utterance: Utterance) -> Context:
    before = parsed.customer_before(utterance, 1)
    return Context(1.0, f"after the customer said {quote(before[0].text)}" if before else "")


class Ownership(PatternDetector):
    name = "ownership"
    rule = "R3"
    polarity = Polarity.KEEPS
    context = staticmethod(_raised)


class BlameShifting(PatternDetector):
    name = "blame_shifting"
    rule = "R3"
    polarity = Polarity.BREAKS
    context = staticmethod(_raised)
