"""The model's files: which heads.json names, where they are found, and a missing or damaged
one stopping `analyze` and `classify` with a coded message (exit 2) unless --patterns-only
was asked for. Never a quiet fall back to patterns alone."""
from __future__ import annotations

import json
import shutil
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import EXIT_OK, EXIT_USAGE, app
from analyzer.model_files import (
    CONFIG_NAME, MODEL_DIR_ENV, WEIGHTS_NAME, default_model_dir, problem, referenced_files, shipped_files,
)
from analyzer.pipeline import OUTPUT_FORMAT

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED = json.loads((REPO / "models" / CONFIG_NAME).read_text())
ADAPTER = SHIPPED["adapter"]["file"]


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """The shipped model's top-level files, to break one at a time."""
    target = tmp_path / "model"
    target.mkdir()
    for name in shipped_files(REPO / "models"):
        shutil.copyfile(REPO / "models" / name, target / name)
    return target


def _missing(directory: Path, name: str) -> None:
    (directory / name).unlink()


def _flipped(directory: Path, name: str) -> None:
    data = bytearray((directory / name).read_bytes())
    data[len(data) // 2] ^= 1
    (directory / name).write_bytes(bytes(data))


def _not_json(directory: Path, name: str) -> None:
    (directory / name).write_text("{ truncated")


DAMAGE = [
    pytest.param(None, None, None, id="intact"),
    pytest.param(_missing, CONFIG_NAME, "E301", id="heads.json missing"),
    pytest.param(_missing, WEIGHTS_NAME, "E301", id="weights missing"),
    pytest.param(_missing, ADAPTER, "E301", id="adapter missing"),
    pytest.param(_flipped, WEIGHTS_NAME, "E302", id="weights one bit flipped"),
    pytest.param(_flipped, ADAPTER, "E302", id="adapter one bit flipped"),
    pytest.param(_not_json, CONFIG_NAME, "E302", id="heads.json not JSON"),
]


@pytest.mark.parametrize(("damage", "name", "code"), DAMAGE)
def test_model_files_problem(model_copy, damage, name, code):
    if damage:
        damage(model_copy, name)
    found = problem(model_copy)
    assert (found[0] if found else None) == code
    if found and damage is not _not_json:
        assert found[1].startswith(str(model_copy / name)), found


@pytest.mark.parametrize(("config", "expected"), [
    pytest.param(SHIPPED, {WEIGHTS_NAME, ADAPTER}, id="shipped heads.json"),
    pytest.param({"weights_sha256": "ab"}, {WEIGHTS_NAME}, id="no adapter"),
    pytest.param({"weights_sha256": "ab", "parts": [{"tokenizer": {"file": "tok.json", "sha256": "cd"}}]},
                 {WEIGHTS_NAME, "tok.json"}, id="a nested file entry"),
    pytest.param({"weights_sha256": "ab", "adapter": {"file": "a.safetensors"}}, {WEIGHTS_NAME},
                 id="a file without sha256 is not a checked file"),
])
def test_model_files_referenced(config, expected):
    assert set(referenced_files(config)) == expected


def test_model_files_shipped_cover_referenced():
    """What the wheel carries (setup.py) includes every file heads.json names."""
    shipped = set(shipped_files(REPO / "models"))
    assert {CONFIG_NAME, *referenced_files(SHIPPED)} <= shipped
    assert "train.py" not in shipped and "metrics.json" in shipped


@pytest.mark.parametrize(("override", "expected"), [
    pytest.param(None, REPO / "models", id="checkout: models/ beside analyzer/"),
    pytest.param("/elsewhere/model", Path("/elsewhere/model"), id="LOYALTY_MODEL_DIR"),
])
def test_model_files_default_dir(monkeypatch, override, expected):
    if override is None:
        monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    else:
        monkeypatch.setenv(MODEL_DIR_ENV, override)
    assert default_model_dir() == expected


def _classify_input(tmp_path: Path) -> Path:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "1", "text": "I'll send it by Friday.", "context": ""}) + "\n")
    return source


@pytest.mark.parametrize(("command", "damage", "name", "exit_code", "code"), [
    pytest.param("analyze", _missing, WEIGHTS_NAME, EXIT_USAGE, "E301", id="analyze, weights missing"),
    pytest.param("analyze", _flipped, ADAPTER, EXIT_USAGE, "E302", id="analyze, adapter damaged"),
    pytest.param("analyze --patterns-only", _missing, CONFIG_NAME, EXIT_OK, None, id="analyze --patterns-only runs"),
    pytest.param("classify", _missing, CONFIG_NAME, EXIT_USAGE, "E301", id="classify, heads.json missing"),
    pytest.param("classify", _flipped, WEIGHTS_NAME, EXIT_USAGE, "E302", id="classify, weights damaged"),
])
def test_model_files_cli_stops(model_copy, tmp_path, command, damage, name, exit_code, code):
    damage(model_copy, name)
    cmd, *flags = command.split()
    out = tmp_path / "out"
    if cmd == "analyze":
        args = [cmd, str(FIXTURES), "--out", str(out), "-q", *flags]
    else:
        args = [cmd, str(_classify_input(tmp_path)), "--out", str(out / "scored.jsonl")]
    result = CliRunner().invoke(app, args, env={MODEL_DIR_ENV: str(model_copy)})
    assert result.exit_code == exit_code, result.output
    if code:
        assert f"[{code}]" in result.output and str(model_copy / name) in result.output
        assert not out.exists(), "nothing is written when the model is unusable"


@pytest.mark.parametrize(("damage", "exit_code"), [
    pytest.param(None, EXIT_OK, id="intact"),
    pytest.param(_flipped, EXIT_USAGE, id="weights damaged"),
])
def test_model_files_version(model_copy, damage, exit_code):
    if damage:
        damage(model_copy, WEIGHTS_NAME)
    result = CliRunner().invoke(app, ["--version"], env={MODEL_DIR_ENV: str(model_copy)})
    assert result.exit_code == exit_code, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"loyalty-analyzer {version('loyalty-analyzer')}"
    assert f"output format: {OUTPUT_FORMAT}" in lines
    if damage:
        assert "[E302]" in result.output
    else:
        assert lines[1].startswith(f"model: heads {SHIPPED['weights_sha256'][:12]}, adapter {SHIPPED['adapter']['sha256'][:12]}")
        assert "held-out mean F1" in lines[1] and lines[1].endswith(f"({model_copy})")


def test_model_files_train_needs_training_data(model_copy, tmp_path):
    """An installed package has the model but not its training data: `train --extra` says
    so instead of retraining the heads on the coach's verdicts alone."""
    reviewed = tmp_path / "flagged_excerpts.csv"
    reviewed.write_text("behavior,excerpt,review_verdict\ncommitment,I'll send it Friday,agree\n")
    result = CliRunner().invoke(app, ["train", "--extra", str(reviewed)], env={MODEL_DIR_ENV: str(model_copy)})
    assert result.exit_code == EXIT_USAGE, result.output
    assert f"no training data in {model_copy / 'data' / 'raw'}" in result.output
    assert sorted(p.name for p in model_copy.iterdir()) == shipped_files(REPO / "models"), "the model is untouched"
