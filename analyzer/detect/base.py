"""The detector contract: every detector names its behaviour, rule and polarity and turns a
parsed call into findings that carry their evidence and a coach-readable explanation."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from analyzer.detect import patterns as pattern_data
from analyzer.detect.confidence import combine, decide
from analyzer.model import Finding, ParsedCall, Polarity, Prediction, Role, Utterance


class Detector(ABC):
    name: str          # the behaviour it detects, e.g. "commitment"
    rule: str          # "R1" .. "R7"
    polarity: Polarity

    @abstractmethod
    def detect(self, parsed: ParsedCall) -> list[Finding]:
        """Findings for the salesperson's utterances in one call (any confidence > 0)."""


@dataclass(frozen=True)
class Context:
    """How much what the customer said before supports the finding, and why (for the coach)."""

    factor: float = 1.0
    note: str = ""


def quote(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


@dataclass(frozen=True)
class Evidence:
    """What the patterns and the context say about one utterance, for one behaviour."""

    signals: tuple[pattern_data.Match, ...]   # strongest first
    boosters: tuple[pattern_data.Match, ...]
    blockers: tuple[pattern_data.Match, ...]
    context: Context
    confidence: float  # confidence.combine over the above; 0 when no signal fired


def window_note(parsed: ParsedCall, utterance: Utterance, prediction: Prediction) -> str:
    """Which lines the model read around the utterance, and the one it weighed most."""
    if not prediction.read:
        return ""
    here = parsed.position(utterance.id)
    read = [u for i in prediction.read if (u := parsed.get(i)) is not None]
    before = [u for u in read if parsed.position(u.id) < here]
    customer = sum(1 for u in before if u.role is Role.CUSTOMER)
    note = f"read the {len(before)} line{'s' if len(before) != 1 else ''} before it ({customer} the customer's)"
    if len(read) > len(before):
        note += " and the customer's reaction"
    focus = parsed.get(prediction.focus)
    if focus is not None:
        who = "the customer's" if focus.role is Role.CUSTOMER else "the salesperson's own"
        note += f", weighing most {who} {quote(focus.text, 70)}"
    return note


def last_customer_line(parsed: ParsedCall, utterance: Utterance) -> Context:
    """Context that only reports what the customer said just before (no weighting)."""
    before = parsed.customer_before(utterance, 1)
    return Context(1.0, f"after the customer said {quote(before[0].text)}" if before else "")


class PatternDetector(Detector):
    """A detector driven by a named pattern file plus a context judgement, and by the learned
    heads' probability when the call carries predictions (see confidence.decide)."""

    def __init__(self) -> None:
        self.patterns = pattern_data.load(self.name)

    def context(self, parsed: ParsedCall, utterance: Utterance) -> Context:
        return Context()

    def finding(self, parsed: ParsedCall, utterance: Utterance, finding: Finding) -> Finding:
        """Hook for behaviours that add structure (a commitment's due date)."""
        return finding

    def evidence(self, parsed: ParsedCall, utterance: Utterance) -> Evidence:
        """The patterns' judgement of one utterance in its call, computed once per call."""
        key = (self.name, utterance.id)
        if key not in parsed.evidence_memo:
            parsed.evidence_memo[key] = self._evidence(parsed, utterance)
        return parsed.evidence_memo[key]

    def _evidence(self, parsed: ParsedCall, utterance: Utterance) -> Evidence:
        matches = pattern_data.find(self.patterns, utterance.text)
        signals = tuple(sorted((m for m in matches if m.pattern.kind == "signal"), key=lambda m: -m.pattern.weight))
        boosters = tuple(m for m in matches if m.pattern.kind == "booster")
        blockers = tuple(m for m in matches if m.pattern.kind == "blocker")
        context = self.context(parsed, utterance)
        confidence = combine(
            (m.pattern.weight for m in signals),
            (m.pattern.weight for m in boosters),
            (m.pattern.weight for m in blockers),
            context.factor,
        )
        return Evidence(signals, boosters, blockers, context, confidence)

    def detect(self, parsed: ParsedCall) -> list[Finding]:
        findings = [f for u in parsed.salesperson_utterances() for f in self._judge(parsed, u)]
        if self.polarity is Polarity.EVENT:
            return findings  # two promises in one turn are two commitments
        # one judgement per turn (and tactic): three sentences of one honest answer are one
        # moment, while false urgency and guilt in one turn are two
        best: dict[tuple[int, str | None], Finding] = {}
        turn_of = {u.id: u.turn for u in parsed.utterances}
        for finding in findings:
            key = (turn_of[finding.utterance_id], finding.tactic)
            if key not in best or finding.confidence > best[key].confidence:
                best[key] = finding
        return [f for f in findings if best[(turn_of[f.utterance_id], f.tactic)] is f]

    def tactics(self, evidence: Evidence, prediction: Prediction | None) -> list[str | None]:
        """The tactics a finding is reported under: one finding each (manipulation only)."""
        return [None]

    def _judge(self, parsed: ParsedCall, utterance: Utterance) -> list[Finding]:
        evidence = self.evidence(parsed, utterance)
        prediction = parsed.predictions.get(utterance.id)
        probability = prediction.probabilities.get(self.name) if prediction else None
        confidence = decide(evidence.confidence, probability)
        if confidence <= 0:
            return []
        parts = []
        if probability is not None:
            parts.append(f"model {probability:.2f}")
            if reading := window_note(parsed, utterance, prediction):
                parts.append(reading)
        if evidence.signals:
            best = evidence.signals[0]
            span = (best.start, best.end)
            parts.append(f"{best.pattern.explain}: {quote(utterance.text[best.start:best.end])}")
            parts += [m.pattern.explain for m in evidence.signals[1:] + evidence.boosters]
        else:
            span = (0, len(utterance.text))
            parts.append("no pattern fired")
        if evidence.context.note:
            parts.append(evidence.context.note)
        if evidence.blockers:
            parts.append("lowered: " + ", ".join(m.pattern.explain for m in evidence.blockers))
        names = evidence.signals + evidence.boosters + evidence.blockers
        return [
            self.finding(
                parsed,
                utterance,
                Finding(
                    utterance_id=utterance.id,
                    behavior=self.name,
                    rule=self.rule,
                    polarity=self.polarity,
                    confidence=confidence,
                    span=span,
                    explanation="; ".join(parts),
                    evidence=(("model:heads",) if probability is not None else ()) + tuple(f"pattern:{m.pattern.name}" for m in names),
                    tactic=tactic,
                ),
            )
            for tactic in self.tactics(evidence, prediction)
        ]
