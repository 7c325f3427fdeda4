"""R2 — Do what you say you are going to do. A commitment is an event: it is neither kept
nor broken within one call; its owner, action, due date and specificity are what later calls
are checked against. Patterns decide the deadline well; whether a sentence is a promise at
all is harder (shared/notes/measurements.md), so blockers for negation, permission-asking,
hypotheticals and habits cut the false positives patterns alone produce."""
from __future__ import annotations

import dataclasses

from analyzer.detect.base import PatternDetector
from analyzer.detect.dates import find_due
from analyzer.model import Commitment, Finding, ParsedCall, Polarity, Utterance


class CommitmentDetector(PatternDetector):
    name = "commitment"
    rule = "R2"
    polarity = Polarity.EVENT

    def finding(self, parsed: ParsedCall, utterance: Utterance, finding: Finding) -> Finding:
        start = finding.span[0]
        phrase, due = find_due(utterance.text[start:], parsed.call.meta.date)
        commitment = Commitment(
            owner=utterance.speaker,
            action=utterance.text[start:].strip(),
            due=due,
            due_phrase=phrase,
            specific=bool(phrase),
        )
        when = f"due {due.isoformat()} ({phrase})" if due else f"due '{phrase}'" if phrase else "no due date (vague)"
        return dataclasses.replace(finding, commitment=commitment, explanation=f"{finding.explanation}; {when}")
