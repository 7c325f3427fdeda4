"""The registry is explicit and pinned by a golden file; every detector keeps the contract."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.detect.registry import DETECTORS, build_detectors
from analyzer.model import Finding, Polarity
from conftest import parse

GOLDEN = Path(__file__).parent / "golden" / "detectors.json"


def test_detect_registry_matches_golden():
    registered = {name: {"rule": cls.rule, "polarity": cls.polarity.value} for name, cls in DETECTORS.items()}
    assert registered == json.loads(GOLDEN.read_text())


def test_detect_registry_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown detectors"):
        build_detectors(["telepathy"])


CALL = parse(
    ("Rep", "Walk me through what happens today when a driver calls in sick?"),
    ("Cust", "Our problem is that dispatch can't keep up. Will your tool fix it for sure?"),
    ("Rep", "It sounds like the real issue is manual dispatch, costing you hours every week, is that fair?"),
    ("Rep", "Honestly, I don't know if it fixes everything. I'll find out and email you by Friday."),
    ("Rep", "But you'll definitely save 50 percent, guaranteed. Price goes up tonight, so sign today."),
    ("Cust", "The last invoice was wrong again."),
    ("Rep", "That's on me, I quoted the old rate; here's what I'll do: a corrected invoice today."),
    ("Cust", "And the delivery was late."),
    ("Rep", "That was the warehouse's fault, not mine."),
    ("Cust", "We have 14 trucks but only 6 run nights."),
    ("Rep", "Since you said only six run nights, what if we start with a pilot on the night fleet?"),
    ("Cust", "Okay."),
    ("Rep", "Our platform offers AI-powered, best-in-class dashboards and seamless integrations."),
)


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_detect_contract(name):
    (detector,) = build_detectors([name])
    findings = detector.detect(CALL)
    assert findings, f"{name} found nothing in a call written to contain it"
    ids = {u.id: u for u in CALL.utterances}
    for finding in findings:
        assert isinstance(finding, Finding)
        assert finding.behavior == name and finding.rule == detector.rule and finding.polarity is detector.polarity
        utterance = ids[finding.utterance_id]
        assert utterance.role.value == "salesperson"
        start, end = finding.span
        assert 0 <= start < end <= len(utterance.text)
        assert 0 < finding.confidence <= 1
        assert finding.explanation.strip()
        assert all(e.startswith("pattern:") for e in finding.evidence)
    assert (detector.polarity is Polarity.EVENT) == (name == "commitment")
