"""Folder in, outputs out. Calls stream through ingest -> segment -> detect -> score in small
batches (one spaCy pass and one encoder pass per batch); only small per-call records are
kept for the cross-call ledger and aggregation. A bad file is recorded and the batch goes
on; outputs are written whole (staged, then moved into place) or not at all."""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from analyzer.analysis import Analyzer, BatchResult, Job, ReadOptions
from analyzer.cache import FOLDER_FACTS, CallRecord, ResultCache, cache_key
from analyzer.engines import start_engine
from analyzer.errors import InputError, OutputError, Severity
from analyzer.export import columns, report
from analyzer.export.ledger_rows import LedgerOutcome, apply_ledger
from analyzer.export.spool import CallSpool
from analyzer.export.writers import json_line, open_output, staged_outputs, write_table
from analyzer.ingest import DEFAULT_MAX_FILE_MB, discover, folder_identities, read_bytes
from analyzer.ingest.metadata import MANIFEST_NAME, Manifest
from analyzer.ledger import Ledger
from analyzer.model import ScoredCall
from analyzer.redact import Redactor
from analyzer.settings import Settings
from analyzer.timing import StageTimes


OUTPUT_FORMAT = 2     # bumped when an output file changes shape
CALLS_PER_BATCH = 16  # calls segmented and encoded together: bigger, length-sorted batches


@dataclass
class RunSummary:
    out: Path
    files: int = 0
    analysed: int = 0
    problems: list[InputError] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage (timing.py)

    def count(self, severity: Severity) -> int:
        return sum(1 for p in self.problems if p.problem.severity is severity)


def analyze_folder(
    folder: Path,
    out: Path,
    *,
    analyzer: Analyzer | None = None,
    manifest: Path | None = None,
    reps: tuple[str, ...] = (),
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
    on_problem: Callable[[InputError], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    redact: bool = False,
    redact_orgs: bool = False,
    company: str | None = None,
    csv_bom: bool = False,
    parquet: bool = False,
    use_cache: bool = True,
    workers: int = 1,
    engine: str = "local",
    ray_address: str | None = None,
    ledger: Ledger | None = None,
) -> RunSummary:
    """Analyse every transcript below `folder` and write all outputs into `out`.
    `redact` masks people's names (customers' speaker labels and names said in speech),
    e-mails, phone and card numbers and street addresses in every output; `redact_orgs` also
    masks organisations other than our own (`company`, else the one the salesperson
    introduces themselves with) and implies `redact` (analyzer/redact.py);
    `csv_bom` starts each CSV with a UTF-8 byte-order mark (for Excel); `parquet` also writes
    each table as Parquet (analyzer.load_results reads either). Calls an earlier run
    into the same `out` already analysed with the same model and settings come from its
    cache (`use_cache`), so an interrupted run continues and an unchanged rerun is quick.
    `workers` processes (or Ray actors with `engine="ray"`) analyse batches side by side;
    the outputs are the same whichever runs them. `ledger` judges commitments and mistakes
    across the calls of an account (default: the shipped ledger model)."""
    analyzer = analyzer or Analyzer.default()
    ledger = ledger or (Ledger.shipped(analyzer.scorer) if analyzer.scorer else Ledger.unjudged())
    folder = folder.resolve()
    summary = RunSummary(out)
    check_output_folder(out)
    times = StageTimes()

    def report(problem: InputError) -> None:
        summary.problems.append(problem)
        if on_problem:
            on_problem(problem)

    manifest_path = manifest or (folder / MANIFEST_NAME if (folder / MANIFEST_NAME).is_file() else None)
    loaded: Manifest | None = None
    if manifest_path:
        try:
            loaded = Manifest.load(manifest_path, folder)
        except InputError as err:
            report(err)

    files = list(discover(folder, manifest_path, on_error=report))
    summary.files = len(files)
    cache = ResultCache(out)
    with times.stage("ingest"):  # who sells and which account, decided once for the folder
        identities, facts = folder_identities(files, folder, loaded, tuple(reps), max_file_mb,
                                              known=cache.get_facts() if use_cache else None)
    context = {
        "version": version("loyalty-analyzer"), "format": OUTPUT_FORMAT, "model": analyzer.description(),
        "thresholds": analyzer.thresholds, "settings": dataclasses.asdict(analyzer.settings),
        "reps": list(reps), "redact": redact or redact_orgs, "redact_orgs": redact_orgs, "company": company,
    }
    redactor = Redactor(orgs=redact_orgs, company=company) if redact or redact_orgs else None
    if redactor:
        redactor.prepare()  # the NER model is installed: fail the run now, not every file
    options = ReadOptions(folder, tuple(reps), max_file_mb, redactor, loaded.source if loaded else "")
    scored: list[ScoredCall] = []
    seen: set[str] = set()
    keep_facts = redactor is None  # the folder facts hold names in plain text
    keys: set[str] = {FOLDER_FACTS} if keep_facts else set()
    waiting: deque[list[tuple[str, Job | CallRecord]]] = deque()  # (cache key, call) per batch, in order

    def batches() -> Iterator[list[Job]]:
        """Read files in order; calls the cache knows skip the engine. Yields each batch's
        jobs (possibly none) while `waiting` keeps the whole batch for `emit`."""
        batch: list[tuple[str, Job | CallRecord]] = []
        for done, path in enumerate(files, start=1):
            relative = path.relative_to(folder).as_posix()
            seen.add(relative)
            try:
                with times.stage("ingest"):
                    data = read_bytes(path, relative, max_file_mb)
                    entry = loaded.entry(relative) if loaded else {}
                    identity = identities[relative].as_entry() if relative in identities else {}
                    key = cache_key(data, relative, {**context, "manifest": entry, "identity": identity})
                with times.stage("cache"):
                    record = cache.get(key) if use_cache else None
            except InputError as err:
                report(err)
            else:
                keys.add(key)
                batch.append((key, record if record is not None else Job(relative, key, data, entry, identity)))
            if len(batch) >= CALLS_PER_BATCH or (done == len(files) and batch):
                waiting.append(batch)
                yield [item for _, item in batch if isinstance(item, Job)]
                batch = []

    def emit(batch: list[tuple[str, Job | CallRecord]], result: BatchResult) -> None:
        fresh = iter(zip(result.records, result.problems))
        for key, item in batch:
            record = item
            if isinstance(item, Job):
                record, problems = next(fresh)
                for problem in problems:
                    report(problem)
                if record is None:
                    continue
                with times.stage("cache"):
                    cache.put(key, record)
            else:
                for code, detail in record.warnings:
                    report(InputError(record.call_row["file"], code, detail))
            summary.analysed += 1
            with times.stage("export"):
                for line in record.annotations:
                    annotations.write(json_line(line))
            row = record.call_row
            order = (row["salesperson"], row["date"], row["call_id"])
            flagged.add(order, record.flagged)
            call_rows.add(order, [row])
            scored.append(record.scored)
            history = record.history  # with the call's cache key, which decides it
            histories.add((history["account"] or history["call_id"],), [{"key": key, "history": history}])

    with staged_outputs(out, stale=[f"{name}.parquet" for name in columns.TABLES]) as staging:
        if keep_facts:  # inside: the output folder is known to be writable here
            cache.put_facts(facts)
        flagged, call_rows, histories = CallSpool(staging), CallSpool(staging), CallSpool(staging)
        with open_output(staging / "annotations.jsonl") as annotations:
            runner = start_engine(engine, analyzer, options, workers, ray_address)
            nodes: dict[str, int] = {}  # Ray node id -> batches it analysed
            try:
                done = 0
                for result in runner.map(batches()):
                    batch = waiting.popleft()
                    emit(batch, result)
                    times.add(result.seconds)
                    if result.node:
                        nodes[result.node] = nodes.get(result.node, 0) + 1
                    done += len(batch)
                    if on_progress:
                        on_progress(done, len(files))
            finally:
                runner.close()
        if loaded:
            for missing in sorted(set(loaded.rows) - seen):
                report(InputError(Path(loaded.source).name, "W203", missing))
        with times.stage("export"):
            outcome = apply_ledger(histories, scored, staging, ledger, cache if use_cache else None, context)
            keys |= outcome.cache_keys
            write = functools.partial(write_table, bom=csv_bom, parquet=parquet)
            _write_tables(write, staging, flagged, call_rows, scored, outcome, summary.problems, analyzer.settings)
            for spool in (flagged, call_rows, histories, outcome.commitments):
                spool.close()
        summary.seconds = times.as_dict()
        run_record = {
            "loyalty_analyzer": version("loyalty-analyzer"),
            "output_format": OUTPUT_FORMAT,
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "input": str(folder),
            "files": summary.files,
            "analysed": summary.analysed,
            "problems": len(summary.problems),
            "model": analyzer.description(),
            "thresholds": analyzer.thresholds,
            "settings": dataclasses.asdict(analyzer.settings),
            "options": {"redact": redact or redact_orgs, "redact_orgs": redact_orgs, "company": company,
                        "csv_bom": csv_bom, "parquet": parquet, "reps": list(reps), "max_file_mb": max_file_mb},
            "run": {"engine": engine, "workers": workers, "cache": use_cache, "stage_seconds": summary.seconds,
                    **({"ray_nodes": nodes} if engine == "ray" else {})},
        }
        with open_output(staging / "run.json") as handle:
            handle.write(json.dumps(run_record, indent=2, sort_keys=True) + "\n")
    cache.keep_only(keys)
    return summary


def check_output_folder(out: Path) -> None:
    """Refuse an output folder written by a newer version (its files have columns we do not
    know); older ones are overwritten whole, and their cache entries never match."""
    try:
        record = json.loads((out / "run.json").read_text("utf-8"))
    except (OSError, ValueError):
        return
    written = record.get("output_format") if isinstance(record, dict) else None
    if isinstance(written, int) and written > OUTPUT_FORMAT:
        raise OutputError(
            f"{out} was written by a newer loyalty-analyzer ({record.get('loyalty_analyzer')}, output format "
            f"{written} > {OUTPUT_FORMAT}); use another --out or upgrade"
        )


def _write_tables(
    write_table: Callable[..., None],
    staging: Path,
    flagged: CallSpool,
    call_rows: CallSpool,
    scored: list[ScoredCall],
    ledger: LedgerOutcome,
    problems: list[InputError],
    settings: Settings,
) -> None:
    """Every table and the report, from the spooled per-call rows (read back call by call, in
    salesperson, date, call order) and the small per-call records kept in memory."""
    from analyzer.aggregate import aggregate, score_frame  # pandas: only in the process that writes
    from analyzer.export.tables import records

    def flagged_sorted() -> Iterator[dict[str, Any]]:
        return (row for rows in flagged.read_sorted() for row in ledger.flagged_with_repeats(rows))

    write_table(staging, "flagged_excerpts", flagged_sorted())
    top = report.top_excerpts(flagged_sorted())
    by_id = {call.call_id: call for call in scored}
    write_table(staging, "call_scores", (ledger.call_row(row, by_id) for (row,) in call_rows.read_sorted()))
    calls = score_frame(scored)
    reps = aggregate(calls, "salesperson", settings)
    write_table(staging, "rep_scores", records(reps))
    write_table(staging, "account_scores", records(aggregate(calls, "account", settings)))
    write_table(staging, "commitments", (row for rows in ledger.commitments.read_sorted() for row in rows))
    with open_output(staging / "report.html") as handle:
        handle.write(report.render(reps, calls, ledger.report, top, version("loyalty-analyzer")))
    errors = [
        {"file": p.path, "severity": p.problem.severity.value, "code": p.code, "problem": p.message, "fix": p.problem.fix}
        for p in problems
    ]
    write_table(staging, "errors", sorted(errors, key=lambda r: (r["file"], r["code"])))
