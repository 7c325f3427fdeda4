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
    ("notes.docx", b"PK\x03\x04 something", "E104"),
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


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_ingest_unreadable_file(tmp_path):
    path = tmp_path / "locked.txt"
    path.write_text("Dana: hi\nJim: hi\n")
    path.chmod(0)
    with pytest.raises(InputError) as caught:
        read_call(path, tmp_path)
    assert caught.value.code == "E103"


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
