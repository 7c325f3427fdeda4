"""Each kind of bad file gives one coded error naming the file; nothing raises past it."""
from __future__ import annotations

import json
import os

import pytest

from analyzer.errors import InputError
from analyzer.ingest import read_call

BAD_INPUTS = [
    ("empty.txt", b"", "E101"),
    ("blank.vtt", b"\n\n  \n", "E101"),
    ("binary.srt", bytes(range(256)) * 4, "E102"),
    ("truncated.json", b'{"utterances": [{"speaker": "A", "text": "hi"', "E105"),
    ("shape.json", json.dumps({"hello": "world"}).encode(), "E105"),
    ("not_vtt.vtt", b"00:00:01.000 --> 00:00:02.000\nhi\n", "E105"),
    ("no_header.csv", b"a,b\n1,2\n", "E105"),
    ("notes.odt", b"PK\x03\x04 something", "E104"),
    ("one_speaker.txt", b"Dana: Hello?\nDana: Anyone there?\n", "E107"),
    ("no_turns.txt", b"just some notes about a call\nwith no speakers at all\n", "E106"),
    ("no_cues.srt", b"this is not a subtitle file\n", "E105"),
]


@pytest.mark.parametrize("name,data,code", BAD_INPUTS)
def test_ingest_bad_input_is_a_coded_error(tmp_path, name, data, code):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_call(path, tmp_path)
    assert caught.value.code == code
    line = caught.value.line()
    assert line.startswith(f"{name}: [{code}]")
    assert " -- " in line  # says what to do


def test_ingest_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("Dana: hi\nJim: hi\n")
    original = type(path).read_bytes

    def denied(self):
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(type(path), "read_bytes", denied)  # chmod does not stop root
    with pytest.raises(InputError) as caught:
        read_call(path, tmp_path)
    assert caught.value.code == "E103" and "Permission denied" in caught.value.message


def test_ingest_vanished_file_is_unreadable(tmp_path):
    with pytest.raises(InputError) as caught:
        read_call(tmp_path / "gone.txt", tmp_path)
    assert caught.value.code == "E103"


def test_ingest_too_large(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("Dana: hi there\nJim: hello\n" * 50000)
    with pytest.raises(InputError) as caught:
        read_call(path, tmp_path, max_file_mb=0.1)
    assert caught.value.code == "E110"


def test_ingest_non_utf8_warns_and_reads(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Dana: Naïve question?\nJim: Sí.\n".encode("cp1252"))
    call, warnings = read_call(path, tmp_path)
    assert call.turns[0].text == "Naïve question?"
    assert [w.code for w in warnings if w.code == "W201"] == ["W201"]


def test_ingest_manifest_names_missing_speaker(tmp_path):
    from analyzer.ingest.metadata import Manifest

    (tmp_path / "c.txt").write_text("Dana: hi\nJim: hi\n")
    (tmp_path / "manifest.csv").write_text("file,salesperson_speaker\nc.txt,Priya\n")
    with pytest.raises(InputError) as caught:
        read_call(tmp_path / "c.txt", tmp_path, Manifest.load(tmp_path / "manifest.csv", tmp_path))
    assert caught.value.code == "E108"


def test_ingest_overlong_turn_is_split_with_a_warning(tmp_path):
    from analyzer.ingest import MAX_TURN_CHARS

    words = "we ship pallets every morning and " * (MAX_TURN_CHARS // 10)
    path = tmp_path / "long.txt"
    path.write_text(f"[00:00:00] Dana: {words}\n[10:00:00] Jim: ok\n")
    call, warnings = read_call(path, tmp_path)
    assert all(len(t.text) <= MAX_TURN_CHARS for t in call.turns)
    assert sum(len(t.text) for t in call.turns if t.speaker == "Dana") >= len(words.strip()) - len(call.turns)
    assert [w.code for w in warnings if w.code == "W206"] == ["W206"]
    starts = [t.start for t in call.turns]
    assert starts == sorted(starts)


def test_ingest_unreadable_folder_is_reported(tmp_path, monkeypatch):
    from analyzer.ingest import discover

    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "c.txt").write_text("Dana: hi\nJim: hi\n")
    original = os.scandir

    def denied(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return original(path)

    monkeypatch.setattr(os, "scandir", denied)  # chmod does not stop root
    problems = []
    list(discover(tmp_path, on_error=problems.append))
    assert [p.code for p in problems] == ["E111"]


def test_ingest_symlink_loop_and_hidden_files(tmp_path):
    from analyzer.ingest import discover

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "loop").symlink_to(tmp_path)
    (tmp_path / "a" / "c.txt").write_text("Dana: hi\nJim: hi\n")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("x")
    assert [p.name for p in discover(tmp_path)] == ["c.txt"]


def test_ingest_ten_hour_transcript_analyses(tmp_path):
    """A 10-hour recording (a day-long workshop) is read, segmented and scored in one piece."""
    from analyzer.analysis import Analyzer
    from analyzer.pipeline import analyze_folder

    lines = []
    for i in range(7200):  # one turn every 5 seconds for 10 hours
        h, m, s = i * 5 // 3600, i * 5 // 60 % 60, i * 5 % 60
        who = "Dana" if i % 2 == 0 else "Jim"
        lines.append(f"[{h:02d}:{m:02d}:{s:02d}] {who}: so what matters most to you on line {i} and how do you measure it today")
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "workshop.txt").write_text("\n".join(lines))
    summary = analyze_folder(tmp_path / "calls", tmp_path / "out", analyzer=Analyzer())
    assert summary.analysed == 1
    import csv

    (row,) = csv.DictReader((tmp_path / "out" / "call_scores.csv").open(encoding="utf-8"))
    assert int(row["turns"]) == 7200 and row["R4_score"]
