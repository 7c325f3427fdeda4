"""One batch of calls, as any engine runs it: a job's bytes -> Call -> segmented, scored by
the heads, judged by every detector and scored per rule -> the small record a run keeps
(cache.CallRecord: the call's output rows and its ledger history). Nothing here knows about
folders, engines or where outputs are written; a file that cannot be read or analysed costs
only itself."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.cache import CallRecord, history_record
from analyzer.detect.base import Detector
from analyzer.detect.registry import build_detectors
from analyzer.errors import InputError
from analyzer.export.rows import annotation_records, call_score_row, flagged_rows
from analyzer.ingest import DEFAULT_MAX_FILE_MB, read_call
from analyzer.ingest.identity import Identity
from analyzer.ingest.metadata import Manifest
from analyzer.ledger import history_of
from analyzer.metrics import call_metrics
from analyzer.model import Call, CallResult, ParsedCall, ScoredCall
from analyzer.redact import Redactor, redact_speaker_detail
from analyzer.score import score_call
from analyzer.segment import segment_calls
from analyzer.settings import PATTERN_THRESHOLDS, Settings
from analyzer.timing import StageTimes

if TYPE_CHECKING:
    from analyzer.classifier import ModelScorer


@dataclass(frozen=True)
class Job:
    """One transcript to analyse, complete in itself: it may cross a process or a network."""

    relative: str
    key: str
    data: bytes
    entry: dict[str, str] = field(default_factory=dict)  # the manifest row, {} when none
    identity: dict[str, str] = field(default_factory=dict)  # the folder's identity decision (Identity.as_entry)


@dataclass(frozen=True)
class ReadOptions:
    """What turns a job's bytes into a Call, the same for every job of a run."""

    folder: Path
    reps: tuple[str, ...] = ()
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    redactor: Redactor | None = None  # --redact: mask personal data as calls are read
    manifest_source: str = ""


@dataclass
class BatchResult:
    """Per job, in order: its record (None when it could not be analysed) and its problems;
    plus the seconds each stage took."""

    records: list["CallRecord | None"]
    problems: list[list[InputError]]
    seconds: dict[str, float]
    node: str = ""  # the Ray node that ran the batch; "" on this machine


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
        """What decided the findings, for run.json and the result cache's key: the heads'
        identity and the version of the int8 graph that feeds them, or patterns only."""
        if self.scorer is None:
            return {"kind": "patterns-only"}
        from analyzer.encoder_onnx import GRAPH_VERSION

        config = self.scorer.config
        return {
            "kind": "heads",
            "heads_sha256": config["weights_sha256"],
            "adapter_sha256": (config.get("adapter") or {}).get("sha256"),
            "encoder_sha256": config.get("encoder_sha256"),
            "int8_graph_version": GRAPH_VERSION,
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
                history_record(history_of(result)), [(w.code, w.detail) for w in problems[index]],
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
