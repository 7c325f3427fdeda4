"""Output writers. A run writes every file into a staging folder inside the output folder
and moves them into place only when all are complete (`staged_outputs`), so an interrupted
or failed run never leaves a half-written file and earlier outputs stay intact. Tables are
CSV, and with --parquet also Parquet (tables.py) from the same cells."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from analyzer.errors import OutputError
from analyzer.export.columns import TABLES


@contextmanager
def staged_outputs(out: Path, stale: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into `out` and remove the `stale`
    files of an earlier run that this run does not write; always remove the staging folder.
    A staging folder left by a killed run (one run per output folder at a time) is removed."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        for left in out.glob(".staging-*"):
            shutil.rmtree(left, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    except OSError as err:
        raise OutputError(f"cannot write in the output folder {out}: {err.strerror}") from None
    try:
        yield staging
        written = sorted(staging.iterdir())
        for path in written:
            os.replace(path, out / path.name)
        for name in sorted(set(stale) - {path.name for path in written}):
            (out / name).unlink(missing_ok=True)
    except OSError as err:
        raise OutputError(f"cannot write {out}: {err.strerror}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def open_output(path: Path) -> Iterator[IO[str]]:
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            yield handle
    except OSError as err:
        raise OutputError(f"cannot write {path.name}: {err.strerror}") from None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def neutralise(text: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading
    apostrophe, which spreadsheets take as "this is text" and do not show. Numbers and the
    lone polarity signs "+" / "-" cannot run and stay as they are."""
    if text.startswith(_FORMULA_START) and text not in ("+", "-") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e6 else f"{value:.0f}"
    return neutralise(str(value))


def write_csv(path: Path, columns: list[str], rows: Iterable[Mapping[str, Any]], bom: bool = False,
              sink: Callable[[list[str]], None] | None = None) -> None:
    """RFC 4180 CSV (CRLF, quotes doubled, fields with newlines quoted); `bom` prefixes a UTF-8
    byte-order mark so Excel opens accented text correctly. `sink` also gets each row's cells."""
    with open_output(path) as handle:
        if bom:
            handle.write("\ufeff")
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            cells = [cell(row.get(c)) for c in columns]
            writer.writerow(cells)
            if sink:
                sink(cells)


def write_table(folder: Path, name: str, rows: Iterable[Mapping[str, Any]], bom: bool = False,
                parquet: bool = False) -> None:
    """A table of columns.TABLES as `name`.csv, and with `parquet` also `name`.parquet holding
    the same cells typed, both from one pass over `rows`."""
    columns = TABLES[name]
    if not parquet:
        write_csv(folder / f"{name}.csv", columns, rows, bom)
        return
    from analyzer.export.tables import ParquetSink  # pandas and pyarrow only when asked for

    sink = ParquetSink(folder / f"{name}.parquet", name)
    write_csv(folder / f"{name}.csv", columns, rows, bom, sink.add)
    sink.close()


def json_line(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=False, default=str) + "\n"
