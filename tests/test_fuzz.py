"""Whatever bytes a folder of exports holds, a reader gives a parsed call or a coded input
error naming the file; nothing else escapes."""
from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.errors import InputError
from analyzer.ingest import READERS, read_call
from analyzer.model import Call

EXTENSIONS = sorted(READERS)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

names = st.sampled_from(["Dana", "Jim Ortega", "SPEAKER_01", "spk_0", "Ana María", "محمد", "李雷", "Customer"])
speech = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=0, max_size=80
) | st.sampled_from(["hello there", "what's the price?", "😀 great", "مرحبا بك", "ok\r\nthen", "\u202etxet\u202c"])
endings = st.sampled_from(["\n", "\r\n", "\r"])


def _check(tmp_path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        call, warnings = read_call(path, tmp_path)
    except InputError as err:
        assert err.path == name and err.code[0] in "EW"
        return
    assert isinstance(call, Call) and len(call.speakers) >= 2
    assert all(isinstance(w, InputError) for w in warnings)


@FUZZ
@given(ext=st.sampled_from(EXTENSIONS), data=st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(tmp_path, ext, data):
    _check(tmp_path, f"f{ext}", data)


@FUZZ
@given(turns=st.lists(st.tuples(names, speech), max_size=12), newline=endings,
       stamp=st.sampled_from(["", "[00:01:02] ", "(1:02) ", "99:99 "]))
def test_fuzz_text(tmp_path, turns, newline, stamp):
    body = newline.join(f"{stamp}{name}: {text}" for name, text in turns)
    _check(tmp_path, "t.txt", body.encode("utf-8"))


cue_time = st.tuples(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59), st.integers(0, 999))


def _stamp(t, sep):
    return f"{t[0]:02d}:{t[1]:02d}:{t[2]:02d}{sep}{t[3]:03d}"


@FUZZ
@given(cues=st.lists(st.tuples(cue_time, cue_time, names, speech, st.booleans()), max_size=10), newline=endings,
       vtt=st.booleans())
def test_fuzz_subtitles(tmp_path, cues, newline, vtt):
    sep = "." if vtt else ","
    blocks = ["WEBVTT"] if vtt else []
    for i, (start, end, name, text, tagged) in enumerate(cues, 1):
        line = f"<v {name}>{text}</v>" if (vtt and tagged) else (f"{name}: {text}" if tagged else text)
        blocks.append(f"{i}{newline}{_stamp(start, sep)} --> {_stamp(end, sep)}{newline}{line}")
    _check(tmp_path, "s.vtt" if vtt else "s.srt", (newline * 2).join(blocks).encode("utf-8"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | speech,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
record = st.fixed_dictionaries(
    {"speaker": names | json_values, "text": speech | json_values},
    optional={"start": st.floats(-10, 1e6, allow_nan=False) | speech, "end": json_values},
)


@FUZZ
@given(payload=st.one_of(
    st.lists(record, max_size=8),
    st.fixed_dictionaries({"utterances": st.lists(record, max_size=8)}, optional={"date": speech, "call_id": json_values}),
    st.fixed_dictionaries({"results": st.fixed_dictionaries({"items": st.lists(json_values, max_size=6)})}),
    json_values,
))
def test_fuzz_json(tmp_path, payload):
    _check(tmp_path, "j.json", json.dumps(payload).encode("utf-8"))


@FUZZ
@given(rows=st.lists(st.tuples(names, speech, speech), max_size=10),
       delimiter=st.sampled_from([",", ";", "\t", "|"]), newline=endings,
       header=st.sampled_from(["speaker{d}text{d}start", "Speaker Name{d}Transcript{d}Start Time", "a{d}b{d}c"]))
def test_fuzz_csv(tmp_path, rows, delimiter, newline, header):
    lines = [header.format(d=delimiter)]
    for name, text, start in rows:
        quoted = '"' + text.replace('"', '""') + '"'
        lines.append(delimiter.join([name, quoted, start.strip(string.whitespace) or "1"]))
    _check(tmp_path, "c.csv", newline.join(lines).encode("utf-8"))


xml_speech = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60) | speech.filter(
    lambda s: all(c in "\t\n\r" or ord(c) >= 32 for c in s))
stamps = st.sampled_from(["0:03", "00:05:00", "1:02:03", "99:99", "[00:10:00]"])
paragraph = st.one_of(
    st.builds(lambda n, t: f"{n}   {t}", names, stamps),       # Teams / Otter header
    st.builds(lambda n, t: f"{n}: {t}", names, xml_speech),     # Meet line
    stamps, xml_speech,
    st.sampled_from(["Meeting ended after 00:14:32 👋", "Dana started transcription", "Transcribed by https://otter.ai"]),
)


@FUZZ
@given(paragraphs=st.lists(st.lists(paragraph, min_size=1, max_size=2), max_size=14))
def test_fuzz_docx(tmp_path, paragraphs):
    import io

    import docx

    document = docx.Document()
    for lines in paragraphs:  # one paragraph; a second line follows a line break, as Teams writes them
        run = document.add_paragraph().add_run(lines[0])
        for line in lines[1:]:
            run.add_break()
            run.add_text(line)
    data = io.BytesIO()
    document.save(data)
    _check(tmp_path, "w.docx", data.getvalue())
