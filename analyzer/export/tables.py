"""The output tables as typed pandas frames: the dtypes come from the column kinds in
columns.py, so a table read back from its CSV, from its Parquet file, or computed in the
run (the aggregates) has the same dtypes. Parquet files hold what the CSV cells hold, typed
(text keeps the apostrophe a CSV cell got against spreadsheet formulas), so the two load
into equal frames. Imported only where frames are needed: pandas with pyarrow is ~100 MB
of memory that analysis workers do not carry."""
from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analyzer.errors import OutputError
from analyzer.export.columns import KINDS, TABLES

DTYPES = {
    "text": "string", "category": "category", "date": "datetime64[s]", "duration": "timedelta64[s]",
    "int": "Int64", "float": "float64",
}
ARROW_TYPES = {
    "text": pa.string(), "category": pa.string(), "date": pa.date32(), "duration": pa.duration("s"),
    "int": pa.int64(), "float": pa.float64(),
}
PARQUET_ROWS = 5_000  # rows converted and written at a time: memory holds one chunk (a few MB)


def dtypes(name: str) -> dict[str, str]:
    """Column -> pandas dtype for a table (a key of columns.TABLES)."""
    return {column: DTYPES[KINDS[column]] for column in TABLES[name]}


def arrow_schema(name: str) -> pa.Schema:
    return pa.schema([(column, ARROW_TYPES[KINDS[column]]) for column in TABLES[name]])


def _typed_column(series: pd.Series, kind: str) -> pd.Series:
    if pd.api.types.is_string_dtype(series) or series.dtype == object:
        series = series.astype("string").replace("", pd.NA)  # as written in a CSV cell: empty is missing
        if kind == "date":
            series = pd.to_datetime(series, format="%Y-%m-%d")
        elif kind == "duration":
            series = pd.to_timedelta(series)
        elif kind in ("int", "float"):
            series = pd.to_numeric(series)
    return series.astype(DTYPES[kind])


def typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """`frame` (CSV cell strings, Parquet values or computed values) with the table's columns,
    in order, and their declared dtypes."""
    columns = {column: _typed_column(frame[column], KINDS[column]) for column in TABLES[name]}
    return pd.DataFrame(columns).reset_index(drop=True)


def python_round(values: pd.Series, digits: int) -> pd.Series:
    """Python's round (to the nearest decimal of the float's exact value), not numpy's
    scale-and-rint, which can land on the other side of a half: written digits stay as they were."""
    return values.map(functools.partial(round, ndigits=digits))


def records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Rows as plain Python values for the CSV writer: missing as None, dates as YYYY-MM-DD."""
    plain = frame.copy()
    for column in plain.columns:
        if pd.api.types.is_datetime64_any_dtype(plain[column]):
            plain[column] = plain[column].dt.strftime("%Y-%m-%d")
    plain = plain.astype(object).where(plain.notna(), None)
    return iter(plain.to_dict("records"))


class ParquetSink:
    """A table's Parquet file, fed the same cells as its CSV, PARQUET_ROWS at a time."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self.schema = arrow_schema(name)
        self.pending: list[list[str]] = []
        try:
            self.writer = pq.ParquetWriter(path, self.schema)
        except OSError as err:
            raise OutputError(f"cannot write {path.name}: {err}") from None

    def add(self, cells: list[str]) -> None:
        self.pending.append(cells)
        if len(self.pending) >= PARQUET_ROWS:
            self._flush()

    def _flush(self) -> None:
        frame = typed(pd.DataFrame(self.pending, columns=TABLES[self.name], dtype="string"), self.name)
        self.pending = []
        try:
            self.writer.write_table(pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False))
        except OSError as err:
            raise OutputError(f"cannot write {self.path.name}: {err}") from None

    def close(self) -> None:
        if self.pending:
            self._flush()
        try:
            self.writer.close()
        except OSError as err:
            raise OutputError(f"cannot write {self.path.name}: {err}") from None


def load_results(out_dir: str | Path, source: str = "auto") -> dict[str, pd.DataFrame]:
    """The tables of a `loyalty analyze` output folder as typed frames, keyed by table name
    (flagged_excerpts, call_scores, rep_scores, account_scores, commitments, errors); a table
    whose file is missing is left out. `source`: "csv", "parquet" (written with --parquet),
    or "auto" (Parquet where present, else CSV; both give equal frames)."""
    if source not in ("auto", "csv", "parquet"):
        raise ValueError(f"source must be auto, csv or parquet, not {source!r}")
    out = Path(out_dir)
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        parquet, csv = out / f"{name}.parquet", out / f"{name}.csv"
        if source != "csv" and parquet.is_file():
            frame = pq.read_table(parquet).to_pandas(date_as_object=False)
        elif source != "parquet" and csv.is_file():
            frame = pd.read_csv(csv, dtype="string", keep_default_na=False, na_filter=False, encoding="utf-8-sig")
        else:
            continue
        tables[name] = typed(frame, name)
    if not tables:
        wanted = "Parquet" if source == "parquet" else "output"
        raise FileNotFoundError(f"{out}: no {wanted} tables of loyalty analyze here")
    return tables
