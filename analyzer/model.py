"""The conversation data model: plain nouns, frozen dataclasses, no I/O."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Role(str, Enum):
    SALESPERSON = "salesperson"
    CUSTOMER = "customer"


class Polarity(str, Enum):
    KEEPS = "+"    # the moment keeps the rule
    BREAKS = "-"   # the moment breaks the rule
    EVENT = "event"  # neither by itself (a commitment is judged later, when kept or broken)


@dataclass(frozen=True)
class Turn:
    """One speaker's uninterrupted stretch of speech, as the transcript gives it."""

    speaker: str
    text: str
    start: float | None = None  # seconds from the start of the call
    end: float | None = None

    def time_at(self, offset: int) -> float | None:
        """The time at a character offset, interpolated between start and end."""
        if self.start is None or self.end is None or not self.text:
            return self.start
        return round(self.start + (self.end - self.start) * offset / len(self.text), 2)


@dataclass(frozen=True)
class CallMeta:
    call_id: str
    date: dt.date | None = None
    salesperson: str | None = None      # the person's name, for reports
    account: str | None = None
    salesperson_speaker: str | None = None  # the speaker label in the transcript, when given
    extra: tuple[tuple[str, str], ...] = ()  # other manifest / file metadata, kept as-is
    account_source: str = ""        # "manifest", "metadata", "file name", "participants"
    account_confidence: float | None = None


@dataclass(frozen=True)
class SalespersonResolution:
    """Which speaker is the salesperson, how we know, and how sure we are."""

    speaker: str
    source: str  # "manifest", "metadata", "option" or "inferred" (from the folder or the call)
    confidence: float


@dataclass(frozen=True)
class Call:
    source: str   # the file, relative to the analysed folder
    format: str   # "text", "webvtt", "srt", "json", "aws-transcribe", "csv", ...
    meta: CallMeta
    turns: tuple[Turn, ...]
    salesperson: SalespersonResolution

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.speaker for t in self.turns))

    def role_of(self, speaker: str) -> Role:
        return Role.SALESPERSON if speaker == self.salesperson.speaker else Role.CUSTOMER

    @property
    def salesperson_name(self) -> str:
        return self.meta.salesperson or self.salesperson.speaker


@dataclass(frozen=True)
class Utterance:
    """A sentence-sized piece of a turn: the unit every detector judges."""

    id: str          # "<call_id>#<turn>.<n>"
    turn: int
    speaker: str
    role: Role
    text: str
    char_start: int  # offsets of `text` in the turn's text
    char_end: int
    start: float | None
    end: float | None
    is_question: bool
    is_backchannel: bool
    responds_to: str | None = None  # id of the customer utterance a salesperson utterance answers


@dataclass(frozen=True)
class Prediction:
    """The learned heads' output for one salesperson utterance."""

    probabilities: dict[str, float]   # behaviour -> probability
    tactics: tuple[tuple[str, float], ...] = ()  # manipulation tactics, most likely first
    read: tuple[str, ...] = ()         # ids of the utterances the model read around it
    focus: str | None = None           # the one it weighed most

    @property
    def tactic(self) -> str | None:
        return self.tactics[0][0] if self.tactics else None


@dataclass(frozen=True)
class ParsedCall:
    """A call after segmentation (and, when the heads are loaded, their predictions): shared
    by every detector, so text is parsed and encoded once."""

    call: Call
    utterances: tuple[Utterance, ...]
    predictions: dict[str, Prediction] = field(default_factory=dict, compare=False)
    # utterance id -> embedding from the encoder that fed the heads (every utterance that is
    # not a backchannel); empty without the heads
    meanings: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _position: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    # pattern evidence per (detector, utterance id), computed once for the heads' features
    # and reused by the detectors; shared by copies made with dataclasses.replace
    evidence_memo: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._position.update({u.id: i for i, u in enumerate(self.utterances)})

    def position(self, utterance_id: str) -> int:
        return self._position[utterance_id]

    def get(self, utterance_id: str | None) -> Utterance | None:
        position = self._position.get(utterance_id) if utterance_id else None
        return self.utterances[position] if position is not None else None

    def salesperson_utterances(self) -> list[Utterance]:
        return [u for u in self.utterances if u.role is Role.SALESPERSON]

    def customer_before(self, utterance: Utterance, n: int = 3) -> list[Utterance]:
        """The last `n` substantive customer utterances before `utterance`, oldest first."""
        index = self._position[utterance.id]
        found: list[Utterance] = []
        for u in reversed(self.utterances[:index]):
            if u.role is Role.CUSTOMER and not u.is_backchannel:
                found.append(u)
                if len(found) == n:
                    break
        return found[::-1]


@dataclass(frozen=True)
class Commitment:
    owner: str            # speaker label of who promised
    action: str           # the promise, as said
    due: dt.date | None   # resolved against the call date when the phrase allows
    due_phrase: str       # "by Friday", "" when none
    specific: bool        # a concrete action with a due date


@dataclass(frozen=True)
class Finding:
    """One flagged moment: what, where, how sure, and why, in words a coach can read."""

    utterance_id: str
    behavior: str
    rule: str
    polarity: Polarity
    confidence: float
    span: tuple[int, int]   # evidence offsets in the utterance text
    explanation: str
    evidence: tuple[str, ...] = ()   # names of the patterns / models that fired
    tactic: str | None = None        # manipulation only
    commitment: Commitment | None = None


@dataclass(frozen=True)
class CallMetrics:
    """R4's per-call conversation measures (computed in metrics.py)."""

    talk_ratio_words: float | None       # salesperson words / all words
    talk_ratio_time: float | None        # salesperson seconds / all seconds, when timed
    longest_monologue_words: int         # salesperson speech uninterrupted but for backchannels
    longest_monologue_seconds: float | None
    questions_asked: int
    open_questions: int
    closed_questions: int
    customer_focus: float | None         # you-words / (you-words + I/we-words) in salesperson speech


@dataclass(frozen=True)
class CallResult:
    """Everything the analysis produced for one call."""

    parsed: ParsedCall
    findings: tuple[Finding, ...]
    scores: tuple["RuleScore", ...]
    metrics: CallMetrics


@dataclass(frozen=True)
class RuleScore:
    rule: str
    score: float | None        # 0-100, None when the call gave no opportunity
    opportunities: int
    positive: float            # summed confidence of + evidence
    negative: float            # summed confidence of - evidence
    counts: tuple[tuple[str, int], ...] = ()  # behaviour -> findings


@dataclass(frozen=True)
class ScoredCall:
    """What aggregation needs of a call: kept small, since a run holds one per call."""

    call_id: str
    date: dt.date | None
    salesperson: str
    account: str | None
    scores: tuple[RuleScore, ...]
