"""What the cross-call ledger changes in the tables: commitment outcomes (commitments.csv,
the report's ledger), repeated mistakes (extra flagged rows) and the R2 / R3 scores of the
calls they touch. Runs once per run, account by account, in the process that writes."""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.cache import ResultCache, cache_key, history_from_record
from analyzer.export import report
from analyzer.export.rows import clock_time, score_fields
from analyzer.export.spool import CallSpool
from analyzer.ledger import Ledger, RepeatedMistake, commitment_row, later_calls
from analyzer.model import ScoredCall
from analyzer.score import with_ledger


@dataclass
class LedgerOutcome:
    """What the cross-call ledger changes: commitment outcomes and repeated mistakes, folded
    into the R2 / R3 scores of `changed` calls and flagged as `repeated_mistake` rows. The
    commitments themselves wait in `commitments` (one block per account, in order);
    `report` keeps their counts and the few the report shows."""

    commitments: CallSpool
    report: report.LedgerView
    changed: dict[str, int] = field(default_factory=dict)  # call id -> repeated mistakes
    repeated: dict[str, list[RepeatedMistake]] = field(default_factory=dict)  # per call id
    cache_keys: set[str] = field(default_factory=set)  # the accounts' entries in the result cache

    def flagged_with_repeats(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One call's flagged rows plus a `repeated_mistake` row for each repeat, in call order."""
        if not rows or rows[0]["call_id"] not in self.repeated:
            return rows
        call = {name: rows[0][name] for name in ("call_id", "file", "date", "salesperson", "account")}
        extra = []
        for mistake in self.repeated[rows[0]["call_id"]]:
            first = f"{mistake.first_call_id} ({mistake.first_date})" if mistake.first_date else mistake.first_call_id
            extra.append({
                **call, "speaker": mistake.speaker, "start": clock_time(mistake.start),
                "_order": tuple(mistake.order), "_utterance": mistake.utterance_id,
                "rule": "R3", "behavior": "repeated_mistake", "polarity": "-",
                "confidence": f"{mistake.confidence:.2f}", "detail": mistake.kind,
                "excerpt": mistake.excerpt, "context": "",
                "explanation": f"the same kind of mistake ({mistake.kind}) as in call {first} for this account: "
                               f"\"{mistake.first_excerpt}\" ({mistake.explanation})",
            })
        return sorted(rows + extra, key=lambda r: tuple(r["_order"]))

    def call_row(self, row: dict[str, Any], scored: dict[str, ScoredCall]) -> dict[str, Any]:
        """A call_scores row with the ledger's scores, when the ledger changed them."""
        if row["call_id"] not in self.changed:
            return row
        return {**row, **score_fields(scored[row["call_id"]].scores), "repeated_mistakes": self.changed[row["call_id"]]}


def apply_ledger(histories: CallSpool, scored: list[ScoredCall], staging: Path, ledger: Ledger,
                 cache: ResultCache | None = None, context: dict[str, Any] | None = None) -> LedgerOutcome:
    """The ledger, one account at a time from the spooled histories: memory holds one
    account's calls, not every call's commitments. An account whose histories, judge and run
    `context` an earlier run already judged comes from `cache` (its key in `cache_keys`)."""
    positions: dict[str, list[int]] = {}
    for index, call in enumerate(scored):
        positions.setdefault(call.call_id, []).append(index)
    outcome = LedgerOutcome(CallSpool(staging), report.LedgerView())
    for key, records in histories.read_groups():
        # the calls' cache keys decide their histories: hashing them is enough, and cheap
        calls = json.dumps([record["key"] for record in records]).encode()
        entry = "account-" + cache_key(calls, "", {**(context or {}), "judge": ledger.identity})
        found = cache.get_account(entry) if cache else None
        group = [history_from_record(record["history"]) for record in records]
        promises, repeated = found if found else ledger.build(group)
        if cache and not found:
            cache.put_account(entry, promises, repeated)
        outcome.cache_keys.add(entry)
        judged = later_calls(group)
        statuses: dict[str, list[str]] = {}
        for promise in promises:
            if promise.call_id in judged:
                statuses.setdefault(promise.call_id, []).append(promise.status)
        repeats = Counter(r.call_id for r in repeated)
        for mistake in repeated:
            outcome.repeated.setdefault(mistake.call_id, []).append(mistake)
        for call_id in {h.call_id for h in group}:
            if call_id in statuses or repeats[call_id]:
                for index in positions.get(call_id, []):
                    scores = with_ledger(scored[index].scores, statuses.get(call_id, []), repeats[call_id])
                    scored[index] = dataclasses.replace(scored[index], scores=scores)
                outcome.changed[call_id] = repeats[call_id]
        outcome.commitments.add(key, [commitment_row(p) for p in promises])
        for promise in promises:
            outcome.report.add(promise)
    return outcome
