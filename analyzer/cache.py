"""Per-call results kept in `OUT/.cache/`, keyed by everything that decides them: the file's
bytes and path, its manifest row and options, the model and the settings. A call whose key
is there is not analysed again: an interrupted run continues where it stopped and ends with
the same outputs as an uninterrupted one, and a rerun over an unchanged folder only reads.
Entries are written whole (temporary file, then rename), so a kill mid-write leaves no
broken entry; a finished run keeps only its own entries, so the cache never outgrows the
folder."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer.ledger import CallHistory, Evidence, Promise, RepeatedMistake, Said
from analyzer.model import RuleScore, ScoredCall

CACHE_DIR = ".cache"
FOLDER_FACTS = "folder-facts"  # the identity pass's per-file facts, one entry for the folder


@dataclass
class CallRecord:
    """Everything a run keeps of one analysed call."""

    annotations: list[dict[str, Any]]
    flagged: list[dict[str, Any]]
    call_row: dict[str, Any]
    scored: ScoredCall
    history: dict[str, Any]  # the ledger's CallHistory as plain JSON values (history_record)
    warnings: list[tuple[str, str]]  # (code, detail)


def cache_key(data: bytes, relative: str, context: dict[str, Any]) -> str:
    digest = hashlib.sha256(data)
    digest.update(json.dumps({"file": relative, **context}, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _encode(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(type(value).__name__)


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's fields one level deep, in order. dataclasses.asdict deep-copies every
    nested list and dict, and on a call's ~600 utterances that copy was most of what keeping
    the call cost; json.dumps needs no copy."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def dump(record: CallRecord) -> str:
    # key order is output order; every field but `scored` already holds plain values
    return json.dumps({**_fields(record), "scored": dataclasses.asdict(record.scored)}, default=_encode)


def history_record(history: CallHistory) -> dict[str, Any]:
    """A CallHistory as plain JSON values (sets as sorted lists, dates as ISO strings)."""
    plain = {**_fields(history), "promises": [dataclasses.asdict(p) for p in history.promises],
             "said": [_fields(said) for said in history.said]}  # Said holds plain values only
    return json.loads(json.dumps(plain, default=_encode))


def history_from_record(history: dict[str, Any]) -> CallHistory:
    return CallHistory(
        history["account"], history["call_id"], _date(history["date"]), history["salesperson"],
        [Promise(**{**p, "date": _date(p["date"]), "due": _date(p["due"]), "evidence_date": _date(p["evidence_date"]),
                    "evidence": [], "mentions": []}) for p in history["promises"]],
        [Said(**s) for s in history["said"]],
        list(history["owned"]),
    )


def account_from_record(record: dict[str, Any]) -> tuple[list[Promise], list[RepeatedMistake]]:
    promises = [
        Promise(**{**p, "date": _date(p["date"]), "due": _date(p["due"]), "evidence_date": _date(p["evidence_date"]),
                   "evidence": [Evidence(**{**e, "date": _date(e["date"])}) for e in p["evidence"]],
                   "mentions": [tuple(m) for m in p["mentions"]]})
        for p in record["promises"]
    ]
    repeated = [RepeatedMistake(**{**r, "first_date": _date(r["first_date"]), "order": tuple(r["order"])})
                for r in record["repeated"]]
    return promises, repeated


def load(text: str) -> CallRecord:
    data = json.loads(text)
    scored = data["scored"]
    for row in data["flagged"]:
        row["_order"] = tuple(row["_order"])
    return CallRecord(
        annotations=data["annotations"],
        flagged=data["flagged"],
        call_row=data["call_row"],
        scored=ScoredCall(
            scored["call_id"], _date(scored["date"]), scored["salesperson"], scored["account"],
            tuple(RuleScore(**{**s, "counts": tuple(map(tuple, s["counts"]))}) for s in scored["scores"]),
        ),
        history=data["history"],
        warnings=[tuple(w) for w in data["warnings"]],
    )


class ResultCache:
    def __init__(self, out: Path) -> None:
        self.directory = out / CACHE_DIR

    def get(self, key: str) -> CallRecord | None:
        path = self.directory / f"{key}.json"
        try:
            return load(path.read_text("utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or unreadable: analyse again

    def put(self, key: str, record: CallRecord) -> None:
        self._write(key, dump(record))

    def get_account(self, key: str) -> tuple[list[Promise], list[RepeatedMistake]] | None:
        """An account's ledger result, judged by an earlier run from the same histories."""
        path = self.directory / f"{key}.json"
        try:
            return account_from_record(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or unreadable: judge again

    def put_account(self, key: str, promises: list[Promise], repeated: list[RepeatedMistake]) -> None:
        self._write(key, json.dumps({"promises": [dataclasses.asdict(p) for p in promises],
                                     "repeated": [dataclasses.asdict(r) for r in repeated]}, default=_encode))

    def get_facts(self) -> dict[str, dict]:
        """What the last run's identity pass found per file (ingest.folder_identities)."""
        try:
            return json.loads((self.directory / f"{FOLDER_FACTS}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}  # missing or unreadable: parse the files again

    def put_facts(self, facts: dict[str, dict]) -> None:
        self._write(FOLDER_FACTS, json.dumps(facts, sort_keys=True))

    def _write(self, key: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".entry-", dir=self.directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, self.directory / f"{key}.json")

    def keep_only(self, keys: set[str]) -> None:
        """Drop entries of files that changed or left the folder, and stray temporary files."""
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            if path.suffix != ".json" or path.stem not in keys:
                path.unlink(missing_ok=True)
