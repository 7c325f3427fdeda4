"""Shared fixtures: real-shaped transcript files, a quick Call builder, and a fake detector."""
from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.model import Call, CallMeta, SalespersonResolution, Turn
from analyzer.segment import segment_call

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "sample_transcripts"


def make_call(*lines: tuple[str, str], salesperson: str = "Rep", call_id: str = "c1", date=None) -> Call:
    """A Call from (speaker, text) pairs; the salesperson is given, not inferred."""
    turns = tuple(Turn(speaker, text, float(i * 10), float(i * 10 + 9)) for i, (speaker, text) in enumerate(lines))
    return Call(f"{call_id}.txt", "text", CallMeta(call_id, date=date), turns, SalespersonResolution(salesperson, "option", 1.0))


def parse(*lines: tuple[str, str], **kwargs):
    return segment_call(make_call(*lines, **kwargs))


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
