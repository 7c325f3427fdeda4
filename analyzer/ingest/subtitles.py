"""WebVTT and SRT: cues of timed text. Speakers come from `<v Name>` voice tags or a `Name:`
prefix; a cue without either continues the previous speaker (SRT exports often label only
the first cue of a turn). Consecutive cues of one speaker become one turn."""
from __future__ import annotations

import re
from collections.abc import Iterator

from analyzer.ingest.common import RawTranscript, TurnBuilder, confirmed_labels, parse_time, plausible_label

_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>(.*?)(?:</v>|(?=<v[\s.])|$)", re.DOTALL)
_TAG = re.compile(r"</?[a-z][^>]*>|<\d[\d:.]*>", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*(?:\[([^\]]{1,40})\]|([^:\[\]<>]{1,40}?))\s*:\s+(.*)$", re.DOTALL)
_VTT_SKIP_BLOCKS = ("NOTE", "STYLE", "REGION", "WEBVTT")


class CueError(ValueError):
    """The file is not the subtitle format its extension claims."""


def _cues(text: str, skip: tuple[str, ...]) -> Iterator[tuple[int, float | None, float | None, str]]:
    """(line number, start, end, text) for every block that has a timing line."""
    for block_start, block in _blocks(text):
        if block[0].startswith(skip):
            continue
        for offset, line in enumerate(block):
            timing = _TIMING.match(line)
            if timing:
                try:
                    start, end = parse_time(timing[1]), parse_time(timing[2])
                except ValueError:
                    start = end = None
                yield block_start + offset, start, end, "\n".join(block[offset + 1:])
                break


def _blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    block: list[str] = []
    start = 1
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _labelled_pieces(cue_text: str) -> list[tuple[str | None, str]]:
    """Split a cue's text into (speaker or None, text) pieces."""
    if "<v" in cue_text:
        return [(name.strip(), _TAG.sub("", body)) for name, body in _VOICE.findall(cue_text)]
    plain = _TAG.sub("", cue_text)
    match = _PREFIX.match(plain)
    if match:
        name = (match[1] or match[2]).strip()
        if plausible_label(name):
            return [(name, match[3])]
    return [(None, plain)]


def _read_cues(text: str, fmt: str, skip: tuple[str, ...] = ()) -> RawTranscript:
    cues = list(_cues(text, skip))
    if not cues:
        raise CueError("no cue timing lines ('00:00:01.000 --> 00:00:04.000')")
    pieces = [(number, start, end, _labelled_pieces(body)) for number, start, end, body in cues]
    speakers = confirmed_labels([name for *_, labelled in pieces for name, _ in labelled if name])
    builder = TurnBuilder()
    current: str | None = None
    skipped: list[int] = []
    for number, start, end, labelled in pieces:
        for name, body in labelled:
            if name is not None and name not in speakers:
                body = f"{name}: {body}"  # a colon inside speech, not a speaker
                name = None
            current = name or current
            if current is None:
                skipped.append(number)
                continue
            builder.add(current, body, start, end)
    return RawTranscript(fmt, builder.build(), skipped_lines=tuple(skipped))


def read_webvtt(text: str) -> RawTranscript:
    if not text.lstrip().startswith("WEBVTT"):
        raise CueError("it does not start with 'WEBVTT'")
    return _read_cues(text, "webvtt", _VTT_SKIP_BLOCKS)


def read_srt(text: str) -> RawTranscript:
    return _read_cues(text, "srt")
