"""Exports that are safe to hand around: formula injection, BOM, redaction, determinism."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from analyzer.export.writers import neutralise, write_csv
from analyzer.pipeline import Analyzer, analyze_folder
from analyzer.redact import luhn_valid, redact

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


@pytest.mark.parametrize(
    "text,expected",
    [
        ("write to dana.w@harbor-freight.com today", "write to [email] today"),
        ("call me on 555-123-4567.", "call me on [phone]."),
        ("my mobile is +44 20 7946 0958", "my mobile is [phone]"),
        ("card 4111 1111 1111 1111 exp 09/28", "card [card] exp 09/28"),
        ("we're at 1200 North Harbor Boulevard in Ellery", "we're at [address] in Ellery"),
        # false positives that must stay
        ("card 4111 1111 1111 1112 fails Luhn", "card 4111 1111 1111 1112 fails Luhn"),
        ("we run 40 trucks from 6 sites", "we run 40 trucks from 6 sites"),
        ("the quote was 1,250,000 on 2026-09-15", "the quote was 1,250,000 on 2026-09-15"),
        ("version 2.14.1 shipped", "version 2.14.1 shipped"),
        ("about 12 first street vendors", "about 12 first street vendors"),
    ],
)
def test_export_redaction(text, expected):
    assert redact(text) == expected


def test_export_luhn():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_export_redact_reaches_every_output(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "c.txt").write_text(
        "Cust: Will it work? Email me at jo@acme.io or call 555-123-4567.\n"
        "Rep: Definitely, guaranteed, trust me. I'll email jo@acme.io by Friday.\n"
    )
    out = tmp_path / "out"
    analyze_folder(folder, out, analyzer=Analyzer(), redact=True)
    for path in (p for p in out.rglob("*") if p.is_file()):  # the result cache too
        text = path.read_text(encoding="utf-8")
        assert "jo@acme.io" not in text and "555-123-4567" not in text, path.name
    assert "[email]" in (out / "flagged_excerpts.csv").read_text(encoding="utf-8")


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
