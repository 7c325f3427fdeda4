"""R7 — Use imagination: a proposal built from what this customer said, or an option they had
not considered, versus a feature recital unconnected to anything they said."""
from __future__ import annotations

from analyzer.detect.base import Context, PatternDetector, quote
from analyzer.model import ParsedCall, Polarity, Utterance


def _customer_said(parsed: ParsedCall, utterance: Utterance) -> Context:
    before = parsed.customer_before(utterance, 1)
    return Context(1.0, f"the customer had said {quote(before[0].text)}" if before else "")


class TailoredSolution(PatternDetector):
    name = "tailored_solution"
    rule = "R7"
    polarity = Polarity.KEEPS
    context = staticmethod(_customer_said)


class GenericPitch(PatternDetector):
    name = "generic_pitch"
    rule = "R7"
    polarity = Polarity.BREAKS
    context = staticmethod(_customer_said)
