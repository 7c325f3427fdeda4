"""The CLI end to end through typer's CliRunner: outputs, golden headers, exit codes, and a
batch that survives bad files without losing or half-writing anything."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import EXIT_NOTHING_ANALYSED, EXIT_OUTPUT, app
from analyzer.export import columns

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "sample_transcripts"
OUTPUTS = {
    "flagged_excerpts.csv": columns.FLAGGED_EXCERPTS,
    "call_scores.csv": columns.CALL_SCORES,
    "rep_scores.csv": columns.REP_SCORES,
    "account_scores.csv": columns.ACCOUNT_SCORES,
    "errors.csv": columns.ERRORS,
    "commitments.csv": columns.COMMITMENTS,
}
GOLDEN_HEADERS = json.loads((Path(__file__).parent / "golden" / "headers.json").read_text())


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = run("analyze", str(SAMPLES), "--out", str(out), "--quiet")
    return result, out


def test_cli_samples_write_every_output(sample_run):
    result, out = sample_run
    assert result.exit_code == 0, result.output
    for name in list(OUTPUTS) + ["annotations.jsonl"]:
        assert (out / name).stat().st_size > 0, name
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".cache"], "temporary files left behind"


def test_cli_golden_headers(sample_run):
    _, out = sample_run
    for name in OUTPUTS:
        assert header(out / name) == GOLDEN_HEADERS[name], name


def test_cli_samples_content(sample_run):
    _, out = sample_run
    calls = list(csv.DictReader((out / "call_scores.csv").open(encoding="utf-8")))
    manifest = list(csv.DictReader((SAMPLES / "manifest.csv").open(encoding="utf-8")))
    assert len(calls) == len(manifest)
    assert {c["salesperson"] for c in calls} == {m["salesperson"] for m in manifest}
    flagged = list(csv.DictReader((out / "flagged_excerpts.csv").open(encoding="utf-8")))
    assert {"commitment", "manipulation", "honest_uncertainty", "reframing"} <= {r["behavior"] for r in flagged}
    assert all(r["review_verdict"] == "" and r["explanation"] for r in flagged)
    keys = [json.loads(line) for line in (out / "annotations.jsonl").open(encoding="utf-8")]
    assert list(keys[0]) == columns.ANNOTATION_KEYS
    per_call = [r for r in flagged if r["behavior"] != "repeated_mistake"]  # cross-call rows are not per utterance
    assert sum(len(k["findings"]) for k in keys) == len(per_call)


def test_cli_bad_files_reported_and_batch_continues(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(FIXTURES / "generic.json", folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.srt").write_bytes(bytes(range(256)))
    (folder / "truncated.json").write_text('{"utterances": [')
    (folder / "one.txt").write_text("Dana: hello?\nDana: anyone?\n")
    (folder / "slides.pptx").write_bytes(b"PK")
    (folder / ".hidden.txt").write_text("Dana: hi\nJim: hi\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert result.exit_code == 0
    errors = {r["file"]: r for r in csv.DictReader((out / "errors.csv").open(encoding="utf-8"))}
    assert {f: r["code"] for f, r in errors.items()} == {
        "empty.txt": "E101", "binary.srt": "E102", "truncated.json": "E105", "one.txt": "E107", "slides.pptx": "E104",
    }
    assert errors["slides.pptx"]["severity"] == "skipped"
    assert "empty.txt: [E101]" in result.stderr
    assert len(list(csv.DictReader((out / "call_scores.csv").open(encoding="utf-8")))) == 1


def test_cli_nothing_analysed_exits_nonzero(tmp_path):
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "empty.txt").write_text("")
    result = runner.invoke(app, ["analyze", str(tmp_path / "calls"), "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_NOTHING_ANALYSED


def test_cli_full_disk_exits_3_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    import errno

    out = tmp_path / "out"
    assert run("analyze", str(FIXTURES), "--out", str(out), "-q", "--patterns-only").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    original = Path.open

    def full(self, mode="r", *args, **kwargs):
        if "w" in mode and self.name == "call_scores.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return original(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", full)  # a full disk, which chmod cannot fake for root
    result = runner.invoke(app, ["analyze", str(FIXTURES), "--out", str(out), "-q", "--patterns-only"])
    assert result.exit_code == EXIT_OUTPUT
    assert "No space left on device" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_cli_output_path_is_a_file_exits_3(tmp_path):
    target = tmp_path / "out"
    target.write_text("not a folder")
    result = runner.invoke(app, ["analyze", str(FIXTURES), "--out", str(target)])
    assert result.exit_code == EXIT_OUTPUT
    assert "error:" in result.stderr


def test_cli_failed_run_keeps_previous_outputs(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run("analyze", str(FIXTURES), "--out", str(out), "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def broken_writer(*args, **kwargs):
        raise KeyboardInterrupt  # an interruption while writing the outputs

    monkeypatch.setattr("analyzer.pipeline.write_table", broken_writer)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(FIXTURES / "generic.json", other)  # different input: different annotations
    result = runner.invoke(app, ["analyze", str(other), "--out", str(out), "-q"])
    assert result.exit_code != 0
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # same files, same bytes, no staging folder left


def test_cli_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0 and "analyze" in result.output


@pytest.mark.parametrize("written,exit_code", [(99, EXIT_OUTPUT), (0, 0)])
def test_cli_output_folder_from_another_version(tmp_path, written, exit_code):
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"loyalty_analyzer": "9.9.9", "output_format": written}))
    result = runner.invoke(app, ["analyze", str(FIXTURES), "--out", str(out), "-q", "--patterns-only"])
    assert result.exit_code == exit_code
    if exit_code:
        assert "newer loyalty-analyzer" in result.stderr
    else:
        assert json.loads((out / "run.json").read_text())["output_format"] >= 1
