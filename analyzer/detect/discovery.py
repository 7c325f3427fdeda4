"""R4 — Get on the customer's side of the table: open questions about what matters to them."""
from __future__ import annotations

from analyzer.detect.base import PatternDetector
from analyzer.model import Polarity


class DiscoveryQuestion(PatternDetector):
    name = "discovery_question"
    rule = "R4"
    polarity = Polarity.KEEPS
