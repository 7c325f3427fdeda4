"""R6 — Persuasion, not manipulation. Precision comes first: a false accusation costs a
coach's trust, so evidence the customer can check lowers a flag (see the blockers)."""
from __future__ import annotations

from analyzer.detect.base import PatternDetector, last_customer_line
from analyzer.model import Polarity


class Manipulation(PatternDetector):
    name = "manipulation"
    rule = "R6"
    polarity = Polarity.BREAKS
    context = staticmethod(last_customer_line)
