"""The result cache, --workers and --engine ray: however a folder is analysed, the outputs
are byte for byte the same; an unchanged call is never analysed twice."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from analyzer.cache import FOLDER_FACTS
from analyzer.analysis import Analyzer
from analyzer.pipeline import analyze_folder

SAMPLES = Path(__file__).parent.parent / "sample_transcripts"
OUTPUTS = ("annotations.jsonl", "flagged_excerpts.csv", "call_scores.csv", "rep_scores.csv", "account_scores.csv",
           "commitments.csv", "errors.csv", "report.html")


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.default()


@pytest.fixture(scope="module")
def serial(analyzer, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    analyze_folder(SAMPLES, out, analyzer=analyzer, use_cache=False)
    return out


def test_workers_give_the_same_outputs(analyzer, serial, tmp_path):
    summary = analyze_folder(SAMPLES, tmp_path, analyzer=analyzer, workers=2)
    assert summary.analysed == 12
    assert outputs(tmp_path) == outputs(serial)


def test_ray_engine_gives_the_same_outputs(analyzer, serial, tmp_path):
    pytest.importorskip("ray")
    summary = analyze_folder(SAMPLES, tmp_path, analyzer=analyzer, workers=2, engine="ray")
    assert summary.analysed == 12
    assert outputs(tmp_path) == outputs(serial)


def test_workers_report_bad_files_and_go_on(analyzer, tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES, folder)
    (folder / "broken.json").write_text("{ not json")
    (folder / "one_voice.txt").write_text("Rep: hello there, anyone?\nRep: still me.\n")
    problems = []
    summary = analyze_folder(folder, tmp_path / "out", analyzer=analyzer, workers=2, on_problem=problems.append)
    assert summary.analysed == 12
    assert {(p.path, p.code) for p in problems} >= {("broken.json", "E105"), ("one_voice.txt", "E107")}
    assert "broken.json" in (tmp_path / "out" / "errors.csv").read_text()


def _call_entries(out: Path) -> list[Path]:
    return [p for p in (out / ".cache").glob("*.json") if not p.name.startswith(("account-", FOLDER_FACTS))]


def test_rerun_reads_the_cache_and_changed_files_are_analysed_again(analyzer, serial, tmp_path, monkeypatch):
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES, folder)
    out = tmp_path / "out"
    analyze_folder(folder, out, analyzer=analyzer)
    assert len(_call_entries(out)) == 12 and (out / ".cache" / f"{FOLDER_FACTS}.json").is_file()
    with (out / "call_scores.csv").open(encoding="utf-8", newline="") as handle:
        accounts = {row["account"] or row["call_id"] for row in csv.DictReader(handle)}
    assert len(list((out / ".cache").glob("account-*.json"))) == len(accounts)  # one per account the ledger judged

    analysed: list[str] = []
    original = Analyzer.analyze_calls

    def counting(self, calls, times=None):
        analysed.extend(c.source for c in calls)
        return original(self, calls, times)

    monkeypatch.setattr(Analyzer, "analyze_calls", counting)
    summary = analyze_folder(folder, out, analyzer=analyzer)
    assert analysed == [] and summary.analysed == 12
    assert outputs(out) == outputs(serial)

    changed = folder / "2026-08-20_harbor-freight-lines_discovery.txt"
    changed.write_text(changed.read_text() + "\n[00:59:00] Dana Whitfield: I'll send the notes by Friday.\n")
    (folder / "2026-11-04_ridgeback-cold-storage_pitch.csv").unlink()
    analyze_folder(folder, out, analyzer=analyzer)
    assert analysed == ["2026-08-20_harbor-freight-lines_discovery.txt"]
    assert len(_call_entries(out)) == 11  # the removed and the stale entry are gone

    analyze_folder(folder, out, analyzer=analyzer, use_cache=False)
    assert len(analysed) == 1 + 11


def test_a_different_setting_does_not_reuse_the_cache(analyzer, tmp_path, monkeypatch):
    from analyzer.settings import Settings

    out = tmp_path / "out"
    analyze_folder(SAMPLES, out, analyzer=analyzer)
    stricter = Analyzer(analyzer.detectors, Settings(thresholds={"commitment": 0.99}), analyzer.scorer)
    seen: list[int] = []
    original = Analyzer.analyze_calls
    monkeypatch.setattr(Analyzer, "analyze_calls", lambda self, calls, times=None: seen.append(len(calls)) or original(self, calls, times))
    analyze_folder(SAMPLES, out, analyzer=stricter)
    assert sum(seen) == 12


def test_a_new_int8_graph_does_not_reuse_the_cache(analyzer, tmp_path, monkeypatch):
    """Cached findings came through the graph that fed the heads: after GRAPH_VERSION moves
    (another export, other vectors), every call is analysed again."""
    import analyzer.encoder_onnx as encoder_onnx

    out = tmp_path / "out"
    analyze_folder(SAMPLES, out, analyzer=analyzer)
    seen: list[int] = []
    original = Analyzer.analyze_calls
    monkeypatch.setattr(Analyzer, "analyze_calls", lambda self, calls, times=None: seen.append(len(calls)) or original(self, calls, times))
    monkeypatch.setattr(encoder_onnx, "GRAPH_VERSION", encoder_onnx.GRAPH_VERSION + 1)
    monkeypatch.setattr(encoder_onnx, "ensure_graph", lambda *args: None)  # the loaded graph serves
    analyze_folder(SAMPLES, out, analyzer=analyzer)
    assert sum(seen) == 12


def test_a_rerun_from_the_cache_loads_no_model(serial, tmp_path):
    out = tmp_path / "out"
    analyze_folder(SAMPLES, out, analyzer=Analyzer.default())
    fresh = Analyzer.default()
    analyze_folder(SAMPLES, out, analyzer=fresh)
    assert "featurizer" not in vars(fresh.scorer) and "classifier" not in vars(fresh.scorer)
    assert outputs(out) == outputs(serial)


@pytest.mark.parametrize("calls_per_batch", [1, 5])
def test_a_calls_findings_do_not_depend_on_the_folder(analyzer, serial, tmp_path, monkeypatch, calls_per_batch):
    """One call analysed alone, and inside the whole folder in batches of another size, gives
    the same per-utterance findings byte for byte: nothing is encoded across calls."""
    import analyzer.pipeline as pipeline

    monkeypatch.setattr(pipeline, "CALLS_PER_BATCH", calls_per_batch)
    name = "2026-09-15_marlowe-hotel_discovery.csv"
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(SAMPLES / name, alone / name)
    manifest = (SAMPLES / "manifest.csv").read_text().splitlines()
    (alone / "manifest.csv").write_text("\n".join([manifest[0]] + [line for line in manifest if name in line]) + "\n")
    analyze_folder(alone, tmp_path / "out", analyzer=analyzer, use_cache=False)

    def lines_of(out: Path) -> list[str]:
        return [line for line in (out / "annotations.jsonl").read_text().splitlines() if name in line]

    assert lines_of(tmp_path / "out") and lines_of(tmp_path / "out") == lines_of(serial)
    flagged = [line for line in (tmp_path / "out" / "flagged_excerpts.csv").read_text().splitlines()[1:]]
    assert flagged and all(line in (serial / "flagged_excerpts.csv").read_text() for line in flagged)
