"""R6 — Persuasion, not manipulation. Precision comes first: a false accusation costs a
coach's trust, so evidence the customer can check lowers a flag (see the blockers)."""
from __future__ import annotations

from analyzer.detect.base import Evidence, PatternDetector, last_customer_line
from analyzer.detect.confidence import TACTIC_THRESHOLD
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
            first, *others = prediction.tactics
            return [first[0]] + [name for name, p in others if p >= TACTIC_THRESHOLD]
        return [evidence.signals[0].pattern.tag if evidence.signals else None]
