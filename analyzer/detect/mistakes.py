"""R3 — If you make a mistake, take responsibility. Both behaviours are read against the
customer raising the problem just before."""
from __future__ import annotations

from analyzer.detect.base import PatternDetector, last_customer_line
from analyzer.model import Polarity


class Ownership(PatternDetector):
    name = "ownership"
    rule = "R3"
    polarity = Polarity.KEEPS
    context = staticmethod(last_customer_line)


class BlameShifting(PatternDetector):
    name = "blame_shifting"
    rule = "R3"
    polarity = Polarity.BREAKS
    context = staticmethod(last_customer_line)
