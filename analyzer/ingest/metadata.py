"""Call metadata (manifest, file, command line) and which speaker is the salesperson."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.errors import InputError
from analyzer.ingest.common import RawTranscript, squash
from analyzer.ingest.csvfile import sniff_dialect
from analyzer.ingest.decode import decode
from analyzer.ingest.identity import Identity, name_matches, ranked_confidence, speaker_evidence
from analyzer.model import CallMeta, SalespersonResolution, Turn

MANIFEST_NAME = "manifest.csv"
_CORE = ("call_id", "date", "salesperson", "account", "salesperson_speaker")
_ISO_IN_NAME = re.compile(r"(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})")


@dataclass(frozen=True)
class Manifest:
    """Rows of manifest.csv keyed by the transcript path relative to the analysed folder."""

    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def load(cls, path: Path, root: Path) -> "Manifest":
        try:
            text, _ = decode(str(path), path.read_bytes())
        except OSError as err:
            raise InputError(str(path), "E109", err.strerror or "unreadable") from None
        reader = csv.DictReader(io.StringIO(text), dialect=sniff_dialect(text))
        header = {squash(h): h for h in reader.fieldnames or []}
        if "file" not in header or not any(squash(c) in header for c in _CORE):
            raise InputError(str(path), "E109", f"header {reader.fieldnames}")
        rows: dict[str, dict[str, str]] = {}
        for row in reader:
            values = {_canonical(k): (v or "").strip() for k, v in row.items() if k}
            name = values.pop("file", "")
            if name:
                full = (path.parent / name).resolve()
                key = _relative(full, root)
                rows[key] = values
        return cls(rows, str(path))

    def entry(self, relative_path: str) -> dict[str, str]:
        return self.rows.get(relative_path, {})


def _canonical(key: str) -> str:
    squashed = squash(key)
    for core in ("file",) + _CORE:
        if squash(core) == squashed:
            return core
    return key.strip()


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def parse_date(value: str | None) -> dt.date | None:
    """ISO dates and datetimes ('2026-09-03', '2026-09-03T14:00:00Z', '2026/09/03')."""
    if not value:
        return None
    text = value.strip().replace("/", "-").replace("Z", "+00:00")
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    match = _ISO_IN_NAME.fullmatch(text)
    if match:
        try:
            return dt.date(*map(int, match.groups()))
        except ValueError:
            return None
    raise ValueError(value)


def date_from_name(name: str) -> dt.date | None:
    match = _ISO_IN_NAME.search(name)
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def call_meta(path: str, raw: RawTranscript, entry: dict[str, str], warnings: list[InputError]) -> CallMeta:
    """Merge metadata: the manifest row wins over the file's own, which wins over the name."""
    merged = {**raw.metadata, **{k: v for k, v in entry.items() if v}}
    date = None
    try:
        date = parse_date(merged.get("date"))
    except ValueError:
        warnings.append(InputError(path, "W204", merged.get("date", "")))
    date = date or date_from_name(Path(path).name)
    extra = tuple(sorted((k, v) for k, v in merged.items() if k not in _CORE))
    return CallMeta(
        call_id=merged.get("call_id") or Path(path).stem,
        date=date,
        salesperson=merged.get("salesperson") or None,
        account=merged.get("account") or None,
        salesperson_speaker=merged.get("salesperson_speaker") or None,
        extra=extra,
        account_source=("manifest" if entry.get("account") else "metadata") if merged.get("account") else "",
        account_confidence=1.0 if merged.get("account") else None,
    )


# --- who is the salesperson -----------------------------------------------------------

def infer_salesperson(turns: tuple[Turn, ...]) -> SalespersonResolution:
    """One call alone (no folder to compare with): the speaker with the most seller cues
    (identity.SELLER_CUES), with a confidence from the margin over the runner-up."""
    scores = speaker_evidence(turns)
    order = list(dict.fromkeys(t.speaker for t in turns))
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    return SalespersonResolution(best, "inferred", ranked_confidence(best_score, runner_up))


def resolve_salesperson(
    path: str, turns: tuple[Turn, ...], meta: CallMeta, reps: tuple[str, ...], from_manifest: bool,
    identity: Identity | None = None,
) -> SalespersonResolution:
    """The manifest's or file's salesperson_speaker, else the speaker named as salesperson,
    else a --rep name, else the folder-level decision (identity.py), else this call alone."""
    speakers = list(dict.fromkeys(t.speaker for t in turns))
    if meta.salesperson_speaker:
        matches = [s for s in speakers if name_matches(s, meta.salesperson_speaker)]
        if not matches:
            raise InputError(path, "E108", meta.salesperson_speaker)
        return SalespersonResolution(matches[0], "manifest" if from_manifest else "metadata", 1.0)
    if meta.salesperson:
        matches = [s for s in speakers if name_matches(s, meta.salesperson)]
        if len(matches) == 1:
            return SalespersonResolution(matches[0], "manifest" if from_manifest else "metadata", 1.0)
    matches = [s for s in speakers if any(name_matches(s, rep) for rep in reps)]
    if len(matches) == 1:
        return SalespersonResolution(matches[0], "option", 1.0)
    if identity and identity.speaker in speakers:
        return SalespersonResolution(identity.speaker, identity.source, identity.confidence)
    return infer_salesperson(turns)


def with_identity(meta: CallMeta, identity: Identity, resolution: SalespersonResolution) -> CallMeta:
    """The call's metadata with the folder's canonical salesperson name (one person, one
    name across files) and, when neither manifest nor file named it, the inferred account."""
    salesperson = meta.salesperson
    if identity.salesperson and (meta.salesperson or resolution.speaker == identity.speaker):
        salesperson = identity.salesperson
    if meta.account:
        return dataclasses.replace(meta, salesperson=salesperson)
    return dataclasses.replace(
        meta, salesperson=salesperson, account=identity.account,
        account_source=identity.account_source if identity.account else "",
        account_confidence=identity.account_confidence if identity.account else None,
    )
