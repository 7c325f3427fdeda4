"""The one explicit list of detectors. Nothing registers itself on import; a golden test
(tests/test_detect_registry.py) pins the names, rules and polarities."""
from __future__ import annotations

from analyzer.detect.base import Detector
from analyzer.detect.commitment import CommitmentDetector
from analyzer.detect.discovery import DiscoveryQuestion
from analyzer.detect.knowing import HonestUncertainty, PretendingToKnow
from analyzer.detect.manipulation import Manipulation
from analyzer.detect.mistakes import BlameShifting, Ownership
from analyzer.detect.reframing import Reframing
from analyzer.detect.solutions import GenericPitch, TailoredSolution

DETECTORS: dict[str, type[Detector]] = {
    cls.name: cls
    for cls in (
        PretendingToKnow, HonestUncertainty, CommitmentDetector, Ownership, BlameShifting,
        DiscoveryQuestion, Reframing, Manipulation, TailoredSolution, GenericPitch,
    )
}


def build_detectors(names: list[str] | None = None) -> list[Detector]:
    unknown = set(names or ()) - set(DETECTORS)
    if unknown:
        raise ValueError(f"unknown detectors: {sorted(unknown)}; known: {sorted(DETECTORS)}")
    return [DETECTORS[name]() for name in (names or DETECTORS)]
