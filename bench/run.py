"""`make bench`: how fast the pipeline is on realistic-length calls, and how much memory it
takes, measured end to end on a seeded corpus (bench/generate.py). Writes bench/results.json.

Every run below is a fresh process, so start-up and peak memory are what a user sees:
  cold        all calls, empty cache: calls/min, utterances/s, time per stage, peak RSS
  rerun       the same folder again into the same output: the cache's share of the cold time
  workers     all calls with --workers 2 (outputs must be byte-identical to `cold`)
  quarter     a quarter of the calls: peak memory must not grow with the number of calls
  redact      a few calls (--redact-calls) without and with --redact-orgs: what redaction costs
  naive       a few calls the way one would write it first -- every salesperson utterance
              and its context through the fp32 encoder one at a time, once per behaviour --
              against the pipeline's own analysis of the same calls in the same process

Targets (ISSUE 7): >= 60 calls/min, >= 10x naive, peak RSS < 2 GB and flat, rerun < 5%."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402

if TYPE_CHECKING:
    import pandas as pd

OUTPUTS = ("annotations.jsonl", "flagged_excerpts.csv", "call_scores.csv", "rep_scores.csv", "account_scores.csv",
           "commitments.csv", "errors.csv", "report.html")


def corpus(calls: int, seed: int) -> Path:
    folder = HERE / "work" / f"corpus-{calls}-{seed}"
    if not (folder / "manifest.csv").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        generate(folder, calls, seed)
    return folder


def analyse(folder: Path, out: Path, workers: int, use_cache: bool, redact: bool = False) -> dict:
    """One run in a fresh process; its wall time, stage times and peak memory."""
    command = [sys.executable, __file__, "--one", str(folder), str(out), str(workers), str(int(use_cache)), str(int(redact))]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"bench run failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def one(folder: Path, out: Path, workers: int, use_cache: bool, redact: bool = False) -> None:
    """Child side of `analyse`: import, load, analyse, report -- all of it timed."""
    started = time.perf_counter()
    from analyzer.analysis import Analyzer
    from analyzer.pipeline import analyze_folder

    analyzer = Analyzer.default()
    loaded = time.perf_counter()
    summary = analyze_folder(folder, out, analyzer=analyzer, workers=workers, use_cache=use_cache,
                             redact=redact, redact_orgs=redact)
    finished = time.perf_counter()
    utterances = sum(1 for _ in (out / "annotations.jsonl").open(encoding="utf-8"))
    own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worker_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if workers > 1 else 0
    print(json.dumps({
        "calls": summary.analysed, "utterances": utterances, "seconds": round(finished - started, 2),
        "startup_seconds": round(loaded - started, 2), "stage_seconds": summary.seconds,
        "peak_rss_mb": round(max(own_kb, worker_kb) / 1024),  # the largest single process
        "peak_rss_mb_all_processes": round((own_kb + workers * worker_kb) / 1024) if workers > 1 else round(own_kb / 1024),
        "problems": len(summary.problems),
    }))


def naive_vs_pipeline(folder: Path, calls: int) -> dict:
    """The naive way and the pipeline on the same calls, one process, warm models."""
    import numpy as np

    from analyzer.classifier import BEHAVIORS, Featurizer, ModelScorer
    from analyzer.ingest import read_call
    from analyzer.analysis import Analyzer
    from analyzer.segment import segment_calls

    paths = sorted(p for p in folder.iterdir() if p.suffix == ".json")[:calls]
    loaded = [read_call(p, folder)[0] for p in paths]
    scorer = ModelScorer()
    analyzer = Analyzer(scorer=scorer)
    reference = scorer.reference_encoder  # torch fp32, as a first version would use
    analyzer.analyze_calls(loaded[:1])  # warm both paths
    reference.encode(["warm up"])

    started = time.perf_counter()
    results = analyzer.analyze_calls(loaded)
    pipeline_seconds = time.perf_counter() - started

    started = time.perf_counter()
    naive_featurizer = Featurizer(OneAtATime(reference))
    naive, fast, scored = [], [], 0
    for parsed, result in zip(segment_calls(loaded), results):
        for utterance in parsed.salesperson_utterances():
            row = []
            for index, _ in enumerate(BEHAVIORS):
                # the same window and layout, but every text through the fp32 encoder on its own,
                # once per behaviour, as a first version judging one behaviour at a time would
                features, _ = naive_featurizer.rows([(parsed, utterance)], per_call=False)
                row.append(float(scorer.classifier.predict_proba(features)[0, index]))
            scored += 1
            prediction = result.parsed.predictions.get(utterance.id)
            if prediction:
                naive.append(row)
                fast.append([prediction.probabilities[b] for b in BEHAVIORS])
    naive_seconds = time.perf_counter() - started
    thresholds = np.array([scorer.thresholds[b] for b in BEHAVIORS])
    naive_a, fast_a = np.array(naive), np.array(fast)
    return {
        "calls": len(loaded), "salesperson_utterances": scored,
        "naive_seconds": round(naive_seconds, 2), "pipeline_seconds": round(pipeline_seconds, 2),
        "speedup": round(naive_seconds / pipeline_seconds, 1),
        "probability_mean_abs_difference": round(float(np.abs(naive_a - fast_a).mean()), 4),
        "decision_agreement": round(float(((naive_a >= thresholds) == (fast_a >= thresholds)).mean()), 4),
    }


class OneAtATime:
    """An encoder that sends each text through on its own: the naive way's cost."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder

    def encode(self, texts):
        import numpy as np

        return np.vstack([self.encoder.encode([text]) for text in texts])


def redaction_cost(plain: dict, redacted: dict) -> dict:
    """The same calls without and with --redact-orgs: wall time, the redact stage, memory."""
    calls = max(redacted["calls"], 1)
    return {
        "calls": redacted["calls"], "without": plain, "with": redacted,
        "redact_stage_seconds": redacted["stage_seconds"].get("redact"),
        "extra_seconds_per_call": round((redacted["seconds"] - plain["seconds"]) / calls, 2),
        "slowdown": round(redacted["seconds"] / plain["seconds"], 2),
    }


def digest(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest()[:16] for name in OUTPUTS if (out / name).is_file()}


TABLE = ["workers", "calls", "seconds", "calls_per_minute", "utterances_per_second", "share_of_cold", "peak_rss_mb",
         "peak_rss_mb_all_processes"]


def summarise(runs: dict[str, dict], workers: dict[str, int]) -> pd.DataFrame:
    """The runs as a frame, a row each, with the rates and shares derived column-wise. (pandas
    is imported here, in the parent: the measured runs must not carry it from the start.)"""
    import pandas as pd

    frame = pd.DataFrame.from_dict(runs, orient="index").assign(workers=pd.Series(workers))
    frame = frame.astype({"calls": "int64", "utterances": "int64", "seconds": "float64", "peak_rss_mb": "int64",
                          "peak_rss_mb_all_processes": "int64", "workers": "int64"})
    return frame.assign(
        calls_per_minute=(frame["calls"] / frame["seconds"] * 60).round(1),
        utterances_per_second=(frame["utterances"] / frame["seconds"]).round(1),
        share_of_cold=(frame["seconds"] / frame.at["cold", "seconds"]).round(4),
    )


def targets(runs: pd.DataFrame, naive: dict) -> dict:
    """ISSUE 7's targets against the measured runs."""
    full = runs.loc[["cold", "workers"]]
    best = float(full["calls_per_minute"].max())
    peak = int(full["peak_rss_mb_all_processes"].max())
    quarter, cold = int(runs.at["quarter", "peak_rss_mb"]), int(runs.at["cold", "peak_rss_mb"])
    rerun = float(runs.at["rerun", "share_of_cold"])
    return {
        "calls_per_minute>=60": {"measured": best, "met": best >= 60},
        "speedup_vs_naive>=10": {"measured": naive["speedup"], "met": naive["speedup"] >= 10},
        "peak_rss_mb<2048 (all processes)": {"measured": peak, "met": peak < 2048},
        "peak_rss_flat(quarter->all, <+15%)": {"measured": [quarter, cold], "met": cold <= quarter * 1.15},
        "rerun<5%": {"measured": rerun, "met": rerun < 0.05},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--naive-calls", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redact-calls", type=int, default=10, help="calls to time with and without --redact-orgs")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        folder, out, workers, use_cache, redact = args.one
        one(Path(folder), Path(out), int(workers), bool(int(use_cache)), bool(int(redact)))
        return

    work = HERE / "work"
    folder = corpus(args.calls, args.seed)
    quarter_folder = corpus(max(1, args.calls // 4), args.seed)
    redact_folder = corpus(min(args.redact_calls, args.calls), args.seed)
    for name in ("out-cold", "out-workers", "out-quarter", "out-plain", "out-redact"):
        shutil.rmtree(work / name, ignore_errors=True)
    print(f"corpus: {args.calls} calls in {folder.relative_to(ROOT)}", flush=True)

    cold = analyse(folder, work / "out-cold", 1, use_cache=True)
    print(f"cold: {cold['seconds']} s", flush=True)
    rerun = analyse(folder, work / "out-cold", 1, use_cache=True)
    print(f"rerun: {rerun['seconds']} s", flush=True)
    workers = analyse(folder, work / "out-workers", args.workers, use_cache=True)
    print(f"--workers {args.workers}: {workers['seconds']} s", flush=True)
    quarter = analyse(quarter_folder, work / "out-quarter", 1, use_cache=True)
    print(f"quarter: {quarter['seconds']} s", flush=True)
    plain = analyse(redact_folder, work / "out-plain", 1, use_cache=False)
    redacted = analyse(redact_folder, work / "out-redact", 1, use_cache=False, redact=True)
    print(f"redact: {plain['seconds']} s without, {redacted['seconds']} s with --redact-orgs", flush=True)
    naive = naive_vs_pipeline(folder, args.naive_calls)
    print(f"naive: {naive['naive_seconds']} s vs pipeline {naive['pipeline_seconds']} s", flush=True)

    runs = summarise({"cold": cold, "rerun": rerun, "workers": workers, "quarter": quarter},
                     {"cold": 1, "rerun": 1, "workers": args.workers, "quarter": 1})
    print(runs[TABLE].to_string(), flush=True)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "corpus": {"calls": cold["calls"], "seed": args.seed, "utterances": cold["utterances"],
                   "utterances_per_call": round(cold["utterances"] / max(cold["calls"], 1))},
        **json.loads(runs.to_json(orient="index")),
        "redact": redaction_cost(plain, redacted),
        "naive": naive,
    }
    results["workers"]["same_outputs_as_cold"] = digest(work / "out-workers") == digest(work / "out-cold")
    results["targets"] = targets(runs, naive)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
