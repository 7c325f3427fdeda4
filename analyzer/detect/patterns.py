"""Named patterns kept as data (patterns/*.jsonl): a rule change is a reviewed data diff, and
the pattern's name shows up in every explanation it produces."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PATTERN_DIR = Path(__file__).parent / "patterns"
KINDS = ("signal", "booster", "blocker")


@dataclass(frozen=True)
class Pattern:
    name: str
    kind: str        # signal: evidence for; booster: adds to a signal; blocker: evidence against
    weight: float    # 0-1, how much this pattern alone says (see confidence.combine)
    regex: re.Pattern[str]
    explain: str     # a phrase a coach can read
    tag: str | None = None  # what the match means beyond the behaviour: a tactic, an outcome


@dataclass(frozen=True)
class Match:
    pattern: Pattern
    start: int
    end: int


@lru_cache(maxsize=4096)  # every detector looks at the same utterance
def normalise(text: str) -> str:
    """Lower-case with straight apostrophes, keeping every character offset unchanged."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer ("İ"): keep it
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.replace("’", "'").replace("‘", "'")


@lru_cache(maxsize=None)
def load(name: str) -> tuple[Pattern, ...]:
    patterns = []
    for number, line in enumerate((PATTERN_DIR / f"{name}.jsonl").read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["kind"] not in KINDS or not 0 < row["weight"] <= 1:
            raise ValueError(f"patterns/{name}.jsonl line {number}: bad kind or weight")
        patterns.append(
            Pattern(row["name"], row["kind"], row["weight"], re.compile(row["regex"]), row["explain"], row.get("tag"))
        )
    return tuple(patterns)


def find(patterns: tuple[Pattern, ...], text: str) -> list[Match]:
    """First match of every pattern in `text`."""
    lowered = normalise(text)
    found = []
    for pattern in patterns:
        match = pattern.regex.search(lowered)
        if match:
            found.append(Match(pattern, match.start(), match.end()))
    return found


def matches_any(name: str, pattern_name: str, text: str) -> bool:
    return any(m.pattern.name == pattern_name for m in find(load(name), text))
