"""The output tables as typed frames: every column has a declared kind, CSV and Parquet load
into equal frames with the declared dtypes, an empty cell is missing, Parquet is written
only with --parquet and whole or not at all, and an output folder never keeps Parquet files
from an earlier run beside newer CSVs."""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analyzer import load_results
from analyzer.export import tables
from analyzer.export.columns import KINDS, TABLES
from analyzer.export.tables import dtypes, records
from analyzer.export.writers import write_csv
from analyzer.analysis import Analyzer
from analyzer.pipeline import analyze_folder

SAMPLES = Path(__file__).parent.parent / "sample_transcripts"


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """The samples on patterns alone, with Parquet and the BOM --excel writes."""
    folder = tmp_path_factory.mktemp("parquet")
    analyze_folder(SAMPLES, folder, analyzer=Analyzer(), parquet=True, csv_bom=True)
    return folder


def _cells(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8-sig", newline="")))


@pytest.mark.parametrize("table,column", [(t, c) for t, columns in TABLES.items() for c in columns])
def test_tables_every_column_has_a_kind(table, column):
    assert KINDS[column] in tables.DTYPES


@pytest.mark.parametrize("source", ["csv", "parquet", "auto"])
@pytest.mark.parametrize("table", list(TABLES))
def test_tables_load_results_typed_as_declared(out, table, source):
    frame = load_results(out, source)[table]
    assert list(frame.columns) == TABLES[table]
    assert {c: str(t) for c, t in frame.dtypes.items()} == dtypes(table)
    assert len(frame) == len(_cells(out / f"{table}.csv")) > 0


@pytest.mark.parametrize("table", list(TABLES))
def test_tables_csv_and_parquet_give_equal_frames(out, table):
    pd.testing.assert_frame_equal(load_results(out, "csv")[table], load_results(out, "parquet")[table])


@pytest.mark.parametrize("table", list(TABLES))
def test_tables_empty_cell_is_missing(out, table):
    frame = load_results(out, "parquet")[table]
    cells = _cells(out / f"{table}.csv")
    for column in TABLES[table]:
        assert list(frame[column].isna()) == [row[column] == "" for row in cells], column


@pytest.mark.parametrize(
    "table,column,row,value",
    [
        ("rep_scores", "first_date", 0, pd.Timestamp("2026-08-20")),
        ("rep_scores", "calls", 0, 3),
        ("rep_scores", "mean_score", 0, 100.0),
        ("rep_scores", "status", 0, "ok"),
        ("flagged_excerpts", "start", 0, pd.Timedelta(seconds=30)),
        ("flagged_excerpts", "confidence", 0, 0.55),
        ("flagged_excerpts", "polarity", 0, "+"),
        ("call_scores", "turns", 0, 71),
        ("call_scores", "salesperson_confidence", 1, 1.0),
        ("call_scores", "R2_score", 1, 50.0),  # patterns only: no outcome judged across calls
        ("errors", "severity", 0, "warning"),
    ],
)
def test_tables_values(out, table, column, row, value):
    assert load_results(out)[table][column].iloc[row] == value


@pytest.mark.parametrize("table", ["rep_scores", "account_scores"])
def test_tables_computed_tables_write_back_the_same_cells(out, table, tmp_path):
    """The typed frame loses nothing the CSV says: written again, it is the same file."""
    again = tmp_path / f"{table}.csv"
    write_csv(again, TABLES[table], records(load_results(out, "parquet")[table]), bom=True)
    assert again.read_bytes() == (out / f"{table}.csv").read_bytes()


def test_tables_parquet_in_chunks_equals_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "PARQUET_ROWS", 7)
    analyze_folder(SAMPLES, tmp_path, analyzer=Analyzer(), parquet=True)
    assert pq.ParquetFile(tmp_path / "flagged_excerpts.parquet").num_row_groups > 1
    for table in TABLES:
        pd.testing.assert_frame_equal(load_results(tmp_path, "csv")[table], load_results(tmp_path, "parquet")[table])


@pytest.mark.parametrize("first,second", [(True, False), (False, True), (True, True)])
def test_tables_parquet_only_when_asked_and_never_stale(tmp_path, first, second):
    for parquet in (first, second):
        analyze_folder(SAMPLES, tmp_path, analyzer=Analyzer(), parquet=parquet)
    assert sorted(p.stem for p in tmp_path.glob("*.parquet")) == (sorted(TABLES) if second else [])


def test_tables_failed_parquet_run_keeps_previous_outputs(tmp_path, monkeypatch):
    analyze_folder(SAMPLES, tmp_path, analyzer=Analyzer(), parquet=True)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(tables.ParquetSink, "close", interrupted)
    with pytest.raises(KeyboardInterrupt):
        analyze_folder(SAMPLES, tmp_path, analyzer=Analyzer(), parquet=True, redact=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


@pytest.mark.parametrize(
    "files,source,error",
    [
        ([], "auto", FileNotFoundError),
        (["rep_scores.csv"], "parquet", FileNotFoundError),
        (["rep_scores.csv"], "xlsx", ValueError),
    ],
)
def test_tables_load_results_refuses(tmp_path, files, source, error):
    for name in files:
        (tmp_path / name).write_text(",".join(TABLES["rep_scores"]) + "\r\n", encoding="utf-8")
    with pytest.raises(error):
        load_results(tmp_path, source)


def test_tables_load_results_leaves_out_missing_tables(tmp_path):
    (tmp_path / "rep_scores.csv").write_text(",".join(TABLES["rep_scores"]) + "\r\n", encoding="utf-8")
    loaded = load_results(tmp_path)
    assert list(loaded) == ["rep_scores"] and loaded["rep_scores"].empty
    assert {c: str(t) for c, t in loaded["rep_scores"].dtypes.items()} == dtypes("rep_scores")
