"""JSON: the generic schema documented in the README, AWS Transcribe job output, and the
utterance lists of Deepgram and AssemblyAI."""
from __future__ import annotations

import json
from typing import Any

from analyzer.ingest.common import RawTranscript, TurnBuilder, find_fields, parse_time, squash

_LIST_KEYS = ("utterances", "turns", "segments", "transcript", "entries", "messages", "conversation")
_META_KEYS = {
    "callid": "call_id", "id": "call_id", "date": "date", "calldate": "date", "startedat": "date",
    "salesperson": "salesperson", "rep": "salesperson", "salesrep": "salesperson", "agent": "salesperson",
    "account": "account", "customer": "account", "company": "account",
    "salespersonspeaker": "salesperson_speaker", "repspeaker": "salesperson_speaker",
}


class JsonShapeError(ValueError):
    """Valid JSON, but not a transcript shape we know."""


def read_json(text: str) -> RawTranscript:
    data = json.loads(text)  # json.JSONDecodeError is reported by the caller
    if isinstance(data, dict) and isinstance(data.get("results"), dict) and "items" in data["results"]:
        return _aws(data["results"])
    if isinstance(data, dict) and isinstance(data.get("results"), dict) and "utterances" in data["results"]:
        return _records(data["results"]["utterances"], {}, "deepgram", lambda s: f"Speaker {s}")
    if isinstance(data, dict) and "utterances" in data and "audio_duration" in data:
        return _records(data["utterances"], {}, "assemblyai", lambda s: f"Speaker {s}", time_scale=0.001)
    if isinstance(data, list):
        return _records(data, {}, "json")
    if isinstance(data, dict):
        for key, value in data.items():
            if squash(key) in _LIST_KEYS and isinstance(value, list):
                return _records(value, _metadata(data), "json")
    raise JsonShapeError("no list of {speaker, text, start, end} records")


def _metadata(data: dict[str, Any]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            meta[_META_KEYS.get(squash(key), key)] = str(value)
    return meta


def _records(records: list[Any], meta: dict[str, str], fmt: str, name=str, time_scale: float = 1.0) -> RawTranscript:
    builder = TurnBuilder()
    skipped: list[int] = []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            skipped.append(number)
            continue
        fields = find_fields(list(record))
        speaker, text = record.get(fields.get("speaker", "")), record.get(fields.get("text", ""))
        if speaker is None or not isinstance(text, str):
            skipped.append(number)
            continue
        try:
            start = parse_time(record.get(fields.get("start", "")))
            end = parse_time(record.get(fields.get("end", "")))
        except ValueError:
            start = end = None
        builder.add(
            name(speaker),
            text,
            start * time_scale if start is not None else None,
            end * time_scale if end is not None else None,
        )
    return RawTranscript(fmt, builder.build(), meta, tuple(skipped))


def _aws(results: dict[str, Any]) -> RawTranscript:
    """AWS Transcribe: words in `items`, speakers in `speaker_labels` (or channels)."""
    speaker_at: dict[str, str] = {}
    for group_key, label_key in (("speaker_labels", "speaker_label"), ("channel_labels", "channel_label")):
        group = results.get(group_key) or {}
        for segment in group.get("segments", group.get("channels", [])):
            for item in segment.get("items", []):
                if "start_time" in item:
                    speaker_at[item["start_time"]] = item.get(label_key) or segment.get(label_key)
    builder = TurnBuilder()
    words: list[str] = []
    speaker: str | None = None
    start = end = None
    for item in results.get("items", []):
        content = (item.get("alternatives") or [{}])[0].get("content", "")
        if item.get("type") == "punctuation":
            if words:
                words[-1] += content
            continue
        who = item.get("speaker_label") or speaker_at.get(item.get("start_time", "")) or speaker
        if who != speaker and words:
            builder.add(speaker, " ".join(words), start, end)
            words, start = [], None
        speaker = who
        start = start if start is not None else parse_time(item.get("start_time"))
        end = parse_time(item.get("end_time"))
        words.append(content)
    if words and speaker:
        builder.add(speaker, " ".join(words), start, end)
    if speaker is None and results.get("items"):
        raise JsonShapeError("AWS Transcribe output without speaker or channel labels")
    return RawTranscript("aws-transcribe", builder.build())
