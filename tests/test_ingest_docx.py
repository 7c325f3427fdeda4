"""Word .docx transcripts as Teams, Meet and Otter export them (fixtures written by
tests/fixtures/make_docx.py): each parses into the right speakers, turns, text and times;
a broken one is a coded error naming the file; a folder mixing them with other formats
analyses end to end."""
from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.errors import InputError
from analyzer.ingest import read_call

FIXTURES = Path(__file__).parent / "fixtures"

# file, date (from the header), speakers in order of appearance, turn starts in seconds
# (None: no time of its own), {turn index: its text}
DOCX_EXPORTS = [
    ("teams.docx", "2026-10-22", ["Priya Raman", "Okoye, Adaeze"],
     [3, 8, 12, 21, 30, 41, 65, 76, 760, 2270],
     {0: "Morning Adaeze, thanks for making the time. Can you hear me okay?",
      # two entries of one speaker merge; "Quick one:" is speech, not a speaker
      7: "Yes, that's exactly it. Quick one: does the site survey include the cold store, or just the warehouse?",
      9: "Perfect. Talk then."}),
    ("meet.docx", "2026-10-27", ["Marcus Bell", "Helen Fenwick", "Sam Ruiz"],
     [0, 93.07, 174.09, 225.55, 300, 359, 551.05, 600, 804],
     {0: "Hi Helen, hi Sam. Thanks for joining. How did the ovens do after the storm last week?",
      5: "Our battery keeps the freezer and the tills running for about six hours. I'll confirm the exact runtime "
         "with our engineer and send it to you by Thursday.",
      8: "Sure, I'll find it today."}),
    ("otter.docx", "2026-11-03", ["Dana Whitfield", "Dr. Amara Lewis", "Speaker 3"],
     [4, 9, 13, 31, 75, 79, 84, 100],
     {2: "Then let's use them well. What happens in the clinic when the power goes out? "
         "I mean practically, in the first ten minutes.",  # two paragraphs of one turn joined
      4: "Sorry to interrupt, your ten o'clock is here.",
      7: "That would help."}),
]
EXPORT_LINES = ("transcription", "otter.ai", "Meeting ended", "SPEAKERS", "Attendees", "KEYWORDS", "38m 14s")


@pytest.mark.parametrize("name,date,speakers,starts,texts", DOCX_EXPORTS)
def test_ingest_docx_exports_parse(name, date, speakers, starts, texts):
    call, warnings = read_call(FIXTURES / name, FIXTURES)
    assert call.format == "docx"
    assert str(call.meta.date) == date and call.meta.call_id == Path(name).stem
    assert list(call.speakers) == speakers
    assert [t.start for t in call.turns] == starts
    for index, text in texts.items():
        assert call.turns[index].text == text
    assert not any(line in t.text for t in call.turns for line in EXPORT_LINES)  # header and footer are not speech
    assert not [w for w in warnings if w.code.startswith("E") or w.code in ("W201", "W205")]


@pytest.mark.parametrize("name,title,last_end", [
    ("teams.docx", "Kestrel Logistics - battery storage discovery", None),
    ("meet.docx", "Fenwick Bakery - storage follow-up (2026-10-27 14:00 GMT) - Transcript", 872.0),  # "ended after"
    ("otter.docx", "Alder Creek Dental - consultation", None),
])
def test_ingest_docx_title_and_end(name, title, last_end):
    call, _ = read_call(FIXTURES / name, FIXTURES)
    assert ("title", title) in call.meta.extra
    assert call.turns[-1].end == last_end


def test_ingest_docx_meet_times_between_stamps_follow_the_text():
    """Between two bare stamps each turn starts where the characters spoken before it put it."""
    call, _ = read_call(FIXTURES / "meet.docx", FIXTURES)
    first_block = call.turns[:4]  # 00:00:00 to 00:05:00
    chars = [len(t.text) for t in first_block]
    for i, turn in enumerate(first_block):
        assert turn.start == pytest.approx(300 * sum(chars[:i]) / sum(chars), abs=0.01)


def _docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _without(part: str) -> bytes:
    source = zipfile.ZipFile(FIXTURES / "teams.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != part:
                target.writestr(info, source.read(info.filename))
    return out.getvalue()


def _broken_xml() -> bytes:
    source = zipfile.ZipFile(FIXTURES / "teams.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, data[: len(data) // 2] if info.filename == "word/document.xml" else data)
    return out.getvalue()


TEAMS = (FIXTURES / "teams.docx").read_bytes()
BAD_DOCX = [
    ("empty.docx", b"", "E101", ""),
    ("not_a_zip.docx", b"Dana: this was saved as text\nJim: with the wrong extension\n", "E105", "not a zip archive"),
    ("truncated.docx", TEAMS[: len(TEAMS) // 2], "E105", "not a zip archive"),
    ("no_document.docx", _without("word/document.xml"), "E105", "word/document.xml"),
    ("broken_xml.docx", _broken_xml(), "E105", "broken XML"),
    ("old_word.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "E105", "old binary Word .doc"),
    ("protected.docx", (FIXTURES / "protected.docx").read_bytes(), "E112", ""),  # encrypted by msoffcrypto-tool
    ("memo.docx", _docx("Quarterly planning", "Budget review moved to Thursday.", "Bring the fleet numbers."),
     "E106", "Word .docx"),
    ("one_voice.docx", _docx("Dana Whitfield  0:01", "Hello?", "Dana Whitfield  0:09", "Anyone there?"), "E107", ""),
]


@pytest.mark.parametrize("name,data,code,detail", BAD_DOCX)
def test_ingest_docx_bad_file_is_a_coded_error(tmp_path, name, data, code, detail):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_call(tmp_path / name, tmp_path)
    assert caught.value.code == code
    assert caught.value.line().startswith(f"{name}: [{code}]") and " -- " in caught.value.line()
    assert detail in caught.value.message


def test_ingest_docx_unpacking_past_the_limit_is_refused(tmp_path, monkeypatch):
    from analyzer.ingest import wordfile

    monkeypatch.setattr(wordfile, "MAX_UNPACKED_MB", 0.01)  # the fixture unpacks to ~0.1 MB
    shutil.copy(FIXTURES / "teams.docx", tmp_path)
    with pytest.raises(InputError) as caught:
        read_call(tmp_path / "teams.docx", tmp_path)
    assert caught.value.code == "E105" and "unpacks to" in caught.value.message


def test_ingest_docx_mixed_folder_analyses_end_to_end(tmp_path):
    """`loyalty analyze` on .docx beside text, WebVTT, JSON and CSV, with broken .docx among them."""
    folder = tmp_path / "calls"
    folder.mkdir()
    for name in ("teams.docx", "meet.docx", "otter.docx", "stamped_before.txt", "voice_tags.vtt", "generic.json",
                 "seconds.csv"):
        shutil.copy(FIXTURES / name, folder)
    shutil.copy(FIXTURES / "protected.docx", folder / "locked.docx")
    (folder / "truncated.docx").write_bytes(TEAMS[:1000])
    (folder / "manifest.csv").write_text(
        "file,call_id,salesperson,account\nteams.docx,KL-1,Priya Raman,Kestrel Logistics\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyze", str(folder), "--out", str(out), "--patterns-only"])
    assert result.exit_code == 0, result.output

    calls = {r["file"]: r for r in csv.DictReader((out / "call_scores.csv").open(encoding="utf-8"))}
    assert sorted(calls) == sorted(["teams.docx", "meet.docx", "otter.docx", "stamped_before.txt", "voice_tags.vtt",
                                    "generic.json", "seconds.csv"])
    assert {f: calls[f]["format"] for f in calls if f.endswith(".docx")} == dict.fromkeys(
        ["teams.docx", "meet.docx", "otter.docx"], "docx")
    teams = calls["teams.docx"]
    assert (teams["call_id"], teams["date"], teams["account"]) == ("KL-1", "2026-10-22", "Kestrel Logistics")
    assert (teams["salesperson_speaker"], teams["salesperson_source"]) == ("Priya Raman", "manifest")
    assert calls["meet.docx"]["talk_ratio_time"]  # every Meet turn is timed, up to "Meeting ended after"

    errors = {r["file"]: r["code"] for r in csv.DictReader((out / "errors.csv").open(encoding="utf-8"))
              if r["severity"] == "error"}
    assert errors == {"locked.docx": "E112", "truncated.docx": "E105"}

    commitments = [r for r in csv.DictReader((out / "flagged_excerpts.csv").open(encoding="utf-8"))
                   if r["file"] == "teams.docx" and r["behavior"] == "commitment"]
    assert [(r["start"], r["detail"]) for r in commitments] == [("00:12:40", "specific; due 2026-10-30")]
