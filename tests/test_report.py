"""report.html: self-contained, every section present, transcript text escaped; rendered in
headless Chromium when it is installed (.ci/run installs it), with a screenshot kept in
tests/artifacts/."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer.analysis import Analyzer
from analyzer.pipeline import analyze_folder

SAMPLES = Path(__file__).parent.parent / "sample_transcripts"
ARTIFACTS = Path(__file__).parent / "artifacts"
SECTIONS = ("heatmap", "trends", "ledger", "excerpts")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    analyze_folder(SAMPLES, out, analyzer=Analyzer())  # patterns only: fast, same page
    return out / "report.html"


def test_report_sections_and_self_contained(report):
    html = report.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "no network resources"
    assert "<script" not in html
    assert "<svg" in html and "Dana Whitfield" in html


def test_report_escapes_transcript_text(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "c.txt").write_text(
        "Cust: Will it work with our ERP?\n"
        "Rep: Oh definitely, guaranteed, trust me <script>alert(1)</script> it always works.\n"
        "Cust: Ok.\n"
    )
    analyze_folder(folder, tmp_path / "out", analyzer=Analyzer())
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_report_renders_in_chromium(report, tmp_path):
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, *profile, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    for heading in ("Rules by salesperson", "Trends over time", "Commitment ledger", "Strongest and weakest moments per rule"):
        assert heading in dom
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    subprocess.run(
        [CHROMIUM, *FLAGS, *profile, "--window-size=1280,2400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True, timeout=120,
    )
    assert shot.stat().st_size > 10_000


def test_a_long_ledger_lists_broken_and_open_commitments_first():
    import datetime as dt

    from analyzer.export.report import LEDGER_ROWS, LedgerView, ledger
    from analyzer.ledger import Promise

    view = LedgerView()
    statuses = ["kept"] * 150 + ["open"] * 100 + ["broken"] * 30
    for number, status in enumerate(statuses):
        view.add(Promise("Acme", f"c{number:03d}", dt.date(2026, 1, 1), "Rep", "Rep", f"send item {number}",
                         None, "", False, status=status))
    shown = view.shown()
    assert len(shown) == LEDGER_ROWS
    assert [p.status for p in shown].count("broken") == 30 and [p.status for p in shown].count("open") == 100
    assert [p.call_id for p in shown] == sorted(p.call_id for p in shown)  # listed in ledger order
    html = ledger(view)
    assert f"showing {LEDGER_ROWS} of {len(statuses)}" in html and "150 kept" in html
