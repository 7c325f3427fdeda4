"""Word .docx transcripts as Microsoft Teams, Google Meet and Otter export them.

Header lines (title, date, duration, attendees, keywords) stand before the first speaker.
Then either `Name  0:03` header lines with the text below (Teams: one paragraph, a line
break after the stamp; Otter: two paragraphs), or `Name: text` lines under a bare
`00:05:00` stamp every few minutes (Meet). Turns between two stamps get times spread by
their length in characters, as `Turn.time_at` does within a turn."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from analyzer.ingest.common import RawTranscript, TurnBuilder, confirmed_labels, parse_time, plausible_label
from analyzer.ingest.text import TIME, TURN_LINE

# An OLE compound file: what Word writes for a password-protected .docx, and an old .doc.
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
MAX_UNPACKED_MB = 200  # a 10-hour transcript's document.xml is a few MB: more is a zip bomb

_STAMP = re.compile(rf"^\s*[\[(]?(?P<time>{TIME})[\])]?\s*$")
_HEADER = re.compile(rf"^\s*(?P<name>[^:\d\s][^:]{{0,59}}?)(?:\s{{2,}}|\t)\s*(?P<time>{TIME})\s*$")
_ENDED = re.compile(rf"^\s*meeting ended after (?P<time>{TIME})\b", re.IGNORECASE)
# the exports' own lines inside or after the transcript: not speech
_BOILERPLATE = re.compile(
    r"^\s*(?:.{1,80} (?:started|stopped) transcription"
    r"|transcribed by https?://otter\.ai.*"
    r"|this editable transcript was computer generated.*)\s*$",
    re.IGNORECASE,
)
# a directory display name, as Teams shows it: 'Whitfield, Dana (Guest)'; no digits
_DISPLAY_NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|[ .'’\-(),])*")

_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_MONTHS = {name: i for i, full in enumerate(_MONTH_NAMES, 1) for name in (full, full[:3])} | {"sept": 9}
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH_FIRST = re.compile(r"\b([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})\b")  # September 3, 2026 / Sep 03, 2026
_DAY_FIRST = re.compile(r"\b(\d{1,2}) ([A-Za-z]{3,9})\.?,? (\d{4})\b")    # 3 September 2026


class DocxError(ValueError):
    """Not a Word document this reader can open; `code` is the error to report."""

    def __init__(self, reason: str, code: str = "E105") -> None:
        super().__init__(reason)
        self.code = code


def read_docx(data: bytes) -> RawTranscript:
    return parse_lines(document_lines(data))


def document_lines(data: bytes) -> list[str]:
    """The document's text, one line per paragraph or line break, in reading order
    (table cells included). Raises DocxError for anything that is not a readable .docx."""
    import docx
    from lxml.etree import XMLSyntaxError

    if data.startswith(_COMPOUND_FILE):
        if _ENCRYPTED_STREAM in data:
            raise DocxError("password-protected", "E112")
        raise DocxError("an old binary Word .doc, not .docx: save it as .docx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise DocxError("not a zip archive") from None
    if unpacked > MAX_UNPACKED_MB * 1024 * 1024:
        raise DocxError(f"unpacks to {unpacked / 1024 / 1024:.0f} MB")
    try:
        document = docx.Document(io.BytesIO(data))
    except KeyError as err:  # zipfile: "There is no item named 'word/document.xml' in the archive"
        raise DocxError(f"incomplete: {err.args[0] if err.args else 'a part is missing'}") from None
    except XMLSyntaxError as err:
        raise DocxError(f"broken XML at line {err.lineno}") from None
    except ValueError:  # python-docx: "file ... is not a Word file, content type is ..."
        raise DocxError("another Office file, not a Word document") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as err:
        raise DocxError(f"damaged archive ({type(err).__name__})") from None
    return [line for text in _paragraph_texts(document) for line in text.split("\n")]


def _paragraph_texts(container) -> Iterator[str]:
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) not in seen:  # a merged cell repeats across the row
                        seen.add(id(cell._tc))
                        yield from _paragraph_texts(cell)
        else:
            yield block.text


@dataclass
class _Block:
    """One speaker's lines, from a `Name  0:03` header or a `Name: text` line onwards."""

    speaker: str
    start: float | None
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.lines).split())


def _header_line(line: str) -> tuple[str, str, float | None] | None:
    """(name, '', time) for a `Name  0:03` line (Teams, Otter)."""
    header = _HEADER.match(line)
    if not header:
        return None
    name = " ".join(header["name"].split())
    if plausible_label(name) or (_DISPLAY_NAME.fullmatch(name) and len(name.split()) <= 6):
        return name, "", parse_time(header["time"])
    return None


def _turn_line(line: str) -> tuple[str, str, float | None] | None:
    """(name, text, time) for a `Name: text` line (Meet)."""
    turn = TURN_LINE.match(line)
    if turn and plausible_label(turn["name"].strip()):
        return turn["name"].strip(), turn["text"], parse_time(turn["before"] or turn["after"])
    return None


def parse_lines(lines: list[str]) -> RawTranscript:
    speech = [not (_BOILERPLATE.match(line) or _STAMP.match(line)) for line in lines]
    candidates = [_header_line(line) if ok else None for line, ok in zip(lines, speech)]
    if not any(candidates):  # one export, one layout: 'Jim: can you hear me?' under a header is speech
        candidates = [_turn_line(line) if ok else None for line, ok in zip(lines, speech)]
    speakers = confirmed_labels([c[0] for c in candidates if c])

    header: list[str] = []
    blocks: list[_Block] = []
    marks: dict[int, float] = {}  # block index -> the bare stamp standing before it
    ended: float | None = None
    for line, candidate in zip(lines, candidates):
        stamp, end = _STAMP.match(line), _ENDED.match(line)
        if candidate and candidate[0] in speakers:
            name, text, start = candidate
            blocks.append(_Block(name, start, [text] if text.strip() else []))
        elif stamp:
            marks[len(blocks)] = parse_time(stamp["time"])
        elif end:
            ended = parse_time(end["time"])
        elif not line.strip() or _BOILERPLATE.match(line):
            continue
        elif blocks:
            blocks[-1].lines.append(line)  # the turn's text, or a continuation of it
        else:
            header.append(line.strip())

    starts = _spread_times(blocks, marks, ended)
    builder = TurnBuilder()
    for i, (block, start) in enumerate(zip(blocks, starts)):
        builder.add(block.speaker, block.text, start, ended if i == len(blocks) - 1 else None)
    return RawTranscript("docx", builder.build(), _header_metadata(header))


def _spread_times(blocks: list[_Block], marks: dict[int, float], ended: float | None) -> list[float | None]:
    """Each block's start: its own stamp; else the bare stamp before it; else a time between
    the stamps around it in proportion to the characters spoken before it. None after the
    last stamp, where no later time bounds the estimate."""
    anchors = {**marks, **{i: b.start for i, b in enumerate(blocks) if b.start is not None}}
    if ended is not None:
        anchors.setdefault(len(blocks), ended)
    starts: list[float | None] = [anchors.get(i) for i in range(len(blocks))]
    known = sorted(anchors)
    for left, right in zip(known, known[1:]):
        t0, t1 = anchors[left], anchors[right]
        if right - left < 2 or t1 < t0:
            continue
        lengths = [len(blocks[i].text) for i in range(left, right)]
        total = sum(lengths) or 1
        spoken = 0
        for i, length in zip(range(left, right), lengths):
            starts[i] = round(t0 + (t1 - t0) * spoken / total, 2)
            spoken += length
    return starts


def _header_metadata(header: list[str]) -> dict[str, str]:
    """The title (the first header line) and the call's date, from the lines above the
    first speaker: ISO dates, 'September 3, 2026', 'Sep 03, 2026', '3 September 2026'."""
    meta = {"title": header[0]} if header else {}
    for line in header:
        date = _find_date(line)
        if date:
            meta["date"] = date.isoformat()
            break
    return meta


def _find_date(line: str) -> dt.date | None:
    found: list[tuple[int, int, int]] = [(int(y), int(m), int(d)) for y, m, d in _ISO_DATE.findall(line)]
    found += [(int(y), _month(m), int(d)) for m, d, y in _MONTH_FIRST.findall(line)]
    found += [(int(y), _month(m), int(d)) for d, m, y in _DAY_FIRST.findall(line)]
    for year, month, day in found:
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return None


def _month(name: str) -> int:
    """1-12 for an English month name or its abbreviation ('Sep', 'Sept', 'September'); 0 otherwise."""
    return _MONTHS.get(name.lower(), 0)
