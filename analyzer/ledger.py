"""Across the calls of one account, in date order: what became of each commitment (kept,
broken, open, overdue) and which kinds of mistake came back.

Whether a commitment was kept shows only in later calls, and rarely in its own words: "thanks
for the numbers, that helped" keeps "I'll send the ROI model". So every later utterance of
the account, from either speaker, is judged against every earlier commitment by a small
learned model (models/ledger.safetensors, trained by models/train_ledger.py) in two parts:
- *which* promise, if any, the utterance is about: a softmax over the account's earlier
  promises and "none", from how close in meaning they are (and how much closer than the
  other promises, in its call and overall), shared words, who speaks, dates. The promises
  compete for the utterance, so one complaint is not evidence for every promise of a call;
- *what* it says: kept, broken, still pending, a restatement, or nothing about any promise
  (what most utterances say: a question on the topic, small talk), from the utterance and the
  ones before and after it ("did the summary help?" - "it did"), follow-up cue patterns
  (patterns/followup.jsonl) and how close it is to descriptions of each outcome. Taught only
  on evidence lines, it read a question about a promise's topic as "kept"; with "nothing"
  among its answers, such a line no longer counts as evidence for the topic's promise.
The probability that an utterance shows a promise kept is the product of the two. What
became of the promise is then decided over all its later moments at once by a small status
model (kept / broken / open) on the judge's products and halves: the best and combined
chances, what the moments about it say on average, its due date. Meaning
for *which* is compared after a linear map, fitted on sentences outside the accounts, from
the heads' vectors back towards the base encoder's: the heads' adapter tunes the vectors for
behaviours, which costs them the similarity that links a promise to its follow-up (the
true promise ranked first for 45 % of evidence lines before the map, 60 % after, 62 %
with the base encoder; docs/classifiers.md). The thresholds are in models/ledger.json.

Repeated mistakes are learned too (same file, trained on the same accounts): whether an
utterance tells of a mistake (its vector, the ones before and after it, how close it is to
the kinds a coach would name in mistake_kinds.jsonl, who speaks), and whether two such
moments of different calls are the same kind of mistake (how close they are, directly and
in their closeness to each kind). A later call's moment that pairs with an earlier call's
is a repeated mistake, citing the earlier one and named by its nearest kind. Closeness to
a kind alone, the rule before, raised about three flags per real repeat (precision 0.35
out of fold on the training accounts).

Embeddings come with the calls: analysis keeps every utterance's vector from the encoder that
fed the heads (ParsedCall.meanings, stored compactly in each call's history), so the ledger
never encodes an account's calls again. `embed(texts) -> (n, d) unit vectors` (the same
encoder) covers only what a history lacks (calls analysed without the heads) and the
descriptions of kinds and outcomes; it is applied to one call's texts at a time, so a
call's vectors never depend on the other calls of the folder."""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analyzer.detect import patterns as pattern_data
from analyzer.detect.dates import find_due
from analyzer.model import CallResult, Role
from analyzer.model_files import sha256

if TYPE_CHECKING:
    from analyzer.classifier import ModelScorer

KEPT, BROKEN, OPEN, PENDING = "kept", "broken", "open", "pending"
RESTATED, UNRELATED, NOTHING = "restated", "unrelated", "nothing"
PAIR_LABELS = (UNRELATED, KEPT, BROKEN, PENDING, RESTATED)  # the judge's classes, in weight order
OUTCOMES = (KEPT, BROKEN, PENDING)  # what a later utterance can show about a promise
CUES = OUTCOMES  # tags of patterns/followup.jsonl: the outcome each cue hints at
MODEL_NAME = "ledger"
KINDS_FILE = Path(__file__).parent / "mistake_kinds.jsonl"
MEANINGS_FILE = Path(__file__).parent / "followup_meanings.jsonl"  # what kept / broken / pending sound like
Embed = Callable[[Sequence[str]], np.ndarray]

_STOP = set(
    """a an the and or but so to of in on at by for with from up out it its it's that this these those
    i i'll i'm i've we we'll we're you you'll your our my me us he she they them his her their
    will would can could should shall may might must do does did done have has had be is are was were been
    get got send sent sending email call make sure let just also then there here what when which who how
    over back about into by next week weeks day days today tomorrow monday tuesday wednesday thursday friday
    end time good right okay yeah yes no not all any some one two three first last more most very really
    going gonna want need know think see look thing things team someone something stuff guys folks
    people sound fine great sure""".split()
)
_WORD = re.compile(r"[a-z][a-z'-]{2,}")


def pack(vector: np.ndarray) -> str:
    """A unit vector as base64 float16: 1 KB per utterance in the spool and the cache, and
    still ~1e-4 from the float32 similarity."""
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)


def topic_words(text: str) -> set[str]:
    """The content words of a promise: its deliverable and whom it is for."""
    return {w.strip("'-") for w in _WORD.findall(text.lower()) if w not in _STOP}


@dataclass
class Said:
    """One substantive utterance of a call, as the ledger needs it."""

    utterance_id: str
    role: str       # "salesperson" or "customer"
    speaker: str
    text: str
    start: float | None = None  # seconds
    turn: int = 0
    char_start: int = 0
    meaning: str = ""  # the analysis encoder's vector (pack), when the heads ran
    cues: list[str] = field(default_factory=list)  # follow-up cue tags that fire in it (CUES)
    mentions_time: bool = False  # it names a date or time


@dataclass
class Evidence:
    """A later moment that shows what became of a commitment."""

    call_id: str
    date: dt.date | None
    utterance_id: str
    speaker: str
    role: str
    text: str
    shows: str            # KEPT, BROKEN or PENDING
    confidence: float
    explanation: str


@dataclass
class Promise:
    account: str
    call_id: str
    date: dt.date | None
    salesperson: str
    owner: str
    action: str
    due: dt.date | None
    due_phrase: str
    specific: bool
    utterance_id: str = ""
    text: str = ""        # the whole utterance the promise was made in
    meaning: str = ""     # its vector (pack), when the heads ran
    status: str = OPEN
    overdue: bool = False
    evidence_call_id: str = ""    # the moment that decided the status
    evidence_date: dt.date | None = None
    evidence_excerpt: str = ""
    evidence_explanation: str = ""
    evidence: list[Evidence] = field(default_factory=list)  # every linked moment, in call order
    mentions: list[tuple[str, str]] = field(default_factory=list)  # (call id, text): restatements


@dataclass
class CallHistory:
    """What the ledger needs of one call; small, so a run can keep one per call."""

    account: str | None
    call_id: str
    date: dt.date | None
    salesperson: str
    promises: list[Promise] = field(default_factory=list)
    said: list[Said] = field(default_factory=list)
    owned: list[str] = field(default_factory=list)  # utterance ids of ownership / blame_shifting findings


def history_of(result: CallResult) -> CallHistory:
    parsed = result.parsed
    call = parsed.call
    account = call.meta.account
    history = CallHistory(account, call.meta.call_id, call.meta.date, call.salesperson_name)
    for finding in result.findings:
        if finding.commitment:
            c = finding.commitment
            utterance = parsed.get(finding.utterance_id)
            history.promises.append(Promise(
                account or call.meta.call_id, call.meta.call_id, call.meta.date, call.salesperson_name,
                c.owner, c.action, c.due, c.due_phrase, c.specific, utterance.id, utterance.text,
                meaning=_packed(parsed.meanings, utterance.id),
            ))
        if finding.behavior in ("ownership", "blame_shifting") and finding.utterance_id not in history.owned:
            history.owned.append(finding.utterance_id)
    history.said = [
        Said(u.id, u.role.value, u.speaker, u.text, u.start, u.turn, u.char_start, _packed(parsed.meanings, u.id),
             _cue_tags(u.text), bool(find_due(u.text, None)[0]))
        for u in parsed.utterances
        if not u.is_backchannel and len(u.text.split()) >= 3
    ]
    return history


def _packed(meanings: dict, utterance_id: str) -> str:
    return pack(meanings[utterance_id]) if utterance_id in meanings else ""


@dataclass(frozen=True)
class RepeatedMistake:
    account: str
    call_id: str
    utterance_id: str
    kind: str
    excerpt: str
    first_call_id: str
    first_date: dt.date | None
    first_excerpt: str = ""
    speaker: str = ""
    start: float | None = None
    order: tuple[int, int] = (0, 0)  # (turn, offset in the turn), as flagged rows sort
    confidence: float = 0.0
    explanation: str = ""  # the model's reasons, in numbers


def _sorted_calls(histories: list[CallHistory]) -> dict[str, list[CallHistory]]:
    by_account: dict[str, list[CallHistory]] = defaultdict(list)
    for history in histories:
        by_account[history.account or history.call_id].append(history)
    for calls in by_account.values():
        calls.sort(key=lambda h: (h.date or dt.date.min, h.call_id))
    return by_account


def later_calls(histories: list[CallHistory]) -> set[str]:
    """Call ids that have a later call of the same account: their commitments can be judged."""
    judged = set()
    for account, calls in _sorted_calls([h for h in histories if h.account]).items():
        judged.update(h.call_id for h in calls[:-1])
    return judged


# --- pair features -------------------------------------------------------------------------

# which promise an utterance is about: features of the (promise, utterance) pair
ATTRIBUTION = (
    "similarity", "contrast", "best_in_call", "gap_to_call_best", "word_overlap", "window_similarity",
    "next_call", "same_call", "customer", "mentions_time", "due_passed", "owned_reply",
)
# what it says: the utterance's vector, the ones before and after it in its call, and these
POLARITY = ("cue_kept", "cue_broken", "cue_pending", "sounds_kept", "sounds_broken", "sounds_pending", "customer", "is_promise",
            "owned")
SHOWS = (KEPT, BROKEN, PENDING, RESTATED)
# what an utterance says about a promise it would be about: one of SHOWS, or nothing at all (a
# question, small talk, a new topic), which most utterances say
SAYS = (*SHOWS, NOTHING)
# what became of a promise, read from everything the judge made of the account's later utterances
STATUSES = (KEPT, BROKEN, OPEN)
STATUS_FEATURES = (
    "kept_best", "broken_best", "pending_best", "about_best",
    "says_kept", "says_broken", "says_pending", "closest_says_kept", "closest_says_broken", "due_passed", "specific",
)
LOGGED = 4  # the first four are probabilities; their logs are inputs too
ABOUT_TOP = 3  # what a promise's later moments say: the few most about it, not every moment of the call
# does an utterance tell of a mistake: its vector, the previous and the next one of its call, and these
MISTAKE = ("kind_similarity", "customer", "is_promise", "owned_nearby")
# are two mistake moments of different calls the same kind of mistake
SAME_KIND = ("similarity", "related_similarity", "kind_profile_similarity", "same_nearest_kind", "weaker_kind_similarity",
             "shared_words", "said_again")


@dataclass
class AccountView:
    """One account's promises and utterances, embedded once, with the facts pair features need."""

    calls: list[CallHistory]
    promises: list[Promise]            # in order
    promise_call: np.ndarray           # index of each promise's call
    promise_pos: np.ndarray            # position of each promise's utterance in its call's `said`
    said: list[Said]
    said_call: np.ndarray
    said_pos: np.ndarray
    said_promise: np.ndarray           # 1 when the utterance is itself a detected promise
    P: np.ndarray                      # promise vectors
    S: np.ndarray                      # utterance vectors
    sounds: np.ndarray                 # (utterances, 3): similarity to how kept / broken / pending sound
    relate: np.ndarray | None = None   # the linear map under which meanings are compared for *which*

    @classmethod
    def build(cls, calls: list[CallHistory], embed: Embed, relate: np.ndarray | None = None) -> "AccountView":
        promises, promise_call, promise_pos = [], [], []
        said, said_call, said_pos, said_promise = [], [], [], []
        for c, history in enumerate(calls):
            promised = {p.utterance_id for p in history.promises}
            position = {s.utterance_id: i for i, s in enumerate(history.said)}
            for p in history.promises:
                promises.append(p)
                promise_call.append(c)
                promise_pos.append(position.get(p.utterance_id, -1))
            for i, s in enumerate(history.said):
                said.append(s)
                said_call.append(c)
                said_pos.append(i)
                said_promise.append(1.0 if s.utterance_id in promised else 0.0)
        meanings = [json.loads(line) for line in MEANINGS_FILE.read_text("utf-8").splitlines() if line.strip()]
        described = [(row["shows"], d) for row in meanings for d in row["descriptions"]]
        items = [(c, p.text or p.action, p.meaning) for c, p in zip(promise_call, promises)]
        items += [(c, s.text, s.meaning) for c, s in zip(said_call, said)]
        vectors = _call_vectors(embed, items)
        n_p, n_s = len(promises), len(said)
        S, D = vectors[n_p:], _embed_unique(embed, [d for _, d in described])
        shows = np.array([label for label, _ in described])
        sounds = np.stack([(S @ D[shows == label].T).max(axis=1) if n_s else np.zeros(0) for label in CUES], axis=1)
        return cls(calls, promises, np.array(promise_call, dtype=int), np.array(promise_pos, dtype=int),
                   said, np.array(said_call, dtype=int), np.array(said_pos, dtype=int),
                   np.array(said_promise, dtype=np.float32), vectors[:n_p], S, sounds.astype(np.float32), relate)

    @cached_property
    def related(self) -> tuple[np.ndarray, np.ndarray]:
        """Promise and utterance vectors under the `relate` map, unit length."""
        if self.relate is None:
            return self.P, self.S
        return unit_rows(self.P @ self.relate), unit_rows(self.S @ self.relate)

    @cached_property
    def eligible(self) -> np.ndarray:
        """(promises, utterances): later calls, or a later promise in the same call (a recap)."""
        pc, sc = self.promise_call[:, None], self.said_call[None, :]
        same = (pc == sc) & (self.said_pos[None, :] > self.promise_pos[:, None]) & (self.said_promise[None, :] > 0)
        return (sc > pc) | same

    def attribution(self) -> np.ndarray:
        """(promises, utterances, len(ATTRIBUTION)) float32."""
        n_p, n_s = len(self.promises), len(self.said)
        P, S = self.related
        sim = P @ S.T
        eligible = self.eligible
        masked = np.where(eligible, sim, -1.0)
        # how much more this utterance is about this promise than about the others made before it
        contrast = np.zeros_like(sim)
        if n_p > 1:
            ranked = np.sort(np.where(eligible, sim, -np.inf), axis=0)
            top, second = ranked[-1], ranked[-2]
            rival = np.where(sim == top[None, :], second[None, :], top[None, :])
            contrast = np.where(eligible & (eligible.sum(axis=0) > 1)[None, :], sim - rival, 0.0).astype(sim.dtype)
        # the utterance before or after in the same call: "did the summary help?" - "it did"
        window = np.full_like(sim, -1.0)
        same_before = np.r_[False, self.said_call[1:] == self.said_call[:-1]]
        window[:, 1:] = np.where(same_before[None, 1:], sim[:, :-1], -1.0)
        window[:, :-1] = np.maximum(window[:, :-1], np.where(same_before[None, 1:], sim[:, 1:], -1.0))
        window = np.maximum(window, 0.0)
        best_in_call = np.zeros_like(sim)
        gap = np.zeros_like(sim)
        for c in range(len(self.calls)):
            cols = np.flatnonzero(self.said_call == c)
            if len(cols):
                call_best = masked[:, cols].max(axis=1, keepdims=True)
                gap[:, cols] = masked[:, cols] - call_best
                best_in_call[:, cols] = (masked[:, cols] >= call_best - 1e-6).astype(np.float32)
        customer = self.customer
        vocabulary: dict[str, int] = {}
        said_words = [[vocabulary.setdefault(w, len(vocabulary)) for w in topic_words(s.text)] for s in self.said]
        has_word = np.zeros((n_s, len(vocabulary)), dtype=np.float64)
        for j, columns in enumerate(said_words):
            has_word[j, columns] = 1.0
        mentions_time = np.array([float(s.mentions_time) for s in self.said], dtype=np.float32)
        call_dates = [h.date for h in self.calls]
        features = np.zeros((n_p, n_s, len(ATTRIBUTION)), dtype=np.float32)
        for i, promise in enumerate(self.promises):
            words = topic_words(promise.action)
            shared = has_word[:, [vocabulary[w] for w in words if w in vocabulary]].sum(axis=1)
            overlap = (shared / max(1, len(words))).astype(np.float32)
            passed = np.array([bool(promise.due and d and d > promise.due) for d in call_dates], dtype=np.float32)
            due_passed = passed[self.said_call] if n_s else np.zeros(0, dtype=np.float32)
            pc = self.promise_call[i]
            features[i] = np.column_stack([
                sim[i], contrast[i], best_in_call[i], gap[i], overlap, window[i],
                (self.said_call == pc + 1).astype(np.float32), (self.said_call == pc).astype(np.float32),
                customer, mentions_time, due_passed,
                # the salesperson owning a slip ("that one's on me") answers the line before it,
                # and is about what that line is about
                self.owned * window[i],
            ])
        return features

    def due_passed(self, i: int) -> bool:
        """Promise i's due date passed before a later call of the account."""
        due = self.promises[i].due
        return bool(due and any(h.date and h.date > due for h in self.calls[self.promise_call[i] + 1:]))

    @cached_property
    def customer(self) -> np.ndarray:
        return np.array([s.role == Role.CUSTOMER.value for s in self.said], dtype=np.float32)

    @cached_property
    def neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        """Each utterance's previous and next utterance vector in its call (zero at a call's ends)."""
        return self.within_call(self.S, -1), self.within_call(self.S, 1)

    def within_call(self, values: np.ndarray, step: int) -> np.ndarray:
        """Per utterance, `values` of the utterance `step` places after it (before it when
        negative) in its own call; zero where that is past the call's ends."""
        shifted = np.zeros_like(values)
        gap, kept = abs(step), max(len(values) - abs(step), 0)
        same = self.said_call[gap:] == self.said_call[:kept]
        if step > 0:
            shifted[:kept][same] = values[gap:][same]
        else:
            shifted[gap:][same] = values[:kept][same]
        return shifted

    def polarity(self) -> np.ndarray:
        """(utterances, 3 * d + len(POLARITY)): the utterance's vector, the previous and the
        next one of its call ("did it arrive?" - "no, still waiting"), cues and outcome
        similarities, speaker, is a promise, the salesperson owning a slip in it."""
        previous, following = self.neighbours
        cues = np.array([[float(tag in s.cues) for tag in CUES] for s in self.said], dtype=np.float32).reshape(len(self.said), 3)
        return np.concatenate([self.S, previous, following, cues, self.sounds, self.customer[:, None], self.said_promise[:, None],
                               self.owned[:, None]], axis=1).astype(np.float32)

    def kind_profile(self, kinds: list["MistakeKind"]) -> np.ndarray:
        """(utterances, kinds): each utterance's closeness to each kind's nearest description."""
        if not kinds or not len(self.said):
            return np.zeros((len(self.said), len(kinds)), dtype=np.float32)
        return np.stack([(self.S @ k.vectors.T).max(axis=1) for k in kinds], axis=1).astype(np.float32)

    def mistake_inputs(self, profile: np.ndarray) -> np.ndarray:
        """(utterances, 3 * d + len(MISTAKE)): the utterance's vector, the previous and the next
        one of its call ("the invoice is wrong" - "which line?" - "it bills the trial seats"),
        its closeness to the nearest kind of mistake, speaker, is a promise, and whether the heads
        found the salesperson owning a mistake or blaming someone in it or the two after it."""
        previous, following = self.neighbours
        nearest = profile.max(axis=1, keepdims=True) if profile.shape[1] else np.zeros((len(self.said), 1), dtype=np.float32)
        return np.concatenate([self.S, previous, following, nearest, self.customer[:, None], self.said_promise[:, None],
                               self.owned_nearby[:, None]], axis=1).astype(np.float32)

    @cached_property
    def owned(self) -> np.ndarray:
        """(utterances,) 1 when the heads found the salesperson owning a mistake or blaming
        someone in it: about half the salesperson's lines that report a broken promise, a
        tenth of the others, with the training writers and new ones alike."""
        found = {u for history in self.calls for u in history.owned}
        return np.array([s.utterance_id in found for s in self.said], dtype=np.float32)

    @cached_property
    def owned_nearby(self) -> np.ndarray:
        """(utterances,) 1 when it, or one of the next two utterances of its call, is an
        ownership or blame-shifting finding: how a mistake, once raised, is usually answered."""
        found = self.owned.astype(bool)
        return (found | self.within_call(found, 1) | self.within_call(found, 2)).astype(np.float32)

    def same_kind_inputs(self, profile: np.ndarray, earlier: np.ndarray, j: int) -> np.ndarray:
        """(len(earlier), len(SAME_KIND)) for the pairs (earlier[n], j) of mistake moments."""
        related = self.related[1]
        return same_kind_features(self.S[earlier], related[earlier], profile[earlier], [self.said[i].text for i in earlier],
                                  self.S[j], related[j], profile[j], self.said[j].text)


def same_kind_features(S: np.ndarray, related: np.ndarray, profile: np.ndarray, texts: list[str],
                       s: np.ndarray, r: np.ndarray, p: np.ndarray, text: str) -> np.ndarray:
    """(len(S), len(SAME_KIND)): each of the earlier moments S (vectors, related vectors, kind
    profiles, texts) against the later moment s, r, p, text: how alike they are in meaning and
    kind, the words they share (the misspelt name, the wrong figure, the person left off),
    and whether the later one says it happened again."""
    # the profiles' shapes: each centred on its own mean, since every utterance is somewhat
    # close to every kind
    shape = unit_rows(profile - profile.mean(axis=1, keepdims=True))
    centred = p - p.mean()
    words = topic_words(text)
    shared = [len(words & w) / max(1, min(len(words), len(w))) for w in map(topic_words, texts)]
    again = float(bool(pattern_data.find(pattern_data.load("recurrence"), text)))
    return np.column_stack([
        S @ s, related @ r, shape @ (centred / max(float(np.linalg.norm(centred)), 1e-9)),
        (profile.argmax(axis=1) == p.argmax()).astype(np.float32), np.minimum(profile.max(axis=1), p.max()),
        np.array(shared, dtype=np.float32).reshape(len(texts)), np.full(len(texts), again, dtype=np.float32),
    ]).astype(np.float32)


def description_texts() -> list[str]:
    """Every description the ledger compares utterances with (outcomes, then mistake kinds):
    embedded once when the judge is trained and shipped with it."""
    rows = [json.loads(line) for path in (MEANINGS_FILE, KINDS_FILE)
            for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [d for row in rows for d in row["descriptions"]]


def _call_vectors(embed: Embed, items: list[tuple[int, str, str]]) -> np.ndarray:
    """Vectors for (call index, text, packed vector) items: the packed one when analysis kept
    it, else the text encoded with the rest of its own call's missing texts."""
    missing: dict[int, list[str]] = defaultdict(list)
    for c, text, packed in items:
        if not packed:
            missing[c].append(text)
    encoded = {(c, text): vector for c, texts in missing.items() for text, vector in zip(texts, _embed_unique(embed, texts))}
    rows = [unpack(packed) if packed else encoded[c, text] for c, text, packed in items]
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 1), dtype=np.float32)


def _no_encoder(texts: Sequence[str]) -> np.ndarray:
    raise RuntimeError("an unjudged ledger embeds nothing")


def _known_first(known: dict[str, np.ndarray], embed: Embed) -> Embed:
    """`embed`, answering from `known` when it holds every text: a rerun from the cache, whose
    histories carry their vectors, then loads no encoder at all."""

    def embed_known(texts: Sequence[str]) -> np.ndarray:
        if texts and all(t in known for t in texts):
            return np.stack([known[t] for t in texts])
        return embed(texts)

    return embed_known


def _embed_unique(embed: Embed, texts: list[str]) -> np.ndarray:
    unique = list(dict.fromkeys(texts))
    if not unique:
        return np.zeros((0, 1), dtype=np.float32)
    vectors = np.asarray(embed(unique), dtype=np.float32)
    index = {t: i for i, t in enumerate(unique)}
    return vectors[[index[t] for t in texts]]


@lru_cache(maxsize=1)
def _cue_patterns() -> tuple:
    return tuple(p for p in pattern_data.load("followup") if p.kind == "signal")


def _cue_tags(text: str) -> list[str]:
    """The follow-up cues (CUES) that fire in `text`, in CUES order."""
    tags = {m.pattern.tag for m in pattern_data.find(_cue_patterns(), text)}
    return [tag for tag in CUES if tag in tags]


JUDGE_TENSORS = ("attribution", "none", "polarity", "polarity_bias", "relate",
                 "status", "status_bias", "status_mean", "status_scale",
                 "mistake", "mistake_bias", "same_kind", "same_kind_bias")


def status_inputs(view: AccountView, about: np.ndarray, says: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """(promises, len(STATUS_FEATURES) + LOGGED): per promise, over the later calls' utterances,
    the best chance that one shows it kept / broken / pending, how strongly the closest is
    about it, what the ABOUT_TOP utterances most about it say on average (weighted by how
    much they are about it) and what the closest one says, whether its due date passed
    before a later call, whether it was specific; then the logs of the four probabilities.
    Nothing that grows with the number of later utterances (a combined chance, a total):
    longer calls than the training accounts' (37 utterances each; up to 69 in new writers'
    accounts; the benchmark's 45-minute calls have 592 with backchannels) moved those and
    the status with them. Zero for a promise with no later utterance."""
    columns = [PAIR_LABELS.index(label) for label in OUTCOMES]
    rows = np.zeros((len(view.promises), len(STATUS_FEATURES)), dtype=np.float64)
    for i, promise in enumerate(view.promises):
        later = np.flatnonzero(view.said_call > view.promise_call[i])
        if not len(later):
            continue
        shown = probabilities[i][later][:, columns].astype(np.float64)
        near = about[i][later].astype(np.float64)
        said = says[later].astype(np.float64)
        top = np.argsort(-near, kind="stable")[:ABOUT_TOP]
        average = (near[top] / max(near[top].sum(), 1e-6)) @ said[top]
        closest = said[top[0]]
        rows[i] = [*shown.max(axis=0), near.max(), *average[:3], *closest[:2],
                   float(view.due_passed(i)), float(promise.specific)]
    return np.concatenate([rows, np.log(np.clip(rows[:, :LOGGED], 1e-4, None))], axis=1).astype(np.float32)


@dataclass(frozen=True)
class Judged:
    """The judge's view of an account: both halves, and their product per PAIR_LABELS."""

    about: np.ndarray          # (promises, utterances): the utterance is about the promise
    says: np.ndarray           # (utterances, len(SAYS)): what it says about a promise it is about
    probabilities: np.ndarray  # (promises, utterances, len(PAIR_LABELS)); ineligible pairs UNRELATED
    status: np.ndarray         # (promises, len(STATUSES)): what became of each promise


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero)."""
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def softmax(logits: np.ndarray, axis: int) -> np.ndarray:
    logits = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=axis, keepdims=True)


class PairJudge:
    """P(the utterance shows this promise `o`) = P(it is about this promise) x P(it says `o`):
    *which* is a softmax over the account's eligible promises and "none" of a linear score
    of the ATTRIBUTION features; *what* a softmax regression over SAYS on the POLARITY
    inputs (its "nothing" is part of "unrelated"). The relate map turns the heads' vectors
    into the space *which* compares in.
    A promise's status is a softmax regression over STATUSES on status_inputs(): it weighs
    all the evidence at once, where a single most confident line misled (a thank-you about
    another promise, or a complaint about this one that the judge attributed weakly)."""

    def __init__(self, tensors: dict[str, np.ndarray], config: dict,
                 descriptions: dict[str, np.ndarray] | None = None) -> None:
        self.tensors = {name: np.asarray(tensors[name], dtype=np.float32) for name in JUDGE_TENSORS}
        self.config = config
        self.thresholds = config["thresholds"]
        self.descriptions = descriptions or {}      # text -> vector, embedded when trained

    @property
    def relate(self) -> np.ndarray:
        return self.tensors["relate"]

    @classmethod
    def load(cls, directory: Path) -> "PairJudge":
        from safetensors.numpy import load_file

        config = json.loads((directory / f"{MODEL_NAME}.json").read_text("utf-8"))
        path = directory / f"{MODEL_NAME}.safetensors"
        digest = sha256(path)
        if digest != config["weights_sha256"]:
            raise ValueError(f"{path} has sha256 {digest}, expected {config['weights_sha256']} ({MODEL_NAME}.json)")
        tensors = load_file(str(path))
        texts = config.get("descriptions", [])
        descriptions = dict(zip(texts, tensors["descriptions"])) if texts else {}
        return cls(tensors, config, descriptions)

    def about(self, view: AccountView) -> np.ndarray:
        """(promises, utterances): the probability that the utterance is about the promise."""
        eligible = view.eligible
        scores = np.where(eligible, view.attribution() @ self.tensors["attribution"], -np.inf)
        none = np.full((1, len(view.said)), float(self.tensors["none"][0]), dtype=np.float32)
        return softmax(np.concatenate([scores, none]), axis=0)[:-1]

    def says(self, view: AccountView) -> np.ndarray:
        """(utterances, len(SAYS)): what the utterance says about a promise it is about."""
        return softmax(view.polarity() @ self.tensors["polarity"] + self.tensors["polarity_bias"], axis=1)

    def tells_of_mistake(self, view: AccountView, profile: np.ndarray) -> np.ndarray:
        """(utterances,): the probability that the utterance tells of a mistake."""
        return sigmoid(view.mistake_inputs(profile) @ self.tensors["mistake"] + self.tensors["mistake_bias"])

    def same_kind(self, inputs: np.ndarray) -> np.ndarray:
        """(pairs,): the probability that two mistake moments are the same kind of mistake."""
        return sigmoid(inputs @ self.tensors["same_kind"] + self.tensors["same_kind_bias"])

    def judge(self, view: AccountView) -> Judged:
        n_p, n_s = len(view.promises), len(view.said)
        probs = np.zeros((n_p, n_s, len(PAIR_LABELS)), dtype=np.float32)
        if not n_p or not n_s:  # nothing later to read: every promise open
            unknown = np.tile(np.eye(len(STATUSES), dtype=np.float32)[STATUSES.index(OPEN)], (n_p, 1))
            return Judged(np.zeros((n_p, n_s), dtype=np.float32), np.zeros((n_s, len(SAYS)), dtype=np.float32), probs, unknown)
        about, says = self.about(view), self.says(view)
        joint = about[:, :, None] * says[None, :, :len(SHOWS)]
        probs[:, :, [PAIR_LABELS.index(label) for label in SHOWS]] = joint
        probs[:, :, PAIR_LABELS.index(UNRELATED)] = 1.0 - joint.sum(axis=2)
        probs[~view.eligible] = np.eye(len(PAIR_LABELS), dtype=np.float32)[0]
        return Judged(about, says, probs, self.status(view, about, says, probs))

    def status(self, view: AccountView, about: np.ndarray, says: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        """(promises, len(STATUSES)) from both halves' readings; a promise with no later call is open."""
        t = self.tensors
        inputs = (status_inputs(view, about, says, probabilities) - t["status_mean"]) / t["status_scale"]
        status = softmax(inputs @ t["status"] + t["status_bias"], axis=1)
        judged_later = np.array([(view.said_call > c).any() for c in view.promise_call], dtype=bool)
        status[~judged_later] = np.eye(len(STATUSES), dtype=np.float32)[STATUSES.index(OPEN)]
        return status.astype(np.float32)


@dataclass(frozen=True)
class MistakeKind:
    name: str
    vectors: np.ndarray  # descriptions, embedded


def load_kinds(embed: Embed, path: Path = KINDS_FILE) -> list[MistakeKind]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    vectors = _embed_unique(embed, [d for row in rows for d in row["descriptions"]])
    kinds, start = [], 0
    for row in rows:
        end = start + len(row["descriptions"])
        kinds.append(MistakeKind(row["kind"], vectors[start:end]))
        start = end
    return kinds


class Ledger:
    """Commitment outcomes and repeated mistakes for a run's calls, account by account."""

    def __init__(self, embed: Embed, judge: PairJudge | None, kinds_path: Path = KINDS_FILE) -> None:
        self.embed = embed
        self.judge = judge
        self.kinds_path = kinds_path
        self._kinds: list[MistakeKind] | None = None

    @classmethod
    def load(cls, embed: Embed, directory: Path) -> "Ledger":
        return cls(embed, PairJudge.load(directory))

    @classmethod
    def shipped(cls, scorer: "ModelScorer | None" = None) -> "Ledger":
        """The shipped judge, on the vectors of the heads' encoder (int8, with their adapter:
        `scorer`'s, else the shipped one), which loads only when a history lacks vectors or
        descriptions need them. A judge trained on another adapter's vectors is refused."""
        from analyzer.classifier import ModelScorer

        scorer = scorer or ModelScorer()
        directory = scorer.directory
        judge = PairJudge.load(directory)
        if judge.config.get("adapter_sha256") != scorer.adapter_sha256:
            raise ValueError(f"{directory / MODEL_NAME}.json was trained on the vectors of adapter "
                             f"{judge.config.get('adapter_sha256')}, not the shipped {scorer.adapter_sha256}; "
                             "run `make train-ledger`")
        return cls(_known_first(judge.descriptions, lambda texts: scorer.featurizer.encoder.encode(texts)), judge)

    @property
    def kinds(self) -> list[MistakeKind]:
        if self._kinds is None:
            self._kinds = load_kinds(self.embed, self.kinds_path)
        return self._kinds

    @cached_property
    def identity(self) -> str:
        """What decides this ledger's results besides the histories: the judge (weights and its
        record: thresholds, adapter, descriptions) and the encoder for what a history lacks."""
        if self.judge is None:
            return "unjudged"
        digest = hashlib.sha256(b"".join(self.judge.tensors[name].tobytes() for name in JUDGE_TENSORS))
        digest.update(json.dumps(self.judge.config, sort_keys=True, default=str).encode())
        digest.update(getattr(self.embed, "__qualname__", type(self.embed).__name__).encode())
        return digest.hexdigest()

    @classmethod
    def unjudged(cls) -> "Ledger":
        """Without the learned models (`--patterns-only`): every commitment is listed as
        `open`; nothing is judged across calls (no outcomes, overdue marks or repeats)."""
        return cls(_no_encoder, None)

    def build(self, histories: list[CallHistory]) -> tuple[list[Promise], list[RepeatedMistake]]:
        promises: list[Promise] = []
        repeated: list[RepeatedMistake] = []
        for account, calls in _sorted_calls(histories).items():
            if len(calls) > 1 and self.judge is not None:
                view = AccountView.build(calls, self.embed, self.judge.relate)
                promises.extend(self.resolve(view))
                repeated.extend(self.repeats(view, account))
            else:
                promises.extend(dataclasses.replace(p) for h in calls for p in h.promises)
        promises.sort(key=lambda p: (p.account, p.date or dt.date.min, p.call_id))
        return promises, repeated

    def resolve(self, view: AccountView, judged: Judged | None = None) -> list[Promise]:
        """Join recaps to the promise they restate, then give each promise its evidence, status
        and overdue flag: fresh copies, the view's promises stay unresolved. `judged`: the
        judge's reading of the view, when already computed."""
        t = self.judge.thresholds
        judged = judged or self.judge.judge(view)
        probs = judged.probabilities
        promises = [dataclasses.replace(p, evidence=[], mentions=[]) for p in view.promises]
        said_index = {s.utterance_id: j for j, s in enumerate(view.said)}
        joined_to: dict[int, int] = {}
        r = PAIR_LABELS.index(RESTATED)
        for k, later in enumerate(view.promises):
            j = said_index.get(later.utterance_id)
            if j is None:
                continue
            earlier = [i for i in range(k) if i not in joined_to and probs[i, j, r] >= t["restated"]]
            if earlier:
                first = max(earlier, key=lambda i: probs[i, j, r])
                joined_to[k] = first
                promises[first].mentions.append((later.call_id, later.text))
        mention_ids = {view.promises[k].utterance_id for k in joined_to}
        kept = []
        for i, promise in enumerate(promises):
            if i in joined_to:
                continue
            self._judge_one(view, i, promise, judged, mention_ids)
            kept.append(promise)
        return kept

    def _judge_one(self, view: AccountView, i: int, promise: Promise, judged: Judged, mention_ids: set[str]) -> None:
        """List the later moments the judge finds to show something about promise i, set its
        status from the status model and cite the moment that shows it best."""
        t = self.judge.thresholds
        later = np.array([j for j in np.flatnonzero(view.said_call > view.promise_call[i])
                          if view.said[j].utterance_id not in mention_ids], dtype=int)
        columns = [PAIR_LABELS.index(label) for label in OUTCOMES]
        shown = judged.probabilities[i][later][:, columns] if len(later) else np.zeros((0, len(OUTCOMES)))
        best = shown.argmax(axis=1)  # the first of OUTCOMES on a tie
        chance = shown[np.arange(len(later)), best]
        passing = chance >= np.array([t[label] for label in OUTCOMES])[best]
        promise.evidence = [self._evidence(view, judged, i, j, OUTCOMES[k], p)
                            for j, k, p in zip(later[passing], best[passing], chance[passing].tolist())]
        status = judged.status[i]
        promise.status = STATUSES[int(status.argmax())]
        if promise.status != OPEN and len(later):
            cited = [e for e in promise.evidence if e.shows == promise.status]
            if not cited:  # the status model weighed moments that are each below the listing threshold
                column = OUTCOMES.index(promise.status)
                j = int(later[shown[:, column].argmax()])
                cited = [self._evidence(view, judged, i, j, promise.status, float(shown[:, column].max()), clear=False)]
                order = {s.utterance_id: n for n, s in enumerate(view.said)}
                promise.evidence = sorted(promise.evidence + cited, key=lambda e: order[e.utterance_id])
            decisive = max(cited, key=lambda e: e.confidence)
            promise.evidence_call_id, promise.evidence_date = decisive.call_id, decisive.date
            promise.evidence_excerpt = f"{decisive.speaker}: {decisive.text}"
            verdict = ", ".join(f"{label} {p:.2f}" for label, p in zip(STATUSES, status.tolist()))
            promise.evidence_explanation = f"{decisive.explanation}; over all later moments: {verdict}"
        promise.overdue = promise.status != KEPT and view.due_passed(i)

    def _evidence(self, view: AccountView, judged: Judged, i: int, j: int, outcome: str, p: float,
                  clear: bool = True) -> Evidence:
        """One later moment as evidence for promise i. Not `clear`: below its listing threshold,
        cited only because the status model decided on weak moments; the explanation says so,
        lest a coach read "confirms it was done" into a line about something else."""
        said = view.said[j]
        call = view.calls[view.said_call[j]]
        related_p, related_s = view.related
        sim = float(related_p[i] @ related_s[j])
        cues = said.cues
        hedge = "" if clear else "no later moment clearly shows it; the closest: "
        why = (f"{hedge}{said.role} {'confirms it was done' if outcome == KEPT else 'says it did not happen or slipped' if outcome == BROKEN else 'says it is still in progress'}"
               f" (about this promise {judged.about[i, j]:.2f} x says so {judged.says[j, SHOWS.index(outcome)]:.2f}"
               f" = {p:.2f}; similarity {sim:.2f}{'; cue: ' + ', '.join(cues) if cues else ''})")
        return Evidence(call.call_id, call.date, said.utterance_id, said.speaker, said.role, said.text, outcome, round(p, 2), why)

    def repeats(self, view: AccountView, account: str) -> list[RepeatedMistake]:
        """Moments that tell of a mistake, paired across calls: a later call's moment and an
        earlier call's that are the same kind of mistake make a repeat (never within one call):
        both past the mistake threshold, and their same-kind probability past the repeat one.
        One flag per later call and earlier call, for the pair the models are surest of."""
        t = self.judge.thresholds
        kinds = self.kinds
        if not kinds or not len(view.said):
            return []
        profile = view.kind_profile(kinds)
        told = self.judge.tells_of_mistake(view, profile)
        moments = np.flatnonzero(told >= t["mistake"])
        best: dict[tuple[int, int], tuple[float, int, int, float]] = {}  # (call, earlier call) -> pair
        for j in moments:
            earlier = moments[view.said_call[moments] < view.said_call[j]]
            if not len(earlier):
                continue
            same = self.judge.same_kind(view.same_kind_inputs(profile, earlier, int(j)))
            for i, q in zip(earlier.tolist(), same.tolist()):
                score = float(told[i] * told[j] * q)
                pair = (int(view.said_call[j]), int(view.said_call[i]))
                if q >= t["repeat"] and (pair not in best or score > best[pair][0]):
                    best[pair] = (score, int(j), i, q)
        found = []
        for (c, c0), (score, j, i, q) in sorted(best.items()):
            said, first = view.said[j], view.calls[c0]
            kind = kinds[int(profile[j].argmax())].name
            found.append(RepeatedMistake(
                account, view.calls[c].call_id, said.utterance_id, kind, said.text,
                first.call_id, first.date, view.said[i].text, said.speaker, said.start, (said.turn, said.char_start),
                round(score, 2),
                f"tells of a mistake {told[j]:.2f}, the earlier moment {told[i]:.2f}, the same kind of mistake {q:.2f}",
            ))
        return found


def commitment_row(p: Promise) -> dict:
    """One commitments.csv row (columns.COMMITMENTS)."""
    return {
        "account": p.account, "call_id": p.call_id, "date": p.date, "salesperson": p.salesperson,
        "owner": p.owner, "action": p.action, "due": p.due, "due_phrase": p.due_phrase,
        "specificity": "specific" if p.specific else "vague", "status": p.status,
        "evidence_call_id": p.evidence_call_id, "evidence_date": p.evidence_date,
        "evidence_excerpt": p.evidence_excerpt, "evidence_explanation": p.evidence_explanation,
        "overdue": "yes" if p.overdue else "no",
        "evidence": " | ".join(f"{e.call_id} {e.role} ({e.shows}, {e.confidence:.2f}): {e.speaker}: {e.text}" for e in p.evidence),
        "mentions": " | ".join(f"{call_id}: {text}" for call_id, text in [(p.call_id, p.text or p.action), *p.mentions]),
    }
