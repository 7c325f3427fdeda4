"""Exports that are safe to hand around: formula injection, BOM, determinism (redaction:
test_redact.py)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from analyzer.export.writers import neutralise, write_csv
from analyzer.analysis import Analyzer
from analyzer.pipeline import analyze_folder

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-fine print", "'-fine print"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-", "-"),
        ("+", "+"),
        ("-12.5", "-12.5"),
        ("plain text = fine", "plain text = fine"),
    ],
)
def test_export_neutralises_formulas(text, expected):
    assert neutralise(text) == expected


def test_export_csv_quotes_newlines_and_quotes_and_bom(tmp_path):
    path = tmp_path / "x.csv"
    write_csv(path, ["a", "b"], [{"a": 'he said "no"\nthen left', "b": "=1+1"}], bom=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    assert rows == [["a", "b"], ['he said "no"\nthen left', "'=1+1"]]


def test_export_reruns_are_byte_identical(tmp_path):
    folder = tmp_path / "calls"
    shutil.copytree(FIXTURES, folder)
    first, second = tmp_path / "a", tmp_path / "b"
    analyze_folder(folder, first, analyzer=Analyzer())
    analyze_folder(folder, second, analyzer=Analyzer())
    names = sorted(p.name for p in first.iterdir() if p.is_file())
    assert names == sorted(p.name for p in second.iterdir() if p.is_file())
    for name in names:
        if name != "run.json":
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
    record = json.loads((first / "run.json").read_text())
    not_calls = {"make_docx.py", "protected.docx"}  # the .docx fixtures' generator; a password-protected file
    calls = [p for p in FIXTURES.iterdir() if p.name not in not_calls]
    assert record["model"] == {"kind": "patterns-only"} and record["analysed"] == len(calls)
    assert "finished_at" in record and record["thresholds"]
