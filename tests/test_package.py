"""The wheel is what users get. Built from this checkout the way `python -m build` builds it
(through the sdist), installed into a fresh virtual environment -- plain, and laid out as
pipx lays out an app -- and run from another folder, it carries the model and writes the
same outputs, byte for byte, as the development install.

Offline and quick: the wheel goes in with --no-deps, and a .pth file then lets the fresh
environment import the development environment's dependencies (torch alone is ~1 GB)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from analyzer.model_files import CONFIG_NAME, MODEL_DIR_ENV, PACKAGED, WEIGHTS_NAME, referenced_files, shipped_files

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_transcripts"
CONFIG = json.loads((REPO / "models" / CONFIG_NAME).read_text())
# run.json fields that differ between any two runs by their nature: when, and how long each stage took
PER_RUN = (("finished_at",), ("run", "stage_seconds"))
NOT_SOURCE = {".git", ".venv", "build", "dist", "out", "__pycache__", ".pytest_cache", ".hypothesis", "artifacts"}


def _source_copy(target: Path) -> Path:
    """The checkout without its environment and build leftovers (a stale build/ or egg-info
    must not decide what the wheel holds)."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in NOT_SOURCE or n.endswith(".egg-info")}
        if Path(folder).name == "models":
            skipped |= {"data", ".cache", "previous"} & set(names)
        if Path(folder).name == "bench":
            skipped |= {"work"} & set(names)
        return skipped

    shutil.copytree(REPO, target, ignore=ignore)
    return target


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {MODEL_DIR_ENV, "PYTHONPATH", "VIRTUAL_ENV"}}
    return {**env, **extra}


def _venv(prefix: Path, wheel: Path) -> Path:
    """A fresh environment holding only the wheel; the dependencies through a .pth file,
    written after pip has run, so pip never sees (nor touches) the development install."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    python = prefix / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, env=_clean_env())
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "development-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return prefix / "bin" / "loyalty"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("build")
    source = _source_copy(base / "src")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(base / "dist"), str(source)],
                   check=True, capture_output=True, env=_clean_env())
    return next((base / "dist").glob("*.whl"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """Another folder, holding only the transcripts: nothing of the checkout is near."""
    folder = tmp_path_factory.mktemp("work")
    shutil.copytree(SAMPLES, folder / "sample_transcripts")
    return folder


@pytest.fixture(scope="module")
def development_out(workdir) -> Path:
    subprocess.run([sys.executable, "-m", "analyzer.cli", "analyze", "sample_transcripts", "--out", "development", "-q"],
                   cwd=workdir, check=True, env=_clean_env(PYTHONPATH=str(REPO)))
    return workdir / "development"


@pytest.fixture(scope="module")
def installed_cache(tmp_path_factory) -> Path:
    """The installed copies' own cache folder: they build the int8 encoder themselves, as a
    new user's would, instead of reusing the development install's."""
    return tmp_path_factory.mktemp("cache")


def _plain(prefix: Path, wheel: Path) -> tuple[list[str], dict[str, str]]:
    return [str(_venv(prefix, wheel))], {}


def _pipx(prefix: Path, wheel: Path) -> tuple[list[str], dict[str, str]]:
    """pipx's layout: the app's own environment under PIPX_HOME/venvs/, its command linked
    into a bin folder on PATH, called by name."""
    command = _venv(prefix / "pipx_home" / "venvs" / "loyalty-analyzer", wheel)
    bin_dir = prefix / "bin"
    bin_dir.mkdir()
    (bin_dir / "loyalty").symlink_to(command)
    return ["loyalty"], {"PATH": f"{bin_dir}{os.pathsep}{os.defpath}"}


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _without_per_run(raw: bytes) -> dict:
    record = json.loads(raw)
    for path in PER_RUN:
        parent = record
        for key in path[:-1]:
            parent = parent[key]
        assert path[-1] in parent, path
        del parent[path[-1]]
    return record


def test_package_wheel_carries_the_model(wheel):
    models = REPO / "models"
    with zipfile.ZipFile(wheel) as archive:
        packaged = {Path(n).name: archive.read(n) for n in archive.namelist() if n.startswith(f"analyzer/{PACKAGED}/")}
    assert {CONFIG_NAME, *referenced_files(CONFIG)} <= set(packaged)
    assert sorted(packaged) == shipped_files(models), "training code and data stay out of the wheel"
    for name, data in packaged.items():
        assert data == (models / name).read_bytes(), name


@pytest.mark.parametrize(("damage", "code"), [
    pytest.param(lambda models: (models / WEIGHTS_NAME).unlink(), "E301", id="weights missing"),
    pytest.param(lambda models: (models / sorted(set(referenced_files(CONFIG)) - {WEIGHTS_NAME})[0]).write_bytes(b"x"),
                 "E302", id="another file heads.json names replaced"),
])
def test_package_build_refuses_a_damaged_model(tmp_path, damage, code):
    source = _source_copy(tmp_path / "src")
    damage(source / "models")
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(tmp_path / "dist"),
                            str(source)], capture_output=True, text=True, env=_clean_env())
    assert built.returncode != 0 and f"[{code}] models/ cannot go into the wheel" in built.stdout + built.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))


@pytest.mark.parametrize("install", [_plain, _pipx], ids=["venv", "pipx"])
def test_package_installed_outputs_match_development(wheel, workdir, development_out, installed_cache, tmp_path,
                                                    install):
    command, env = install(tmp_path / "install", wheel)
    env = _clean_env(LOYALTY_CACHE_DIR=str(installed_cache), **env)
    shown = subprocess.run([*command, "--version"], cwd=workdir, env=env, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    model_line = next(line for line in shown.stdout.splitlines() if line.startswith("model: "))
    assert f"{tmp_path / 'install'}" in model_line and model_line.endswith(f"analyzer/{PACKAGED})"), model_line

    out = install.__name__.strip("_")
    subprocess.run([*command, "analyze", "sample_transcripts", "--out", out, "-q"], cwd=workdir, env=env, check=True)
    installed, development = _files(workdir / out), _files(development_out)
    assert sorted(installed) == sorted(development)
    assert json.loads(installed["run.json"])["model"]["kind"] == "heads"
    assert _without_per_run(installed.pop("run.json")) == _without_per_run(development.pop("run.json"))
    for name in development:
        assert installed[name] == development[name], name
