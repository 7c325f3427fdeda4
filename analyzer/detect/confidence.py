"""How evidence becomes a confidence: the one place that defines it.

    p = 1 - prod(1 - w_signal)                  independent signals (noisy-or)
    p = p + w_booster * (1 - p)                 for each booster, only when a signal fired
    p = p * prod(1 - w_blocker)                 each blocker removes its share
    confidence = p * context                    context in [0, 1]: what the customer said before

With the learned heads (models/heads.safetensors) the confidence is the head's probability:
the head takes these pattern confidences and the context flags as input features next to
the sentence embeddings, so patterns and model are combined once, by training, not by a
hand-set blend. Without the heads the pattern confidence is used as is.

A finding is reported when its confidence reaches the behaviour's threshold: calibrated on
the validation split and shipped with the heads, or the pattern defaults; --settings
overrides either."""
from __future__ import annotations

from collections.abc import Iterable

# manipulation: the most likely tactic is always named; a further tactic of the same sentence
# becomes a finding of its own from this probability (tactic heads are independent sigmoids)
TACTIC_THRESHOLD = 0.5


def reported_tactics(ranked: tuple[tuple[str, float], ...]) -> list[str]:
    """The tactics a manipulation finding is reported under, from (tactic, probability)
    most likely first: the first always, every other from TACTIC_THRESHOLD."""
    first, *others = ranked
    return [first[0]] + [name for name, p in others if p >= TACTIC_THRESHOLD]


def combine(signals: Iterable[float], boosters: Iterable[float] = (), blockers: Iterable[float] = (), context: float = 1.0) -> float:
    miss = 1.0
    fired = False
    for weight in signals:
        miss *= 1.0 - weight
        fired = True
    if not fired:
        return 0.0
    p = 1.0 - miss
    for weight in boosters:
        p += weight * (1.0 - p)
    for weight in blockers:
        p *= 1.0 - weight
    return round(max(0.0, min(1.0, p * context)), 3)


def decide(pattern_confidence: float, model_probability: float | None) -> float:
    """The confidence of a finding: the model's when there is one, else the patterns'."""
    return round(model_probability, 3) if model_probability is not None else pattern_confidence
