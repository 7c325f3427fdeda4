"""`loyalty train --extra` and `--rollback` on a copy of the shipped heads and a small slice
of the training data (the real run encodes all of it and takes minutes)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from analyzer.classifier import CONFIG_NAME, ModelScorer, default_model_dir
from analyzer.retrain import reviewed_rows, retrain_heads, rollback
from analyzer.training import CALIBRATION_WRITERS, split_of

pytestmark = pytest.mark.skipif(not ModelScorer.available(), reason="heads not trained (make train)")


@pytest.fixture
def model_copy(tmp_path) -> Path:
    target = tmp_path / "models"
    target.mkdir()
    for path in [*default_model_dir().glob("*.safetensors"), *default_model_dir().glob("*.json")]:
        shutil.copy(path, target)  # the heads, peft's adapter and their configs
    return target


@pytest.fixture
def small_data(tmp_path) -> Path:
    rows = []
    for path in sorted((default_model_dir() / "data" / "raw").glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines()[:40]]
    assert {split_of(r["scenario"]) for r in rows} == {"train", "val", "test"}
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "slice.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "data" / "calls").mkdir()
    for writer in CALIBRATION_WRITERS:  # the thresholds are chosen out of fold on their calls
        lines = (default_model_dir() / "data" / "calls" / writer).read_text().splitlines()[:60]
        (tmp_path / "data" / "calls" / writer).write_text("\n".join(lines) + "\n")
    return tmp_path / "data"


def _reviewed(path: Path) -> Path:
    header = ["call_id", "behavior", "confidence", "excerpt", "context", "review_verdict", "review_note"]
    rows = [
        ["c1", "commitment", "0.9", "I'll send the revised quote by Friday.", "Jim: Can you send it?", "agree", ""],
        ["c1", "commitment", "0.7", "We usually ship on Fridays.", "Jim: When do you ship?", "disagree", "not a promise"],
        ["c2", "manipulation", "0.8", "Only two left at this price!", "Ann: Let me think.", "yes", ""],
        ["c2", "manipulation", "0.6", "The state rebate ends Dec 31, here's the page.", "Ann: When?", "no", "a real deadline"],
        ["c3", "reframing", "0.7", "So what you need is a faster printer.", "Bo: Printers are slow.", "", ""],
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_retrain_reads_only_rows_with_verdicts(tmp_path):
    rows = reviewed_rows(_reviewed(tmp_path / "r.csv"))
    assert len(rows) == 4
    assert rows[0]["labels"] == ["commitment"] and rows[1]["labels"] == []
    assert rows[0]["context"] == "Can you send it?" and "coach review" in rows[0]["origin"]


def test_retrain_reports_before_after_and_rolls_back(model_copy, small_data, tmp_path):
    original = (model_copy / CONFIG_NAME).read_text()
    result = retrain_heads(_reviewed(tmp_path / "r.csv"), model_copy, small_data)
    assert result["added"] == 4
    assert set(result["before"]) and set(result["after"])
    config = json.loads((model_copy / CONFIG_NAME).read_text())
    assert config["extra_training"]["rows"] == 4
    assert (model_copy / "previous" / CONFIG_NAME).read_text() == original
    ModelScorer(model_copy)  # the retrained heads load and verify
    rollback(model_copy)
    assert (model_copy / CONFIG_NAME).read_text() == original
