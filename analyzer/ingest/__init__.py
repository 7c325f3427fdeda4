"""Readers per format -> one Call. `read_call` is the only entry point the pipeline uses."""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from analyzer.errors import InputError
from analyzer.ingest.common import RawTranscript
from analyzer.ingest.csvfile import CsvShapeError, read_csv
from analyzer.ingest.decode import decode
from analyzer.ingest.jsonfile import JsonShapeError, read_json
from analyzer.ingest.metadata import MANIFEST_NAME, Manifest, call_meta, resolve_salesperson
from analyzer.ingest.subtitles import CueError, read_srt, read_webvtt
from analyzer.ingest.text import read_text
from analyzer.model import Call

# extension -> (format name for messages, reader)
READERS: dict[str, tuple[str, Callable[[str], RawTranscript]]] = {
    ".txt": ("text", read_text),
    ".text": ("text", read_text),
    ".vtt": ("WebVTT", read_webvtt),
    ".srt": ("SRT", read_srt),
    ".json": ("JSON", read_json),
    ".csv": ("CSV", read_csv),
    ".tsv": ("CSV", read_csv),
}
DEFAULT_MAX_FILE_MB = 50.0


def discover(root: Path, manifest: Path | None = None) -> Iterator[Path]:
    """Every non-hidden file below `root`, sorted, without the manifest; survives link loops."""
    skip = {manifest.resolve()} if manifest else set()
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=lambda err: None):
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


def read_call(
    path: Path,
    root: Path,
    manifest: Manifest | None = None,
    reps: tuple[str, ...] = (),
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
) -> tuple[Call, list[InputError]]:
    """Read one transcript into a Call, or raise InputError saying what is wrong with it."""
    relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(relative, "E104", path.suffix or "(none)")
    format_name, read = reader
    try:
        size = path.stat().st_size
        if size > max_file_mb * 1024 * 1024:
            raise InputError(relative, "E110", f"{size / 1024 / 1024:.0f} MB > {max_file_mb:g} MB")
        data = path.read_bytes()
    except OSError as err:
        raise InputError(relative, "E103", err.strerror or type(err).__name__) from None
    text, warnings = decode(relative, data)
    try:
        raw = read(text)
    except json.JSONDecodeError as err:
        raise InputError(relative, "E105", f"JSON ({err.msg} at line {err.lineno})") from None
    except (JsonShapeError, CsvShapeError, CueError) as err:
        raise InputError(relative, "E105", f"{format_name}: {err}") from None
    if not raw.turns:
        raise InputError(relative, "E106", f"read as {format_name}")
    speakers = {t.speaker for t in raw.turns}
    if len(speakers) < 2:
        raise InputError(relative, "E107", next(iter(speakers)))
    if raw.skipped_lines:
        shown = ", ".join(map(str, raw.skipped_lines[:5])) + ("…" if len(raw.skipped_lines) > 5 else "")
        warnings.append(InputError(relative, "W205", f"{len(raw.skipped_lines)} (at {shown})"))
    entry = manifest.entry(relative) if manifest else {}
    meta = call_meta(relative, raw, entry, warnings)
    resolution = resolve_salesperson(
        relative, raw.turns, meta, reps, from_manifest=bool(entry.get("salesperson") or entry.get("salesperson_speaker"))
    )
    if resolution.source == "inferred":
        warnings.append(InputError(relative, "W202", f"{resolution.speaker} (confidence {resolution.confidence:.2f})"))
    return Call(relative, raw.format, meta, raw.turns, resolution), warnings
