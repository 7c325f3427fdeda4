"""Folder in, outputs out. Calls stream through ingest -> segment -> detect -> score in small
batches (one spaCy pass and one encoder pass per batch); only small per-call records are
kept for the cross-call ledger and aggregation. A bad file is recorded and the batch goes
on; outputs are written whole (staged, then moved into place) or not at all."""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyzer.classifier import ModelScorer

from analyzer.detect.base import Detector
from analyzer.detect.registry import build_detectors
from analyzer.cache import CallRecord, ResultCache, cache_key, history_from_record, history_record
from analyzer.engines import BatchResult, Job, ReadOptions, start_engine
from analyzer.errors import InputError, OutputError, Severity
from analyzer.export import columns, report
from analyzer.export.spool import CallSpool
from analyzer.export.writers import json_line, open_output, staged_outputs, write_table
from analyzer.ingest import DEFAULT_MAX_FILE_MB, discover, folder_identities, read_bytes, read_call
from analyzer.ingest.identity import Identity
from analyzer.ingest.metadata import MANIFEST_NAME, Manifest
from analyzer.model import Call, CallResult, Finding, ParsedCall, ScoredCall
from analyzer.ledger import Ledger, RepeatedMistake, commitment_row, history_of, later_calls
from analyzer.metrics import call_metrics
from analyzer.redact import Redactor, redact_speaker_detail
from analyzer.score import score_call, with_ledger
from analyzer.segment import segment_calls
from analyzer.settings import PATTERN_THRESHOLDS, Settings
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


class Analyzer:
    """Built from detectors, settings and (optionally) the learned heads' scorer; nothing
    global. Without a scorer the detectors run on patterns alone."""

    def __init__(self, detectors: list[Detector] | None = None, settings: Settings | None = None,
                 scorer: "ModelScorer | None" = None) -> None:
        self.detectors = detectors if detectors is not None else build_detectors()
        self.settings = settings or Settings()
        self.scorer = scorer
        base = scorer.thresholds if scorer else PATTERN_THRESHOLDS
        self.thresholds = {**base, **self.settings.thresholds}

    @classmethod
    def default(cls, settings: Settings | None = None, patterns_only: bool = False) -> "Analyzer":
        """The shipped heads, their files checked first: a missing or damaged one raises
        ModelError (E301, E302) rather than quietly running on patterns alone, which only
        `patterns_only` asks for."""
        if patterns_only:
            return cls(settings=settings)
        from analyzer.classifier import ModelScorer
        from analyzer.model_files import default_model_dir, verify

        directory = default_model_dir()
        verify(directory)
        return cls(settings=settings, scorer=ModelScorer(directory))

    def prepare(self) -> None:
        """Before the first call is analysed: the model's files are there and intact."""
        if self.scorer:
            self.scorer.prepare()

    def description(self) -> dict[str, Any]:
        """What decided the findings, for run.json: the heads' identity, or patterns only."""
        if self.scorer is None:
            return {"kind": "patterns-only"}
        config = self.scorer.config
        return {
            "kind": "heads",
            "heads_sha256": config["weights_sha256"],
            "adapter_sha256": (config.get("adapter") or {}).get("sha256"),
            "encoder_sha256": config.get("encoder_sha256"),
        }

    def analyze_calls(self, calls: list[Call], times: StageTimes | None = None) -> list[CallResult]:
        """Segment all calls in one spaCy pass and score their salesperson utterances in one
        encoder pass, then run every detector per call."""
        times = times or StageTimes()
        with times.stage("segment"):
            parsed_calls = segment_calls(calls)
        if self.scorer:
            with times.stage("model"):
                parsed_calls = self.scorer.annotate(parsed_calls)
        return [self._detect(parsed, times) for parsed in parsed_calls]

    def analyze_call(self, call: Call) -> CallResult:
        return self.analyze_calls([call])[0]

    def _detect(self, parsed: ParsedCall, times: StageTimes) -> CallResult:
        with times.stage("detect"):
            findings = [
                finding
                for detector in self.detectors
                for finding in detector.detect(parsed)
                if finding.confidence >= self.thresholds.get(finding.behavior, 0.5)
            ]
            order = {u.id: i for i, u in enumerate(parsed.utterances)}
            findings.sort(key=lambda f: (order[f.utterance_id], f.rule, f.behavior))
        with times.stage("score"):
            metrics = call_metrics(parsed)
            return CallResult(parsed, tuple(findings), score_call(parsed, findings, metrics), metrics)


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _finding_record(finding: Finding) -> dict[str, Any]:
    record: dict[str, Any] = {
        "behavior": finding.behavior,
        "rule": finding.rule,
        "polarity": finding.polarity.value,
        "confidence": finding.confidence,
        "span": list(finding.span),
        "explanation": finding.explanation,
        "evidence": list(finding.evidence),
    }
    if finding.tactic:
        record["tactic"] = finding.tactic
    if finding.commitment:
        c = finding.commitment
        record["commitment"] = {
            "owner": c.owner, "action": c.action, "due": c.due.isoformat() if c.due else None,
            "due_phrase": c.due_phrase, "specific": c.specific,
        }
    return record


def _detail(finding: Finding) -> str:
    if finding.tactic:
        return finding.tactic
    if finding.commitment:
        c = finding.commitment
        due = c.due.isoformat() if c.due else c.due_phrase
        return f"{'specific' if c.specific else 'vague'}; due {due}" if due else "vague; no due date"
    return ""


def call_fields(call: Call) -> dict[str, Any]:
    meta = call.meta
    return {
        "call_id": meta.call_id,
        "file": call.source,
        "date": meta.date.isoformat() if meta.date else "",
        "salesperson": call.salesperson_name,
        "account": meta.account or "",
    }


def annotation_records(result: CallResult) -> list[dict[str, Any]]:
    parsed = result.parsed
    base = call_fields(parsed.call)
    by_utterance: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_utterance.setdefault(finding.utterance_id, []).append(finding)
    return [
        {
            **base,
            "utterance_id": u.id, "turn": u.turn, "speaker": u.speaker, "role": u.role.value,
            "start": u.start, "end": u.end, "char_start": u.char_start, "char_end": u.char_end,
            "text": u.text, "is_question": u.is_question, "responds_to": u.responds_to,
            "findings": [_finding_record(f) for f in by_utterance.get(u.id, [])],
        }
        for u in parsed.utterances
    ]


def flagged_rows(result: CallResult) -> list[dict[str, Any]]:
    parsed = result.parsed
    base = call_fields(parsed.call)
    rows = []
    for finding in result.findings:
        utterance = parsed.get(finding.utterance_id)
        answered = parsed.get(utterance.responds_to)
        rows.append({
            **base,
            "speaker": utterance.speaker,
            "start": _fmt_time(utterance.start),
            "_order": (utterance.turn, utterance.char_start),
            "_utterance": utterance.id,
            "rule": finding.rule,
            "behavior": finding.behavior,
            "polarity": finding.polarity.value,
            "confidence": f"{finding.confidence:.2f}",
            "detail": _detail(finding),
            "excerpt": utterance.text,
            "context": f"{answered.speaker}: {answered.text}" if answered else "",
            "explanation": finding.explanation,
        })
    return rows


def score_fields(scores) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for score in scores:
        row[f"{score.rule}_score"] = score.score
        row[f"{score.rule}_opportunities"] = score.opportunities
        row[f"{score.rule}_positive"] = score.positive
        row[f"{score.rule}_negative"] = score.negative
        row.update(dict(score.counts))
    return row


def call_score_row(result: CallResult) -> dict[str, Any]:
    parsed, call = result.parsed, result.parsed.call
    row: dict[str, Any] = {
        **call_fields(call),
        "format": call.format,
        "salesperson_speaker": call.salesperson.speaker,
        "salesperson_source": call.salesperson.source,
        "salesperson_confidence": f"{call.salesperson.confidence:.2f}",
        "speakers": "; ".join(call.speakers),
        "turns": len(call.turns),
        "utterances": len(parsed.utterances),
        "salesperson_utterances": len(parsed.salesperson_utterances()),
    }
    row.update(score_fields(result.scores))
    row["commitment_specific"] = sum(1 for f in result.findings if f.commitment and f.commitment.specific)
    row.update(dataclasses.asdict(result.metrics))
    row["repeated_mistakes"] = 0  # set across calls (_apply_ledger)
    row["account_source"] = call.meta.account_source
    row["account_confidence"] = f"{call.meta.account_confidence:.2f}" if call.meta.account_confidence is not None else ""
    return row


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
    ledger = ledger or Ledger.shipped(analyzer.scorer)
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
    with times.stage("ingest"):  # who sells and which account, decided once for the folder
        identities = folder_identities(files, folder, loaded, tuple(reps), max_file_mb)
    cache = ResultCache(out)
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
    keys: set[str] = set()
    waiting: deque[list[Job | CallRecord]] = deque()  # batches handed to the engine, in order

    def batches() -> Iterator[list[Job]]:
        """Read files in order; calls the cache knows skip the engine. Yields each batch's
        jobs (possibly none) while `waiting` keeps the whole batch for `emit`."""
        batch: list[Job | CallRecord] = []
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
                batch.append(record if record is not None else Job(relative, key, data, entry, identity))
            if len(batch) >= CALLS_PER_BATCH or (done == len(files) and batch):
                waiting.append(batch)
                yield [item for item in batch if isinstance(item, Job)]
                batch = []

    def emit(batch: list[Job | CallRecord], result: BatchResult) -> None:
        fresh = iter(zip(result.records, result.problems))
        for item in batch:
            record = item
            if isinstance(item, Job):
                record, problems = next(fresh)
                for problem in problems:
                    report(problem)
                if record is None:
                    continue
                with times.stage("cache"):
                    cache.put(item.key, record)
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
            history = record.history
            histories.add((history.account or history.call_id,), [history_record(history)])

    with staged_outputs(out, stale=[f"{name}.parquet" for name in columns.TABLES]) as staging:
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
            outcome = _apply_ledger(histories, scored, staging, ledger)
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


def analyse_jobs(analyzer: Analyzer, options: ReadOptions, jobs: list[Job]) -> BatchResult:
    """What an engine runs per batch: bytes -> Calls -> results -> the records a run keeps.
    A file that cannot be read or analysed costs only itself."""
    times = StageTimes()
    calls: list[Call] = []
    problems: list[list[InputError]] = []
    readable: list[int] = []
    for index, job in enumerate(jobs):
        problems.append([])
        manifest = Manifest({job.relative: job.entry}, options.manifest_source) if job.entry else None
        try:
            with times.stage("ingest"):
                call, warnings = read_call(options.folder / job.relative, options.folder, manifest, options.reps,
                                           options.max_file_mb, data=job.data, identity=Identity.from_entry(job.identity))
        except InputError as err:
            if options.redactor:  # the detail may quote a customer's speaker label
                err = InputError(err.path, err.code, redact_speaker_detail(err.code, err.detail))
            problems[index].append(err)
        except Exception as err:  # a bug must not cost the rest of the batch
            problems[index].append(InputError(job.relative, "E199", type(err).__name__))
        else:
            calls.append(call)
            readable.append(index)
            problems[index].extend(warnings)
    if options.redactor and calls:
        with times.stage("redact"):
            kept = _redact_isolated(options.redactor, calls, problems, readable)
        readable, calls = [index for index, _ in kept], [call for _, call in kept]
    records: list[CallRecord | None] = [None] * len(jobs)
    index_of = {call.source: index for index, call in zip(readable, calls)}

    def report(problem: InputError) -> None:
        problems[index_of[problem.path]].append(problem)

    for index, call, result in zip(readable, calls, _analyse_isolated(analyzer, calls, report, times)):
        if result is None:
            continue
        with times.stage("export"):
            records[index] = CallRecord(
                annotation_records(result), flagged_rows(result), call_score_row(result),
                ScoredCall(call.meta.call_id, call.meta.date, call.salesperson_name, call.meta.account, result.scores),
                history_of(result), [(w.code, w.detail) for w in problems[index]],
            )
    return BatchResult(records, problems, times.as_dict())


def _redact_isolated(redactor: Redactor, calls: list[Call], problems: list[list[InputError]],
                     readable: list[int]) -> list[tuple[int, Call]]:
    """Redact a batch together; if that fails, call by call. A call that cannot be redacted
    is not analysed: nothing unredacted may reach an output. A file whose name names a
    customer is known by a pseudonym from here on (redact.py), in its warnings too."""
    try:
        redacted = redactor.redact_calls(calls)
    except Exception as err:
        if len(calls) == 1:
            problems[readable[0]].append(InputError(calls[0].source, "E199", f"redaction: {type(err).__name__}"))
            return []
        return [kept for index, call in zip(readable, calls)
                for kept in _redact_isolated(redactor, [call], problems, [index])]
    for index, call in zip(readable, redacted):  # warnings name the file as the outputs do
        problems[index] = [InputError(call.source, p.code, p.detail) for p in problems[index]]
    return list(zip(readable, redacted))


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


@dataclass
class LedgerOutcome:
    """What the cross-call ledger changes: commitment outcomes and repeated mistakes, folded
    into the R2 / R3 scores of `changed` calls and flagged as `repeated_mistake` rows. The
    commitments themselves wait in `commitments` (one block per account, in order);
    `report` keeps their counts and the few the report shows."""

    commitments: CallSpool
    report: report.LedgerView
    changed: dict[str, int] = field(default_factory=dict)  # call id -> repeated mistakes
    repeated: dict[str, list[RepeatedMistake]] = field(default_factory=dict)  # per call id

    def flagged_with_repeats(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One call's flagged rows plus a `repeated_mistake` row for each repeat, in call order."""
        if not rows or rows[0]["call_id"] not in self.repeated:
            return rows
        call = {name: rows[0][name] for name in ("call_id", "file", "date", "salesperson", "account")}
        extra = []
        for mistake in self.repeated[rows[0]["call_id"]]:
            first = f"{mistake.first_call_id} ({mistake.first_date})" if mistake.first_date else mistake.first_call_id
            extra.append({
                **call, "speaker": mistake.speaker, "start": _fmt_time(mistake.start),
                "_order": tuple(mistake.order), "_utterance": mistake.utterance_id,
                "rule": "R3", "behavior": "repeated_mistake", "polarity": "-",
                "confidence": f"{mistake.confidence:.2f}", "detail": mistake.kind,
                "excerpt": mistake.excerpt, "context": "",
                "explanation": f"the same kind of mistake ({mistake.kind}) as in call {first} for this account: "
                               f"\"{mistake.first_excerpt}\"",
            })
        return sorted(rows + extra, key=lambda r: tuple(r["_order"]))

    def call_row(self, row: dict[str, Any], scored: dict[str, ScoredCall]) -> dict[str, Any]:
        """A call_scores row with the ledger's scores, when the ledger changed them."""
        if row["call_id"] not in self.changed:
            return row
        return {**row, **score_fields(scored[row["call_id"]].scores), "repeated_mistakes": self.changed[row["call_id"]]}


def _apply_ledger(histories: CallSpool, scored: list[ScoredCall], staging: Path, ledger: Ledger) -> LedgerOutcome:
    """The ledger, one account at a time from the spooled histories: memory holds one
    account's calls, not every call's commitments."""
    positions: dict[str, list[int]] = {}
    for index, call in enumerate(scored):
        positions.setdefault(call.call_id, []).append(index)
    outcome = LedgerOutcome(CallSpool(staging), report.LedgerView())
    for key, records in histories.read_groups():
        group = [history_from_record(record) for record in records]
        promises, repeated = ledger.build(group)
        judged = later_calls(group)
        statuses: dict[str, list[str]] = {}
        for promise in promises:
            if promise.call_id in judged:
                statuses.setdefault(promise.call_id, []).append(promise.status)
        repeats = Counter(r.call_id for r in repeated)
        for mistake in repeated:
            outcome.repeated.setdefault(mistake.call_id, []).append(mistake)
        for call_id in {h.call_id for h in group}:
            if call_id in statuses or repeats[call_id]:
                for index in positions.get(call_id, []):
                    scores = with_ledger(scored[index].scores, statuses.get(call_id, []), repeats[call_id])
                    scored[index] = dataclasses.replace(scored[index], scores=scores)
                outcome.changed[call_id] = repeats[call_id]
        outcome.commitments.add(key, [commitment_row(p) for p in promises])
        for promise in promises:
            outcome.report.add(promise)
    return outcome


def _analyse_isolated(analyzer: Analyzer, calls: list[Call], report, times: StageTimes) -> list[CallResult | None]:
    """Analyse a batch together; if that fails, call by call, so one bad call costs only itself."""
    if not calls:
        return []
    try:
        return analyzer.analyze_calls(calls, times)
    except Exception as err:
        if len(calls) == 1:
            report(InputError(calls[0].source, "E199", type(err).__name__))
            return [None]
        return [result for call in calls for result in _analyse_isolated(analyzer, [call], report, times)]


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
