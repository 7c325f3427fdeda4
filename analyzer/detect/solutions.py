"""R7 — Use imagination: a proposal built from what this customer said, or an option they had
not considered, versus a feature recital unconnected to anything they said."""
from __future__ import annotations

from analyzer.detect.base import PatternDetector, last_customer_line
from analyzer.model import Polarity


class TailoredSolution(PatternDetector):
    name = "tailored_solution"
    rule = "R7"
    polarity = Polarity.KEEPS
    context = staticmethod(last_customer_line)


class GenericPitch(PatternDetector):
    name = "generic_pitch"
    rule = "R7"
    polarity = Polarity.BREAKS
    context = staticmethod(last_customer_line)
