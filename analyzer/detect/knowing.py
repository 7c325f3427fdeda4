"""R1 — If you don't know, don't pretend. Both behaviours are judged against the customer
question the salesperson answers: a confident answer to "will this pass our audit?" is a
bluff; the same words about their own price list are not."""
from __future__ import annotations

from analyzer.detect import patterns as pattern_data
from analyzer.detect.base import Context, PatternDetector, quote
from analyzer.model import ParsedCall, Polarity, Utterance


def answered_question(parsed: ParsedCall, utterance: Utterance) -> Utterance | None:
    asked = parsed.get(utterance.responds_to)
    return asked if asked is not None and asked.is_question else None


class PretendingToKnow(PatternDetector):
    name = "pretending_to_know"
    rule = "R1"
    polarity = Polarity.BREAKS

    def context(self, parsed: ParsedCall, utterance: Utterance) -> Context:
        asked = answered_question(parsed, utterance)
        if asked is None:
            return Context(0.35, "not an answer to a customer question")
        if pattern_data.matches_any("context", "unknowable_question", asked.text):
            return Context(1.0, f"answering {quote(asked.text)}, which the salesperson cannot know for certain")
        return Context(0.85, f"answering {quote(asked.text)}")


class HonestUncertainty(PatternDetector):
    name = "honest_uncertainty"
    rule = "R1"
    polarity = Polarity.KEEPS

    def context(self, parsed: ParsedCall, utterance: Utterance) -> Context:
        asked = answered_question(parsed, utterance)
        if asked is None:
            return Context(0.8)
        return Context(1.0, f"answering {quote(asked.text)}")
