"""Across the calls of one account, in date order: what became of each commitment (kept,
broken or open) and which kinds of mistake came back.

Whether a commitment was kept shows only in later calls. A follow-up moment ("as promised,
here is…", "I never got it", "it came on the 6th") is matched to the earlier commitment it
talks about by the words they share ("integration doc", "quote", "report"), looking at the
follow-up utterance and its neighbours, because people say "the integration doc … I never
got it" across two sentences. Both the cue and the link are named in the evidence."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from analyzer.detect import patterns as pattern_data
from analyzer.model import CallResult, Role

KEPT, BROKEN, OPEN = "kept", "broken", "open"
WINDOW = 2  # utterances either side of a follow-up cue that may name the thing promised
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


def topic_words(text: str) -> set[str]:
    return {w.strip("'-") for w in _WORD.findall(text.lower()) if w not in _STOP}


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
    topic: set[str]
    status: str = OPEN
    evidence_call_id: str = ""
    evidence_date: dt.date | None = None
    evidence_excerpt: str = ""
    evidence_explanation: str = ""


@dataclass
class FollowUp:
    outcome: str       # KEPT or BROKEN
    speaker: str
    text: str
    explanation: str
    own_topic: set[str]   # words of the follow-up utterance itself
    topic: set[str]       # words of it and its neighbours


@dataclass
class Mistake:
    kind: str          # pricing, delivery, ...
    utterance_id: str
    excerpt: str


@dataclass
class CallHistory:
    """What the ledger needs of one call; small, so a run can keep one per call."""

    account: str | None
    call_id: str
    date: dt.date | None
    salesperson: str
    promises: list[Promise] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)


def history_of(result: CallResult) -> CallHistory:
    parsed = result.parsed
    call = parsed.call
    account = call.meta.account
    history = CallHistory(account, call.meta.call_id, call.meta.date, call.salesperson_name)
    for finding in result.findings:
        if finding.commitment:
            c = finding.commitment
            history.promises.append(Promise(
                account or call.meta.call_id, call.meta.call_id, call.meta.date, call.salesperson_name,
                c.owner, c.action, c.due, c.due_phrase, c.specific, topic_words(c.action),
            ))
    utterances = parsed.utterances
    followup_patterns = pattern_data.load("followup")
    for index, utterance in enumerate(utterances):
        if utterance.is_backchannel:
            continue
        matches = [m for m in pattern_data.find(followup_patterns, utterance.text) if m.pattern.kind == "signal"]
        if not matches:
            continue
        best = max(matches, key=lambda m: m.pattern.weight)
        window = utterances[max(0, index - WINDOW): index + WINDOW + 1]
        history.follow_ups.append(FollowUp(
            best.pattern.tag, utterance.speaker, utterance.text,
            f"{best.pattern.explain} ({'salesperson' if utterance.role is Role.SALESPERSON else 'customer'})",
            topic_words(utterance.text),
            set().union(*(topic_words(u.text) for u in window)),
        ))
    kinds = pattern_data.load("mistake_kinds")
    for finding in result.findings:
        if finding.behavior not in ("ownership", "blame_shifting"):
            continue
        utterance = parsed.get(finding.utterance_id)
        context = " ".join(u.text for u in parsed.customer_before(utterance, 2))
        found = pattern_data.find(kinds, f"{context} {utterance.text}")
        if found:
            history.mistakes.append(Mistake(found[0].pattern.name, utterance.id, utterance.text))
    return history


@dataclass(frozen=True)
class RepeatedMistake:
    account: str
    call_id: str
    utterance_id: str
    kind: str
    excerpt: str
    first_call_id: str
    first_date: dt.date | None


def build_ledger(histories: list[CallHistory]) -> tuple[list[Promise], list[RepeatedMistake]]:
    """Resolve every commitment against the later calls of its account; find mistakes whose
    kind the account has seen before."""
    by_account: dict[str, list[CallHistory]] = defaultdict(list)
    for history in histories:
        by_account[history.account or history.call_id].append(history)
    promises: list[Promise] = []
    repeated: list[RepeatedMistake] = []
    for account, calls in by_account.items():
        calls.sort(key=lambda h: (h.date or dt.date.min, h.call_id))
        open_promises: list[Promise] = []
        seen_kinds: dict[str, CallHistory] = {}
        for history in calls:
            for follow_up in history.follow_ups:
                promise = _best_match(open_promises, follow_up)
                if promise is not None:
                    promise.status = follow_up.outcome
                    promise.evidence_call_id = history.call_id
                    promise.evidence_date = history.date
                    promise.evidence_excerpt = f"{follow_up.speaker}: {follow_up.text}"
                    shared = ", ".join(sorted(promise.topic & follow_up.topic)[:4])
                    promise.evidence_explanation = f"{follow_up.explanation}; about: {shared}"
                    open_promises.remove(promise)
            for mistake in history.mistakes:
                first = seen_kinds.get(mistake.kind)
                if first is not None:
                    repeated.append(RepeatedMistake(account, history.call_id, mistake.utterance_id, mistake.kind,
                                                    mistake.excerpt, first.call_id, first.date))
                else:
                    seen_kinds[mistake.kind] = history
            fresh = [dataclasses.replace(p) for p in history.promises]  # the inputs stay unresolved
            promises.extend(fresh)
            open_promises.extend(fresh)
    promises.sort(key=lambda p: (p.account, p.date or dt.date.min, p.call_id))
    return promises, repeated


def _best_match(candidates: list[Promise], follow_up: FollowUp) -> Promise | None:
    """The earlier open commitment sharing the most topic words (at least one), words of the
    follow-up utterance itself counting double; oldest first on ties."""
    scored = [
        (2 * len(p.topic & follow_up.own_topic) + len(p.topic & follow_up.topic), -i, p)
        for i, p in enumerate(candidates)
    ]
    scored = [s for s in scored if s[0] >= 1]
    return max(scored, key=lambda s: (s[0], s[1]))[2] if scored else None


def later_calls(histories: list[CallHistory]) -> set[str]:
    """Call ids that have a later call of the same account: their commitments can be judged."""
    by_account: dict[str, list[CallHistory]] = defaultdict(list)
    for history in histories:
        if history.account:
            by_account[history.account].append(history)
    judged = set()
    for calls in by_account.values():
        calls.sort(key=lambda h: (h.date or dt.date.min, h.call_id))
        judged.update(h.call_id for h in calls[:-1])
    return judged
