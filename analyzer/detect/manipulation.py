"""R6 — Persuasion, not manipulation. Precision comes first: a false accusation costs a
coach's trust, so evidence the customer can check lowers a flag (see the blockers)."""
from __future__ import annotations

from analyzer.detect.base import Evidence, PatternDetector, last_customer_line
from analyzer.detect.confidence import reported_tactics
from analyzer.model import Polarity, Prediction


class Manipulation(PatternDetector):
    name = "manipulation"
    rule = "R6"
    polarity = Polarity.BREAKS
    context = staticmethod(last_customer_line)

    def tactics(self, evidence: Evidence, prediction: Prediction | None) -> list[str | None]:
        """The model's most likely tactic, plus every other it is sure of: two tactics in
        one sentence are two findings. Without the model, the strongest pattern's tag."""
        if prediction and prediction.tactics:
            return reported_tactics(prediction.tactics)
        return [evidence.signals[0].pattern.tag if evidence.signals else None]
