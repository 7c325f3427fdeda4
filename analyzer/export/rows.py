"""Per-call output rows, built where the call is analysed (any process or node): the
annotations, the flagged excerpts and the call_scores row (columns.py names the columns)."""
from __future__ import annotations

import dataclasses
from typing import Any

from analyzer.model import Call, CallResult, Finding


def clock_time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _finding_record(finding: Finding) -> dict[str, Any]:
    record: dict[str, Any] = {
        "behavior": finding.behavior,
        "rule": finding.rule,
        "polarity": finding.polarity.value,
        "confidence": finding.confidence,
        "span": list(finding.span),
        "explanation": finding.explanation,
        "evidence": list(finding.evidence),
    }
    if finding.tactic:
        record["tactic"] = finding.tactic
    if finding.commitment:
        c = finding.commitment
        record["commitment"] = {
            "owner": c.owner, "action": c.action, "due": c.due.isoformat() if c.due else None,
            "due_phrase": c.due_phrase, "specific": c.specific,
        }
    return record


def _detail(finding: Finding) -> str:
    if finding.tactic:
        return finding.tactic
    if finding.commitment:
        c = finding.commitment
        due = c.due.isoformat() if c.due else c.due_phrase
        return f"{'specific' if c.specific else 'vague'}; due {due}" if due else "vague; no due date"
    return ""


def call_fields(call: Call) -> dict[str, Any]:
    meta = call.meta
    return {
        "call_id": meta.call_id,
        "file": call.source,
        "date": meta.date.isoformat() if meta.date else "",
        "salesperson": call.salesperson_name,
        "account": meta.account or "",
    }


def annotation_records(result: CallResult) -> list[dict[str, Any]]:
    parsed = result.parsed
    base = call_fields(parsed.call)
    by_utterance: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_utterance.setdefault(finding.utterance_id, []).append(finding)
    return [
        {
            **base,
            "utterance_id": u.id, "turn": u.turn, "speaker": u.speaker, "role": u.role.value,
            "start": u.start, "end": u.end, "char_start": u.char_start, "char_end": u.char_end,
            "text": u.text, "is_question": u.is_question, "responds_to": u.responds_to,
            "findings": [_finding_record(f) for f in by_utterance.get(u.id, [])],
        }
        for u in parsed.utterances
    ]


def flagged_rows(result: CallResult) -> list[dict[str, Any]]:
    parsed = result.parsed
    base = call_fields(parsed.call)
    rows = []
    for finding in result.findings:
        utterance = parsed.get(finding.utterance_id)
        answered = parsed.get(utterance.responds_to)
        rows.append({
            **base,
            "speaker": utterance.speaker,
            "start": clock_time(utterance.start),
            "_order": (utterance.turn, utterance.char_start),
            "_utterance": utterance.id,
            "rule": finding.rule,
            "behavior": finding.behavior,
            "polarity": finding.polarity.value,
            "confidence": f"{finding.confidence:.2f}",
            "detail": _detail(finding),
            "excerpt": utterance.text,
            "context": f"{answered.speaker}: {answered.text}" if answered else "",
            "explanation": finding.explanation,
        })
    return rows


def score_fields(scores) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for score in scores:
        row[f"{score.rule}_score"] = score.score
        row[f"{score.rule}_opportunities"] = score.opportunities
        row[f"{score.rule}_positive"] = score.positive
        row[f"{score.rule}_negative"] = score.negative
        row.update(dict(score.counts))
    return row


def call_score_row(result: CallResult) -> dict[str, Any]:
    parsed, call = result.parsed, result.parsed.call
    row: dict[str, Any] = {
        **call_fields(call),
        "format": call.format,
        "salesperson_speaker": call.salesperson.speaker,
        "salesperson_source": call.salesperson.source,
        "salesperson_confidence": f"{call.salesperson.confidence:.2f}",
        "speakers": "; ".join(call.speakers),
        "turns": len(call.turns),
        "utterances": len(parsed.utterances),
        "salesperson_utterances": len(parsed.salesperson_utterances()),
    }
    row.update(score_fields(result.scores))
    row["commitment_specific"] = sum(1 for f in result.findings if f.commitment and f.commitment.specific)
    row.update(dataclasses.asdict(result.metrics))
    row["repeated_mistakes"] = 0  # set across calls (export/ledger_rows.py)
    row["account_source"] = call.meta.account_source
    row["account_confidence"] = f"{call.meta.account_confidence:.2f}" if call.meta.account_confidence is not None else ""
    return row
