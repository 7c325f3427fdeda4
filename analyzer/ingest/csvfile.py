"""CSV (or TSV / semicolon) with a header naming speaker and text, optionally start/end,
times in seconds or HH:MM:SS(.mmm) / MM:SS. Header names are matched case-insensitively
with common synonyms (see FIELD_SYNONYMS)."""
from __future__ import annotations

import csv
import io

from analyzer.ingest.common import RawTranscript, TurnBuilder, find_fields, parse_time


class CsvShapeError(ValueError):
    """A CSV that is not a transcript: no speaker and text columns."""


def sniff_dialect(text: str) -> type[csv.Dialect]:
    """The delimiter that splits the header line most. csv.Sniffer guesses from the whole
    sample and is fooled by semicolons or commas inside quoted notes."""
    header = next((line for line in text.split("\n") if line.strip()), "")
    delimiter = max(",;\t|", key=header.count)
    return type("Sniffed", (csv.excel,), {"delimiter": delimiter if header.count(delimiter) else ","})


def read_csv(text: str) -> RawTranscript:
    reader = csv.DictReader(io.StringIO(text), dialect=sniff_dialect(text))
    fields = find_fields(reader.fieldnames or [])
    if "speaker" not in fields or "text" not in fields:
        raise CsvShapeError(f"header {reader.fieldnames} names no speaker and text columns")
    builder = TurnBuilder()
    skipped: list[int] = []
    for row in reader:
        speaker = (row.get(fields["speaker"]) or "").strip()
        body = row.get(fields["text"]) or ""
        try:
            start = parse_time(row.get(fields.get("start", "")))
            end = parse_time(row.get(fields.get("end", "")))
        except ValueError:
            start = end = None
        if not speaker or not body.strip():
            skipped.append(reader.line_num)
            continue
        builder.add(speaker, body, start, end)
    return RawTranscript("csv", builder.build(), skipped_lines=tuple(skipped))
