"""Plain text: `Name: text` turns, optional `[HH:MM:SS]` / `(MM:SS)` stamps before or after
the name, blank lines between turns, continuation lines; also `Name  0:03` header lines
with the text below (Otter-style exports)."""
from __future__ import annotations

import re

from analyzer.ingest.common import RawTranscript, TurnBuilder, confirmed_labels, parse_time, plausible_label

# a clock stamp as exports write it: 0:03, 00:01:02, 1:02:03.5
TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
TURN_LINE = re.compile(
    rf"^\s*(?:[\[(]?(?P<before>{TIME})[\])]?\s+)?"
    rf"(?P<name>[^:\[\]()\d\s][^:\[\]()]{{0,39}}?)\s*"
    rf"(?:[\[(](?P<after>{TIME})[\])])?\s*:\s+(?P<text>.*)$"
)
_HEADER = re.compile(rf"^\s*(?P<name>[^:\d\s][^:]{{0,39}}?)\s{{2,}}(?P<after>{TIME})\s*$")


def read_text(text: str) -> RawTranscript:
    lines = text.split("\n")
    candidates: list[tuple[str, str, float | None] | None] = []
    for line in lines:
        match = TURN_LINE.match(line) or _HEADER.match(line)
        name = match["name"].strip() if match else ""
        if match and plausible_label(name):
            stamp = match.groupdict().get("before") or match["after"]
            candidates.append((name, match.groupdict().get("text") or "", parse_time(stamp)))
        else:
            candidates.append(None)
    speakers = confirmed_labels([c[0] for c in candidates if c])

    blocks: list[tuple[str, float | None, list[str]]] = []
    for line, candidate in zip(lines, candidates):
        if candidate and candidate[0] in speakers:
            name, body, start = candidate
            blocks.append((name, start, [body] if body.strip() else []))
        elif not line.strip():
            continue
        elif blocks:
            blocks[-1][2].append(line)  # continuation of the current turn
        # lines before the first speaker are a title or header: nothing to analyse

    builder = TurnBuilder()
    for name, start, body in blocks:
        builder.add(name, " ".join(body), start)
    return RawTranscript("text", builder.build())
