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
            folder, out, analyzer=Analyzer(settings=settings), manifest=manifest, reps=tuple(rep),
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
