"""The `loyalty` command: options and help here, the work in plain functions (pipeline.py)
that the Python API exposes too. Heavy imports happen inside commands so --help is instant;
tracebacks never show local variables (transcripts are confidential)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    help="Find the salesperson moments that keep or break the seven rules of customer loyalty.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
)

EXIT_OK = 0
EXIT_NOTHING_ANALYSED = 1
EXIT_USAGE = 2
EXIT_OUTPUT = 3


@app.callback()
def main() -> None:
    """loyalty-analyzer: scores recorded sales calls against seven rules of customer loyalty."""


@app.command()
def analyze(
    folder: Path = typer.Argument(..., help="Folder of transcripts (searched recursively)."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Output folder (created if missing)."),
    manifest: Optional[Path] = typer.Option(
        None, help="Manifest CSV (file, call_id, date, salesperson, account[, salesperson_speaker]). "
        "Default: manifest.csv in FOLDER when present."
    ),
    rep: list[str] = typer.Option([], "--rep", help="A salesperson's name or speaker label (repeatable)."),
    settings_file: Optional[Path] = typer.Option(None, "--settings", help="JSON settings (thresholds, bars)."),
    max_file_mb: float = typer.Option(50.0, help="Refuse transcript files larger than this (MB)."),
    patterns_only: bool = typer.Option(False, "--patterns-only", help="Do not load the learned heads."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also print warnings and skipped files."),
) -> None:
    """Analyse every transcript in FOLDER and write the outputs into --out."""
    from analyzer.errors import OutputError, Severity
    from analyzer.pipeline import Analyzer, analyze_folder
    from analyzer.settings import Settings

    if not folder.is_dir():
        typer.echo(f"error: {folder} is not a folder", err=True)
        raise typer.Exit(EXIT_USAGE)
    if manifest is not None and not manifest.is_file():
        typer.echo(f"error: manifest {manifest} does not exist", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        settings = Settings.from_file(settings_file) if settings_file else Settings()
    except (OSError, ValueError) as err:
        typer.echo(f"error: settings: {err}", err=True)
        raise typer.Exit(EXIT_USAGE)

    def on_problem(problem) -> None:
        severity = problem.problem.severity
        if severity is Severity.ERROR or verbose:
            typer.echo(f"{severity.value}: {problem.line()}", err=True)

    show_bar = not quiet and sys.stderr.isatty()
    progress = _progress_bar() if show_bar else None
    try:
        summary = analyze_folder(
            folder, out, analyzer=Analyzer.default(settings, patterns_only), manifest=manifest, reps=tuple(rep),
            max_file_mb=max_file_mb, on_problem=on_problem, on_progress=progress,
        )
    except OutputError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_OUTPUT)
    finally:
        if progress:
            progress.close()
    if not quiet:
        typer.echo(
            f"analysed {summary.analysed} of {summary.files} files into {out} "
            f"({summary.count(Severity.ERROR)} errors, {summary.count(Severity.WARNING)} warnings, "
            f"{summary.count(Severity.SKIPPED)} skipped; see errors.csv)",
            err=True,
        )
    if summary.analysed == 0:
        raise typer.Exit(EXIT_NOTHING_ANALYSED)


@app.command()
def classify(
    source: Path = typer.Argument(..., help='JSONL, one {"id", "text", "context"?} per line; - for stdin.'),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write JSONL here (default: stdout)."),
    batch_size: int = typer.Option(512, help="Lines scored per batch."),
) -> None:
    """Score utterances with the shipped heads: per-behaviour probabilities and labels."""
    from analyzer.classifier import ModelScorer
    from analyzer.classify import BadLine, classify_records, parse_lines
    from analyzer.export.writers import json_line, open_output, staged_outputs

    if not ModelScorer.available():
        typer.echo("error: the learned heads are missing (models/heads.json); run `make train`", err=True)
        raise typer.Exit(EXIT_NOTHING_ANALYSED)
    if str(source) != "-" and not source.is_file():
        typer.echo(f"error: {source} does not exist", err=True)
        raise typer.Exit(EXIT_USAGE)
    scorer = ModelScorer()
    handle = sys.stdin if str(source) == "-" else source.open(encoding="utf-8-sig", errors="replace")
    scored = bad = 0

    def run(sink) -> None:
        nonlocal scored, bad
        pending: list[dict] = []
        for item in parse_lines(handle):
            if isinstance(item, BadLine):
                bad += 1
                typer.echo(f"{source}:{item.number}: {item.problem}; line skipped", err=True)
                continue
            pending.append(item[1])
            if len(pending) >= batch_size:
                scored += _emit(sink, classify_records(scorer, pending), json_line)
                pending = []
        if pending:
            scored += _emit(sink, classify_records(scorer, pending), json_line)

    with handle:
        if out is None:
            run(sys.stdout)
        else:
            with staged_outputs(out.parent if str(out.parent) else Path(".")) as staging, open_output(staging / out.name) as sink:
                run(sink)
    typer.echo(f"scored {scored} lines, {bad} bad lines skipped", err=True)
    if scored == 0:
        raise typer.Exit(EXIT_NOTHING_ANALYSED)


def _emit(sink, results: list[dict], json_line) -> int:
    for result in results:
        sink.write(json_line(result))
    return len(results)


class _progress_bar:
    """A rich progress bar on a terminal; the pipeline just reports (done, total)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._progress = Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            transient=True,
        )
        self._task = self._progress.add_task("analysing", total=None)
        self._progress.start()

    def __call__(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        self._progress.stop()


if __name__ == "__main__":  # pragma: no cover
    app()
