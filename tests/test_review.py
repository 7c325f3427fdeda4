"""The coach review loop: verdict parsing, precision per behaviour and salesperson,
threshold proposals that show what they keep and drop, refusal on too few verdicts, and a
reviewed file that went through a real spreadsheet program."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.analysis import Analyzer
from analyzer.pipeline import analyze_folder
from analyzer.review import parse_verdict, precision_by, propose, verdict_frame

runner = CliRunner()
SAMPLES = Path(__file__).parent.parent / "sample_transcripts"


@pytest.mark.parametrize(
    "value,expected",
    [("agree", True), ("Agree ", True), ("YES", True), ("y", True), ("1", True), ("TRUE", True),
     ("disagree", False), ("No", False), ("0", False), ("false", False), ("", None), ("  ", None)],
)
def test_review_parse_verdict(value, expected):
    assert parse_verdict(value) is expected


def test_review_parse_verdict_rejects_unknown():
    with pytest.raises(ValueError):
        parse_verdict("maybe")


def _verdicts(behavior, pairs, rep="Dana"):
    return [(behavior, rep, c, a) for c, a in pairs]


def test_review_proposes_a_higher_threshold_and_shows_the_effect():
    rows = _verdicts("manipulation", [(0.6, False)] * 4 + [(0.7, False)] * 2 + [(0.8, True)] * 5 + [(0.9, True)] * 4)
    (p,) = propose(verdict_frame(rows), {"manipulation": 0.55})
    assert p.proposed == 0.8 and p.kept == 9 and p.dropped == 6
    assert p.precision_before == pytest.approx(9 / 15) and p.precision_after == 1.0


def test_review_leaves_good_or_thin_behaviours_alone():
    good = _verdicts("commitment", [(0.9, True)] * 12)
    thin = _verdicts("reframing", [(0.9, False)] * 3)
    proposals = {p.behavior: p for p in propose(verdict_frame(good + thin), {"commitment": 0.5, "reframing": 0.5})}
    assert proposals["commitment"].proposed is None and "meets" in proposals["commitment"].reason
    assert proposals["reframing"].proposed is None and "not enough verdicts" in proposals["reframing"].reason


@pytest.mark.parametrize(
    "pairs,current,proposed,kept",
    [
        ([(0.6, False)] * 6 + [(0.8, True)] * 9, 0.55, 0.8, 9),    # the lowest threshold that reaches 90 %
        ([(0.6, False)] * 6 + [(0.8, True)] * 9, 0.8, None, 15),   # only raises: 0.8 is not above 0.8
        ([(0.6, False)] * 6 + [(0.8, True)] * 9, None, 0.8, 9),    # threshold unknown: every reviewed value
        ([(0.9, False)] * 6 + [(0.6, True)] * 9, 0.55, None, 15),  # the confident flags are the wrong ones
        ([(0.804, False)] * 6 + [(0.8, True)] * 9, 0.7, None, 15),  # 0.804 rounds to 0.8 and stays kept
    ],
    ids=["raise", "not-lower", "unknown-current", "unreachable", "rounded-candidates"],
)
def test_review_propose_candidates(pairs, current, proposed, kept):
    (p,) = propose(verdict_frame(_verdicts("manipulation", pairs)), {"manipulation": current} if current else {})
    assert (p.proposed, p.kept, p.dropped) == (proposed, kept, 15 - kept)


@pytest.mark.parametrize(
    "column,expected",
    [
        ("behavior", [("commitment", 3, 2), ("reframing", 1, 0)]),
        ("salesperson", [("Al", 2, 1), ("Dana", 2, 1)]),
    ],
)
def test_review_precision_by(column, expected):
    rows = _verdicts("commitment", [(0.9, True), (0.8, False)]) + _verdicts("commitment", [(0.7, True)], rep="Al") \
        + _verdicts("reframing", [(0.6, False)], rep="Al")
    table = precision_by(verdict_frame(rows), column)
    assert [(p.Index, p.reviewed, p.agreed) for p in table.itertuples()] == expected
    assert list(table["precision"]) == [agreed / reviewed for _, reviewed, agreed in expected]


@pytest.fixture(scope="module")
def flagged(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    analyze_folder(SAMPLES, out, analyzer=Analyzer())
    return out / "flagged_excerpts.csv"


def _review(flagged: Path, target: Path, verdict, encoding: str = "utf-8") -> Path:
    rows = list(csv.DictReader(flagged.open(encoding="utf-8")))
    for i, row in enumerate(rows):
        row["review_verdict"] = verdict(i, row)
        row["review_note"] = "checked, =looks fine" if i % 5 == 0 else ""
    with target.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_review_command_reports_and_writes_settings(flagged, tmp_path):
    reviewed = _review(flagged, tmp_path / "reviewed.csv",
                       lambda i, r: "no" if r["behavior"] == "commitment" and float(r["confidence"]) < 0.8 else "Agree")
    settings = tmp_path / "settings.json"
    result = runner.invoke(app, ["review", str(reviewed), "--settings-out", str(settings)])
    assert result.exit_code == 0, result.output
    assert "precision by behaviour" in result.output and "precision by salesperson" in result.output
    assert "commitment" in result.output and "->" in result.output
    written = json.loads(settings.read_text())
    assert written["thresholds"]["commitment"] >= 0.8
    rerun = runner.invoke(app, ["analyze", str(SAMPLES), "--out", str(tmp_path / "out"), "--settings", str(settings),
                                "--patterns-only", "-q"])
    assert rerun.exit_code == 0


def test_review_refuses_too_few_verdicts(flagged, tmp_path):
    reviewed = _review(flagged, tmp_path / "few.csv", lambda i, r: "yes" if i < 3 else "")
    result = runner.invoke(app, ["review", str(reviewed)])
    assert result.exit_code == 1 and "only 3 verdicts" in result.stderr


def test_review_reports_unreadable_verdicts_with_line_numbers(flagged, tmp_path):
    reviewed = _review(flagged, tmp_path / "odd.csv", lambda i, r: "maybe" if i == 0 else "yes")
    result = runner.invoke(app, ["review", str(reviewed)])
    assert "odd.csv:2: verdict 'maybe' not understood" in result.stderr


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_review_round_trips_through_libreoffice(flagged, tmp_path):
    """Edited in a spreadsheet: open our CSV (with the BOM `--excel` writes), save as .ods and
    back to CSV, as a coach would."""
    reviewed = _review(flagged, tmp_path / "edit.csv", lambda i, r: "Agree" if i % 3 else "Disagree", "utf-8-sig")
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo'}"
    # 44,34,76: comma, double quote, UTF-8 -- what the import dialog shows for our file
    subprocess.run([SOFFICE, profile, "--headless", "--infilter=CSV:44,34,76,1", "--convert-to", "ods",
                    "--outdir", str(tmp_path / "ods"), str(reviewed)], check=True, capture_output=True, timeout=180)
    subprocess.run([SOFFICE, profile, "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1",
                    "--outdir", str(tmp_path / "back"), str(tmp_path / "ods" / "edit.ods")],
                   check=True, capture_output=True, timeout=180)
    back = tmp_path / "back" / "edit.csv"
    original = list(csv.DictReader(reviewed.open(encoding="utf-8-sig")))
    returned = list(csv.DictReader(back.open(encoding="utf-8-sig")))
    assert [r["excerpt"] for r in returned] == [r["excerpt"] for r in original]  # nothing a coach reads changed
    result = runner.invoke(app, ["review", str(back), "--settings-out", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    assert f"{len(original)} verdicts" in result.output
