"""The detector contract: every detector names its behaviour, rule and polarity and turns a
parsed call into findings that carry their evidence and a coach-readable explanation."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from analyzer.detect import patterns as pattern_data
from analyzer.detect.confidence import combine
from analyzer.model import Finding, ParsedCall, Polarity, Utterance


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


class PatternDetector(Detector):
    """A detector driven by a named pattern file plus a context judgement."""

    def __init__(self) -> None:
        self.patterns = pattern_data.load(self.name)

    def context(self, parsed: ParsedCall, utterance: Utterance) -> Context:
        return Context()

    def finding(self, parsed: ParsedCall, utterance: Utterance, finding: Finding) -> Finding:
        """Hook for behaviours that add structure (a commitment's due date, a tactic)."""
        return finding

    def detect(self, parsed: ParsedCall) -> list[Finding]:
        findings = self._detect(parsed)
        if self.polarity is Polarity.EVENT:
            return findings  # two promises in one turn are two commitments
        # one judgement per turn: three sentences of one honest answer are one moment
        best: dict[int, Finding] = {}
        turn_of = {u.id: u.turn for u in parsed.utterances}
        for finding in findings:
            turn = turn_of[finding.utterance_id]
            if turn not in best or finding.confidence > best[turn].confidence:
                best[turn] = finding
        return [f for f in findings if best[turn_of[f.utterance_id]] is f]

    def _detect(self, parsed: ParsedCall) -> list[Finding]:
        findings = []
        for utterance in parsed.salesperson_utterances():
            matches = pattern_data.find(self.patterns, utterance.text)
            signals = sorted((m for m in matches if m.pattern.kind == "signal"), key=lambda m: -m.pattern.weight)
            if not signals:
                continue
            boosters = [m for m in matches if m.pattern.kind == "booster"]
            blockers = [m for m in matches if m.pattern.kind == "blocker"]
            context = self.context(parsed, utterance)
            confidence = combine(
                (m.pattern.weight for m in signals),
                (m.pattern.weight for m in boosters),
                (m.pattern.weight for m in blockers),
                context.factor,
            )
            if confidence <= 0:
                continue
            best = signals[0]
            parts = [f"{best.pattern.explain}: {quote(utterance.text[best.start:best.end])}"]
            parts += [m.pattern.explain for m in signals[1:] + boosters]
            if context.note:
                parts.append(context.note)
            if blockers:
                parts.append("lowered: " + ", ".join(m.pattern.explain for m in blockers))
            findings.append(
                self.finding(
                    parsed,
                    utterance,
                    Finding(
                        utterance_id=utterance.id,
                        behavior=self.name,
                        rule=self.rule,
                        polarity=self.polarity,
                        confidence=confidence,
                        span=(best.start, best.end),
                        explanation="; ".join(parts),
                        evidence=tuple(f"pattern:{m.pattern.name}" for m in signals + boosters + blockers),
                        tactic=best.pattern.tactic,
                    ),
                )
            )
        return findings
