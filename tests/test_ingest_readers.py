"""Every reader, on real-shaped files of the same four-turn call."""
from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.ingest import read_call
from analyzer.ingest.common import parse_time

FIXTURES = Path(__file__).parent / "fixtures"

# file, format, timed
READER_CASES = [
    ("stamped_before.txt", "text", True),
    ("stamped_after.txt", "text", True),
    ("otter.txt", "text", True),
    ("voice_tags.vtt", "webvtt", True),
    ("guid_prefix.vtt", "webvtt", True),
    ("prefix_first_cue.srt", "srt", True),
    ("generic.json", "json", True),
    ("plain_list.json", "json", True),
    ("aws_transcribe.json", "aws-transcribe", True),
    ("deepgram.json", "deepgram", True),
    ("assemblyai.json", "assemblyai", True),
    ("seconds.csv", "csv", True),
    ("clock_synonyms.csv", "csv", True),
]


@pytest.mark.parametrize("name,fmt,timed", READER_CASES)
def test_ingest_reader_reads_four_turns(name, fmt, timed):
    call, warnings = read_call(FIXTURES / name, FIXTURES)
    assert call.format == fmt
    assert len(call.turns) == 4
    assert len(call.speakers) == 2
    texts = [t.text.lower() for t in call.turns]
    assert texts[0] == "hi jim, thanks for taking the time today."  # cues of one turn merged
    assert texts[1].startswith("sure thing. glad to do it.")
    assert texts[2] == "what would make this quarter a win for you?"
    assert texts[3].startswith("fewer idle trucks.")
    if timed:
        assert [round(t.start) for t in call.turns] == [1, 5, 9, 62]
    assert not [w for w in warnings if w.code.startswith("E")]


def test_ingest_text_a_numbered_speaker_who_speaks_once(tmp_path):
    """A diariser's `spk_2` who only says "hey" is a participant, not part of spk_1's turn."""
    (tmp_path / "call.txt").write_text(
        "spk_0: hi there can you hear me\n\nspk_1: yes we can hear you\n\nspk_2: hey\n\n"
        "spk_0: great so the quote is ready\n\nspk_1: send it over\n", encoding="utf-8")
    call, _ = read_call(tmp_path / "call.txt", tmp_path)
    assert [t.speaker for t in call.turns] == ["spk_0", "spk_1", "spk_2", "spk_0", "spk_1"]
    assert call.turns[1].text == "yes we can hear you"


def test_ingest_text_colon_inside_speech_is_not_a_speaker():
    call, _ = read_call(FIXTURES / "stamped_before.txt", FIXTURES)
    assert call.turns[3].text == "Fewer idle trucks. Note: that is the big one."
    assert call.turns[1].text == "Sure thing. Glad to do it."  # continuation line joined


def test_ingest_salesperson_inferred_with_confidence():
    call, warnings = read_call(FIXTURES / "aws_transcribe.json", FIXTURES)
    assert call.salesperson.speaker == "spk_0"
    assert call.salesperson.source == "inferred"
    assert 0.5 <= call.salesperson.confidence < 1
    assert any(w.code == "W202" for w in warnings)


def test_ingest_json_metadata_kept():
    call, _ = read_call(FIXTURES / "generic.json", FIXTURES)
    assert call.meta.call_id == "HFL-1"
    assert str(call.meta.date) == "2026-09-03"
    assert call.meta.account == "Harbor Freight Lines"
    assert call.salesperson.speaker == "Dana Whitfield" and call.salesperson.source == "metadata"
    assert ("region", "west") in call.meta.extra


@pytest.mark.parametrize(
    "value,seconds",
    [("12.5", 12.5), (7, 7.0), ("00:01:02", 62.0), ("01:02", 62.0), ("00:00:01,250", 1.25), ("1:00:00.5", 3600.5), ("", None)],
)
def test_ingest_parse_time(value, seconds):
    assert parse_time(value) == seconds


def test_ingest_rep_option_names_the_salesperson(tmp_path):
    path = tmp_path / "call.txt"
    path.write_text("Jim: What does it cost?\nDana: Let me tell you about our pricing.\nJim: Ok.\n")
    call, _ = read_call(path, tmp_path, reps=("Jim",))
    assert call.salesperson.speaker == "Jim" and call.salesperson.source == "option"


@pytest.mark.parametrize(
    "data,expected",
    [
        ("Dana: Café olé.\nJim: Sure.\n".encode("utf-8-sig"), "Café olé."),
        ("Dana: Café olé.\nJim: Sure.\n".encode("utf-16"), "Café olé."),
        ("Dana: Café olé.\nJim: Sure.\n".encode("cp1252"), "Café olé."),
        ("Dana: Café olé.\r\nJim: Sure.\r\n".encode("utf-8"), "Café olé."),
    ],
)
def test_ingest_encodings(tmp_path, data, expected):
    path = tmp_path / "call.txt"
    path.write_bytes(data)
    call, _ = read_call(path, tmp_path)
    assert call.turns[0].text == expected


def test_ingest_manifest_and_date_from_name(tmp_path):
    from analyzer.ingest.metadata import Manifest

    folder = tmp_path / "calls"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "2026-10-02_acme.txt").write_text("DANA: Hello, what matters most to you?\nBOB: Uptime.\n")
    (folder / "manifest.csv").write_text(
        "file,call_id,date,salesperson,account,region\nsub/2026-10-02_acme.txt,A-1,,Dana Whitfield,Acme,north\n"
    )
    manifest = Manifest.load(folder / "manifest.csv", folder)
    call, _ = read_call(folder / "sub" / "2026-10-02_acme.txt", folder, manifest)
    assert call.meta.call_id == "A-1"
    assert str(call.meta.date) == "2026-10-02"
    assert call.salesperson.speaker == "DANA" and call.salesperson.source == "manifest"
    assert call.salesperson_name == "Dana Whitfield"
    assert ("region", "north") in call.meta.extra
