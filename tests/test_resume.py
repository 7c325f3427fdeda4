"""A run killed midway loses nothing already written, and running it again continues from
the cache and ends with the same outputs as a run that was never interrupted."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent.parent / "sample_transcripts"
LOYALTY = [sys.executable, "-m", "analyzer.cli"]


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("calls")
    for copy in range(12):
        for path in SAMPLES.iterdir():
            if path.name != "manifest.csv":
                shutil.copy(path, folder / f"c{copy:02d}_{path.name}")
    return folder


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != "run.json"}


def test_rerun_after_kill_matches_an_uninterrupted_run(big_folder, tmp_path):
    reference = tmp_path / "reference"
    subprocess.run([*LOYALTY, "analyze", str(big_folder), "--out", str(reference), "-q", "--patterns-only"], check=True)

    out = tmp_path / "out"
    (out).mkdir()
    (out / "flagged_excerpts.csv").write_text("an earlier run's file\n")
    run = subprocess.Popen([*LOYALTY, "analyze", str(big_folder), "--out", str(out), "-q", "--patterns-only"],
                           stderr=subprocess.DEVNULL)
    cache = out / ".cache"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None and len(list(cache.glob("*.json"))) < 16:
        time.sleep(0.02)
    if run.poll() is not None:
        pytest.skip("the run finished before it could be interrupted")
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    done = len(list(cache.glob("*.json")))
    assert 16 <= done < len(list(big_folder.iterdir()))
    # nothing half-written: the earlier output is intact, no new output file appeared
    assert (out / "flagged_excerpts.csv").read_text() == "an earlier run's file\n"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["flagged_excerpts.csv"]

    subprocess.run([*LOYALTY, "analyze", str(big_folder), "--out", str(out), "-q", "--patterns-only"], check=True)
    assert _outputs(out) == _outputs(reference)
    assert not list(out.glob(".staging-*"))
