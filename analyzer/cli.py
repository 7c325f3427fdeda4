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


def _version(show: bool) -> None:
    """Package, model and output-format versions: what decides a run's outputs. The model's
    files are checked (sha256), so this is also the quickest test of an install."""
    if not show:
        return
    from importlib.metadata import version

    from analyzer.errors import ModelError
    from analyzer.model_files import default_model_dir, describe, verify
    from analyzer.pipeline import OUTPUT_FORMAT

    directory = default_model_dir()
    failure = None
    try:
        model = f"{describe(verify(directory))} ({directory})"
    except ModelError as err:
        model, failure = f"none usable in {directory}", err
    typer.echo(f"loyalty-analyzer {version('loyalty-analyzer')}\nmodel: {model}\noutput format: {OUTPUT_FORMAT}")
    if failure:
        typer.echo(f"error: {failure.line()}", err=True)
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_OK)


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version,
        help="Print the package, model and output-format versions and exit.",
    ),
) -> None:
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
    redact: bool = typer.Option(
        False, "--redact", help="Mask personal data in every output: customers' names and speaker labels, names said "
        "in speech, e-mails, phone and card numbers, street addresses (the salesperson's own name stays)."
    ),
    redact_orgs: bool = typer.Option(
        False, "--redact-orgs", help="With --redact (implied): also mask organisations other than our own."
    ),
    company: Optional[str] = typer.Option(
        None, "--company", help="Our own company, kept by --redact-orgs (default: the manifest's company column, "
        "else the company the salesperson introduces themselves with)."
    ),
    excel: bool = typer.Option(False, "--excel", help="Start CSVs with a UTF-8 byte-order mark for Excel."),
    parquet: bool = typer.Option(False, "--parquet", help="Also write each table as Parquet (typed columns) beside its CSV."),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Analyse every call again instead of reusing what an earlier run into --out "
        "analysed with the same model and settings (an interrupted run continues by default)."
    ),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Processes (or Ray actors) analysing side by side."),
    engine: str = typer.Option("local", "--engine", help="local (this machine) or ray (a Ray cluster; needs the [ray] extra)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster to join (default: start a local one)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also print warnings and skipped files."),
) -> None:
    """Analyse every transcript in FOLDER and write the outputs into --out."""
    from analyzer.engines import ENGINES
    from analyzer.errors import OutputError, Severity
    from analyzer.analysis import Analyzer
    from analyzer.pipeline import analyze_folder
    from analyzer.settings import Settings

    if not folder.is_dir():
        typer.echo(f"error: {folder} is not a folder", err=True)
        raise typer.Exit(EXIT_USAGE)
    if engine not in ENGINES:
        typer.echo(f"error: --engine must be one of {', '.join(ENGINES)}, not {engine}", err=True)
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

    from analyzer.encoder import EncoderError
    from analyzer.errors import ModelError

    try:
        analyzer = Analyzer.default(settings, patterns_only)
    except ModelError as err:
        typer.echo(f"error: {err.line()}", err=True)
        raise typer.Exit(EXIT_USAGE)
    except (EncoderError, ValueError) as err:
        typer.echo(f"error: the learned heads cannot be loaded: {err} (or run with --patterns-only)", err=True)
        raise typer.Exit(EXIT_USAGE)
    show_bar = not quiet and sys.stderr.isatty()
    progress = _progress_bar() if show_bar else None
    try:
        summary = analyze_folder(
            folder, out, analyzer=analyzer, manifest=manifest, reps=tuple(rep),
            max_file_mb=max_file_mb, on_problem=on_problem, on_progress=progress, redact=redact,
            redact_orgs=redact_orgs, company=company, csv_bom=excel, parquet=parquet,
            use_cache=not no_cache, workers=workers, engine=engine, ray_address=ray_address,
        )
    except OutputError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_OUTPUT)
    except RuntimeError as err:  # an engine that cannot start, or an encoder that fails its checks
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_USAGE)
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
    from analyzer.errors import ModelError
    from analyzer.export.writers import json_line, open_output, staged_outputs
    from analyzer.model_files import default_model_dir, verify

    directory = default_model_dir()
    try:
        verify(directory)
    except ModelError as err:
        typer.echo(f"error: {err.line()}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if str(source) != "-" and not source.is_file():
        typer.echo(f"error: {source} does not exist", err=True)
        raise typer.Exit(EXIT_USAGE)
    scorer = ModelScorer(directory)
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


@app.command()
def review(
    reviewed: Path = typer.Argument(..., help="flagged_excerpts.csv with review_verdict filled in by a coach."),
    settings_out: Path = typer.Option(Path("settings.json"), "--settings-out", help="Where to write proposed thresholds."),
    settings_file: Optional[Path] = typer.Option(None, "--settings", help="Settings the reviewed run used."),
    run_record: Optional[Path] = typer.Option(
        None, "--run", help="run.json of the reviewed run (default: beside REVIEWED when present): its thresholds."
    ),
) -> None:
    """Precision from a coach's verdicts, per behaviour and salesperson; propose thresholds."""
    import dataclasses
    import json

    from analyzer.classifier import shipped_thresholds
    from analyzer.review import MIN_VERDICTS, ReviewError, precision_by, propose, read_review
    from analyzer.settings import PATTERN_THRESHOLDS, Settings

    try:
        result = read_review(reviewed)
        settings = Settings.from_file(settings_file) if settings_file else Settings()
    except (ReviewError, OSError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_USAGE)
    for line, value in result.unreadable:
        typer.echo(f"{reviewed}:{line}: verdict {value!r} not understood (use agree/disagree, yes/no, 1/0); row skipped", err=True)
    verdicts = result.verdicts
    if len(verdicts) < MIN_VERDICTS:
        typer.echo(f"error: only {len(verdicts)} verdicts in {reviewed}; review at least {MIN_VERDICTS} flags first", err=True)
        raise typer.Exit(EXIT_NOTHING_ANALYSED)
    run_record = run_record or (reviewed.parent / "run.json")
    if run_record.is_file():
        in_force = json.loads(run_record.read_text())["thresholds"]
    else:
        in_force = {**PATTERN_THRESHOLDS, **shipped_thresholds()}
    thresholds = {**in_force, **settings.thresholds}

    typer.echo(f"{len(verdicts)} verdicts")
    for column, title in (("behavior", "behaviour"), ("salesperson", "salesperson")):
        typer.echo(f"\nprecision by {title}")
        for p in precision_by(verdicts, column).itertuples():
            typer.echo(f"  {p.Index:22} {p.precision:6.0%}  ({p.agreed}/{p.reviewed})")
    typer.echo("\nproposed thresholds")
    changed = {}
    for p in propose(verdicts, thresholds):
        current = f"{p.current:.2f}" if p.current is not None else "?"
        if p.proposed is None:
            typer.echo(f"  {p.behavior:22} {current} unchanged: {p.reason}")
            continue
        changed[p.behavior] = p.proposed
        typer.echo(
            f"  {p.behavior:22} {current} -> {p.proposed:.2f}: keeps {p.kept}, drops {p.dropped} of the reviewed flags; "
            f"precision {p.precision_before:.0%} -> {p.precision_after:.0%}"
        )
    if not changed:
        typer.echo("\nno threshold change proposed; nothing written")
        return
    updated = dataclasses.replace(settings, thresholds={**settings.thresholds, **changed})
    settings_out.write_text(json.dumps(dataclasses.asdict(updated), indent=2, sort_keys=True) + "\n")
    typer.echo(f"\nwrote {settings_out}; use it with: loyalty analyze FOLDER --settings {settings_out}")


@app.command()
def train(
    extra: Optional[Path] = typer.Option(None, "--extra", help="A reviewed flagged_excerpts.csv to learn from."),
    rollback: bool = typer.Option(False, "--rollback", help="Swap back the heads kept before the last --extra."),
) -> None:
    """Retrain the heads with a coach's verdicts, keeping the previous heads for --rollback.
    (The full retraining of encoder adapters and heads is `make train`.)"""
    from analyzer import retrain
    from analyzer.review import ReviewError
    from analyzer.training import print_table

    if rollback == (extra is not None):
        typer.echo("error: give either --extra REVIEWED.csv or --rollback", err=True)
        raise typer.Exit(EXIT_USAGE)
    from analyzer.training import data_dir

    if extra is not None and not any((data_dir() / "raw").glob("*.jsonl")):
        # an installed package carries the model, not the data it was trained on
        typer.echo(f"error: no training data in {data_dir() / 'raw'}; --extra retrains on the project's data, "
                   "which a checkout has (models/data/): run it there, or set LOYALTY_MODEL_DIR to such a models/",
                   err=True)
        raise typer.Exit(EXIT_USAGE)
    if rollback:
        try:
            retrain.rollback()
        except FileNotFoundError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(EXIT_NOTHING_ANALYSED)
        typer.echo("restored the previous heads (run --rollback again to undo)")
        return
    try:
        result = retrain.retrain_heads(extra)
    except (ReviewError, OSError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_USAGE)
    typer.echo(f"added {result['added']} reviewed excerpts")
    print_table("held-out split before", result["before"])
    print_table("held-out split after", result["after"])
    typer.echo("\nthe previous heads are in models/previous/; undo with: loyalty train --rollback")


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
