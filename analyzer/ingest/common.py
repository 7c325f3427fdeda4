"""What every reader shares: time parsing, speaker-label checks and the turn builder."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from analyzer.model import Turn

_CLOCK = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?$")


def parse_time(value: object) -> float | None:
    """Seconds from '12.5', 12.5, 'HH:MM:SS(.mmm)', 'MM:SS' or 'HH:MM:SS,mmm'; None if empty."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    match = _CLOCK.match(text)
    if not match:
        raise ValueError(f"not a time: {text!r}")
    hours, minutes, seconds, fraction = match.groups()
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    if fraction:
        total += int(fraction) / 10 ** len(fraction)
    return float(total)


# A plausible speaker label: a name, "Speaker 1", "spk_0", "SPEAKER_01", "Customer".
_NUMBERED = re.compile(r"^(?:speaker|spk)[ _-]?\d{1,2}$", re.IGNORECASE)  # what a diariser calls people
_LABEL = re.compile(r"^[^\W\d_][\w.'’\- ]{0,39}$|" + _NUMBERED.pattern, re.IGNORECASE)
_NOT_LABELS = {"note", "notes", "ps", "re", "fyi", "http", "https", "subject", "example", "eg", "ie"}


def plausible_label(label: str) -> bool:
    words = label.split()
    return (
        bool(_LABEL.match(label))
        and 1 <= len(words) <= 4
        and label.lower().rstrip(".") not in _NOT_LABELS
    )


def confirmed_labels(candidates: list[str]) -> set[str]:
    """Labels we trust as speakers, from every candidate in file order.

    A 'Note:' inside a turn or a 'Call: Acme' title must not become a speaker, but a
    participant who speaks once is real. Labels seen twice are speakers; a label seen once
    is one when it looks like a name (capitalised, at most three words) and is not a title
    standing before everyone else, or when it numbers speakers as the file's other speakers
    are numbered (`spk_3: hey` once, in a speech-to-text export of `spk_0` and `spk_1`).
    """
    counts: dict[str, int] = {}
    for label in candidates:
        counts[label] = counts.get(label, 0) + 1
    repeated = sum(1 for count in counts.values() if count >= 2)
    title = candidates[0] if candidates and counts[candidates[0]] == 1 and repeated >= 2 else None
    numbered = any(count >= 2 and _NUMBERED.match(label) for label, count in counts.items())
    return {
        label
        for label, count in counts.items()
        if count >= 2 or (label != title and label[:1].isupper() and len(label.split()) <= 3)
        or (numbered and _NUMBERED.match(label))
    }


@dataclass
class TurnBuilder:
    """Collects (speaker, text, start, end) pieces; consecutive pieces by one speaker merge."""

    turns: list[Turn] = field(default_factory=list)

    def add(self, speaker: str, text: str, start: float | None = None, end: float | None = None) -> None:
        speaker = " ".join(speaker.split())
        text = " ".join(text.split())
        if not speaker or not text:
            return
        if self.turns and self.turns[-1].speaker == speaker:
            last = self.turns[-1]
            self.turns[-1] = Turn(
                speaker,
                f"{last.text} {text}",
                last.start if last.start is not None else start,
                end if end is not None else last.end,
            )
        else:
            self.turns.append(Turn(speaker, text, start, end))

    def build(self) -> tuple[Turn, ...]:
        """The turns; a turn without an end time ends where the next one starts."""
        turns = list(self.turns)
        for i, (turn, following) in enumerate(zip(turns, turns[1:])):
            if turn.end is None and turn.start is not None and following.start is not None:
                turns[i] = Turn(turn.speaker, turn.text, turn.start, max(turn.start, following.start))
        return tuple(turns)


@dataclass(frozen=True)
class RawTranscript:
    """What a reader found in one file, before metadata and roles are resolved."""

    format: str
    turns: tuple[Turn, ...]
    metadata: dict[str, str] = field(default_factory=dict)
    skipped_lines: tuple[int, ...] = ()


# Column / key names the readers accept, lower-cased with spaces, '-' and '_' removed.
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "speaker": ("speaker", "speakername", "speakerlabel", "name", "participant", "who", "role", "channel"),
    "text": ("text", "transcript", "utterance", "content", "message", "sentence", "words", "body"),
    "start": ("start", "starttime", "begin", "from", "timestamp", "time", "offset", "startseconds"),
    "end": ("end", "endtime", "stop", "to", "endseconds"),
}


def squash(key: str) -> str:
    return re.sub(r"[\s_\-]", "", key.strip().lower())


def find_fields(keys: list[str]) -> dict[str, str]:
    """Map 'speaker', 'text', 'start', 'end' to the matching keys (first synonym wins)."""
    squashed = {squash(k): k for k in keys}
    found: dict[str, str] = {}
    for field_name, synonyms in FIELD_SYNONYMS.items():
        for synonym in synonyms:
            if synonym in squashed and squashed[synonym] not in found.values():
                found[field_name] = squashed[synonym]
                break
    return found
