"""R6 — Persuasion, not manipulation. Precision comes first: a false accusation costs a
coach's trust, so evidence the customer can check lowers a flag (see the blockers)."""
from __future__ import annotations

from analyzer.detect.base import Context, PatternDetector, quote
from analyzer.model import ParsedCall, Polarity, Utterance


class Manipulation(PatternDetector):
    name = "manipulation"
    rule = "R6"
    polarity = Polarity.BREAKS

    def context(self, parsed: ParsedCall, utterance: Utterance) -> Context:
        before = parsed.customer_before(utterance, 1)
        return Context(1.0, f"after the customer said {quote(before[0].text)}" if before else "")
