"""The benchmark's corpus is what `make bench` claims: seeded, readable by the pipeline, and
about 45 minutes and 600 utterances a call, with few repeated salesperson lines."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer.ingest import read_call  # noqa: E402
from analyzer.ingest.metadata import Manifest  # noqa: E402
from analyzer.segment import segment_calls  # noqa: E402
from bench.generate import generate  # noqa: E402


def test_corpus_is_seeded_and_realistic(tmp_path):
    first = generate(tmp_path / "a", 2, seed=3)
    again = generate(tmp_path / "b", 2, seed=3)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    manifest = Manifest.load(tmp_path / "a" / "manifest.csv", tmp_path / "a")
    calls = [read_call(p, tmp_path / "a", manifest)[0] for p in first]
    assert {c.format for c in calls} == {"json", "text"}
    for parsed in segment_calls(calls):
        minutes = parsed.call.turns[-1].start / 60
        assert 40 <= minutes <= 55, minutes
        assert 500 <= len(parsed.utterances) <= 700
        said = [u.text for u in parsed.salesperson_utterances() if not u.is_backchannel]
        assert len(set(said)) / len(said) > 0.9
        assert parsed.call.salesperson.source in ("metadata", "manifest")
