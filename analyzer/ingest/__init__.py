"""Readers per format -> one Call. `read_call` is the only entry point the pipeline uses."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

from analyzer.errors import InputError
from analyzer.ingest.common import RawTranscript
from analyzer.ingest.csvfile import CsvShapeError, read_csv
from analyzer.ingest.decode import decode
from analyzer.ingest.jsonfile import JsonShapeError, read_json
from analyzer.ingest.identity import FACTS_VERSION, CallFacts, Identity, call_facts, infer_identities
from analyzer.ingest.metadata import MANIFEST_NAME, Manifest, call_meta, resolve_salesperson, with_identity
from analyzer.ingest.subtitles import CueError, read_srt, read_webvtt
from analyzer.ingest.text import read_text
from analyzer.ingest.wordfile import DocxError, read_docx
from analyzer.model import Call, CallMeta, Turn

# extension -> (format name for messages, reader); a reader takes the decoded text, or the
# bytes for the formats in BINARY_FORMATS
READERS: dict[str, tuple[str, Callable[[str], RawTranscript] | Callable[[bytes], RawTranscript]]] = {
    ".txt": ("text", read_text),
    ".text": ("text", read_text),
    ".vtt": ("WebVTT", read_webvtt),
    ".srt": ("SRT", read_srt),
    ".json": ("JSON", read_json),
    ".csv": ("CSV", read_csv),
    ".tsv": ("CSV", read_csv),
    ".docx": ("Word .docx", read_docx),
}
BINARY_FORMATS = {".docx"}
DEFAULT_MAX_FILE_MB = 50.0
MAX_TURN_CHARS = 20_000  # ~3,500 words, ~25 minutes of one voice: longer turns are split


def discover(root: Path, manifest: Path | None = None, on_error: Callable[[InputError], None] | None = None) -> Iterator[Path]:
    """Every non-hidden file below `root`, sorted, without the manifest; survives link loops
    and reports folders it cannot read."""
    skip = {manifest.resolve()} if manifest else set()
    seen_dirs: set[tuple[int, int]] = set()

    def unreadable(err: OSError) -> None:
        if on_error:
            where = Path(err.filename).relative_to(root).as_posix() if err.filename else str(root)
            on_error(InputError(where, "E111", err.strerror or type(err).__name__))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unreadable):
        stat = os.stat(dirpath)
        if (stat.st_dev, stat.st_ino) in seen_dirs:
            dirnames[:] = []
            continue
        seen_dirs.add((stat.st_dev, stat.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or (name == MANIFEST_NAME and Path(dirpath) == root):
                continue
            if path.resolve() in skip:
                continue
            yield path


def read_bytes(path: Path, relative: str, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> bytes:
    """A transcript file's bytes: refused when its extension is not a transcript format, when
    it is larger than `max_file_mb`, or when it cannot be read."""
    if path.suffix.lower() not in READERS:
        raise InputError(relative, "E104", path.suffix or "(none)")
    try:
        size = path.stat().st_size
        if size > max_file_mb * 1024 * 1024:
            raise InputError(relative, "E110", f"{size / 1024 / 1024:.0f} MB > {max_file_mb:g} MB")
        return path.read_bytes()
    except OSError as err:
        raise InputError(relative, "E103", err.strerror or type(err).__name__) from None


def split_long_turns(turns: tuple[Turn, ...], limit: int = MAX_TURN_CHARS) -> tuple[tuple[Turn, ...], int]:
    """Cut turns over `limit` characters at whitespace into consecutive pieces of the same
    speaker, times interpolated, so no single text overwhelms the NLP pipeline."""
    result: list[Turn] = []
    split = 0
    for turn in turns:
        if len(turn.text) <= limit:
            result.append(turn)
            continue
        split += 1
        start = 0
        while start < len(turn.text):
            end = min(len(turn.text), start + limit)
            if end < len(turn.text):
                space = turn.text.rfind(" ", start, end)
                end = space if space > start else end
            piece = turn.text[start:end].strip()
            if piece:
                result.append(Turn(turn.speaker, piece, turn.time_at(start), turn.time_at(end)))
            start = end
    return tuple(result), split


def parse_call(
    path: Path,
    root: Path,
    manifest: Manifest | None = None,
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
    data: bytes | None = None,
) -> tuple[str, RawTranscript, CallMeta, bool, list[InputError]]:
    """A transcript's turns and metadata, before anyone decides who sells: (relative path,
    raw transcript, metadata, whether the manifest named the salesperson, warnings). Raises
    InputError saying what is wrong with the file."""
    relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    if data is None:
        data = read_bytes(path, relative, max_file_mb)
    format_name, read = READERS[path.suffix.lower()]
    if path.suffix.lower() in BINARY_FORMATS:
        if not data.strip():
            raise InputError(relative, "E101")
        content, warnings = data, []
    else:
        content, warnings = decode(relative, data)
    try:
        raw = read(content)
    except DocxError as err:
        raise InputError(relative, err.code, f"{format_name} ({err})") from None
    except json.JSONDecodeError as err:
        raise InputError(relative, "E105", f"JSON ({err.msg} at line {err.lineno})") from None
    except (JsonShapeError, CsvShapeError, CueError) as err:
        raise InputError(relative, "E105", f"{format_name}: {err}") from None
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError) as err:
        # a structure no export produces (a null where a cue or record belongs): the file's
        # problem, reported as such; the fuzz tests keep the readers honest about the rest
        raise InputError(relative, "E105", f"{format_name}: unexpected structure ({type(err).__name__})") from None
    if not raw.turns:
        raise InputError(relative, "E106", f"read as {format_name}")
    speakers = {t.speaker for t in raw.turns}
    if len(speakers) < 2:
        raise InputError(relative, "E107", next(iter(speakers)))
    turns, split = split_long_turns(raw.turns)
    if split:
        warnings.append(InputError(relative, "W206", str(split)))
    raw = dataclasses.replace(raw, turns=turns)
    if raw.skipped_lines:
        shown = ", ".join(map(str, raw.skipped_lines[:5])) + ("…" if len(raw.skipped_lines) > 5 else "")
        warnings.append(InputError(relative, "W205", f"{len(raw.skipped_lines)} (at {shown})"))
    entry = manifest.entry(relative) if manifest else {}
    meta = call_meta(relative, raw, entry, warnings)
    return relative, raw, meta, bool(entry.get("salesperson") or entry.get("salesperson_speaker")), warnings


def read_facts(
    path: Path, root: Path, manifest: Manifest | None = None, max_file_mb: float = DEFAULT_MAX_FILE_MB,
    data: bytes | None = None,
) -> CallFacts:
    """What a file tells the folder-level identity pass (identity.py); raises InputError like
    read_call, whose run reports it."""
    relative, raw, meta, from_manifest, _ = parse_call(path, root, manifest, max_file_mb, data)
    given_by = "manifest" if manifest and manifest.entry(relative) else ("metadata" if raw.metadata else "")
    return call_facts(relative, raw.turns, meta, given_by)


def read_call(
    path: Path,
    root: Path,
    manifest: Manifest | None = None,
    reps: tuple[str, ...] = (),
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
    data: bytes | None = None,
    identity: Identity | None = None,
) -> tuple[Call, list[InputError]]:
    """Read one transcript into a Call, or raise InputError saying what is wrong with it.
    `data` is the file's content when the caller has already read it (read_bytes);
    `identity` is what the folder-level pass decided for it (identity.py), if it ran."""
    relative, raw, meta, from_manifest, warnings = parse_call(path, root, manifest, max_file_mb, data)
    resolution = resolve_salesperson(relative, raw.turns, meta, reps, from_manifest, identity)
    if identity:
        meta = with_identity(meta, identity, resolution)
    if resolution.source == "inferred":
        warnings.append(InputError(relative, "W202", f"{resolution.speaker} (confidence {resolution.confidence:.2f})"))
    return Call(relative, raw.format, meta, raw.turns, resolution), warnings


def folder_identities(
    files: list[Path], root: Path, manifest: Manifest | None = None, reps: tuple[str, ...] = (),
    max_file_mb: float = DEFAULT_MAX_FILE_MB, known: dict[str, dict] | None = None,
) -> tuple[dict[str, Identity], dict[str, dict]]:
    """The folder-level pass: who sells and which account, per file (relative path). Reads
    one file at a time and keeps only its CallFacts; a file it cannot read is skipped here
    and reported by the main pass. `known` holds the facts an earlier run found, by
    `facts_key`: a file whose key is there is not parsed again. Also returns this run's
    facts by key, for the next run."""
    facts: dict[str, dict] = {}
    known = known or {}
    release = version("loyalty-analyzer")  # a metadata lookup: once, not per file
    for path in files:
        relative = path.relative_to(root).as_posix()
        try:
            data = read_bytes(path, relative, max_file_mb)
            key = facts_key(data, relative, manifest.entry(relative) if manifest else {}, release)
            facts[key] = known.get(key) or read_facts(path, root, manifest, max_file_mb, data).as_record()
        except Exception:  # noqa: BLE001 - the main pass reports this file's problem
            continue
    return infer_identities([CallFacts.from_record(record) for record in facts.values()], reps), facts


def facts_key(data: bytes, relative: str, entry: dict[str, str], release: str) -> str:
    """What decides a file's CallFacts: its bytes, its path, its manifest row, the release and
    the rules that read them (FACTS_VERSION)."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps({"file": relative, "manifest": entry, "version": release, "facts": FACTS_VERSION},
                             sort_keys=True).encode())
    return digest.hexdigest()
