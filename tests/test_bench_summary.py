"""The benchmark's summary: rates and shares derived per run, and each target judged on the
right runs (the best of one process and --workers for speed, all processes for memory)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import summarise, targets  # noqa: E402


def _run(calls: int, seconds: float, rss: int, all_rss: int | None = None) -> dict:
    return {"calls": calls, "utterances": calls * 600, "seconds": seconds, "startup_seconds": 0.1,
            "stage_seconds": {"model": seconds / 2}, "peak_rss_mb": rss, "peak_rss_mb_all_processes": all_rss or rss,
            "problems": 0}


def _runs(cold_seconds=100.0, rerun_seconds=3.0, workers_seconds=80.0, quarter_rss=700, cold_rss=750, workers_rss=1500):
    return summarise(
        {"cold": _run(100, cold_seconds, cold_rss), "rerun": _run(100, rerun_seconds, 90),
         "workers": _run(100, workers_seconds, 760, workers_rss), "quarter": _run(25, 30.0, quarter_rss)},
        {"cold": 1, "rerun": 1, "workers": 2, "quarter": 1},
    )


def test_bench_summary_derives_rates_per_run():
    runs = _runs()
    assert runs.loc["cold", ["calls_per_minute", "utterances_per_second", "share_of_cold"]].tolist() == [60.0, 600.0, 1.0]
    assert runs.at["rerun", "share_of_cold"] == 0.03 and runs.at["workers", "calls_per_minute"] == 75.0
    assert runs["workers"].tolist() == [1, 1, 2, 1]


@pytest.mark.parametrize(
    "changes,target,met",
    [
        ({}, "calls_per_minute>=60", True),
        ({"cold_seconds": 200.0, "workers_seconds": 101.0}, "calls_per_minute>=60", False),
        ({"cold_seconds": 200.0, "workers_seconds": 99.0}, "calls_per_minute>=60", True),  # --workers counts
        ({}, "peak_rss_mb<2048 (all processes)", True),
        ({"workers_rss": 2100}, "peak_rss_mb<2048 (all processes)", False),
        ({"quarter_rss": 700, "cold_rss": 804}, "peak_rss_flat(quarter->all, <+15%)", True),
        ({"quarter_rss": 700, "cold_rss": 806}, "peak_rss_flat(quarter->all, <+15%)", False),
        ({"rerun_seconds": 5.1}, "rerun<5%", False),
    ],
)
def test_bench_summary_targets(changes, target, met):
    judged = targets(_runs(**changes), {"speedup": 12.0})
    assert judged[target]["met"] is met
    assert judged["speedup_vs_naive>=10"] == {"measured": 12.0, "met": True}
