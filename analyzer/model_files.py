"""The model's files: where they are, which they are and whether they are intact.

heads.json names the files analysis needs (the heads' weights and every {"file", "sha256"}
entry, e.g. the adapter) with their sha256. A wheel carries them as package data in
`analyzer/models/` (setup.py copies them there from `models/`); a checkout, editable or
not, reads `models/` itself, where `make train` writes. Standard library only, and no
other analyzer import at module level: setup.py loads this file on its own, before the
package's dependencies exist."""
from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path

MODEL_DIR_ENV = "LOYALTY_MODEL_DIR"
CONFIG_NAME = "heads.json"
WEIGHTS_NAME = "heads.safetensors"
SHIPPED = ("*.safetensors", "*.json")  # what the wheel carries from the top of models/
PACKAGED = "models"                    # ... and where, inside the `analyzer` package


def default_model_dir() -> Path:
    """LOYALTY_MODEL_DIR when set; else the files installed with the package; else `models/`
    of the checkout this `analyzer/` belongs to. Keyed to the `analyzer` actually imported,
    so a checkout never reads another checkout's or an installed copy's model."""
    if override := os.environ.get(MODEL_DIR_ENV):
        return Path(override)
    installed = resources.files("analyzer") / PACKAGED
    checkout = Path(__file__).resolve().parent.parent / "models"
    if isinstance(installed, Path) and (installed.is_dir() or not checkout.is_dir()):
        return installed
    return checkout


def referenced_files(config: dict) -> dict[str, str]:
    """name -> sha256 of every file heads.json names: the heads' weights (`weights_sha256`)
    and any {"file": ..., "sha256": ...} entry, however deep."""
    files = {WEIGHTS_NAME: config.get("weights_sha256", "")}

    def walk(value) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("file"), str) and isinstance(value.get("sha256"), str):
                files[value["file"]] = value["sha256"]
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(config)
    return files


def shipped_files(directory: Path) -> list[str]:
    """What a wheel carries: every top-level *.safetensors and *.json of `directory` (the
    files heads.json names are among them, checked by `problem`)."""
    return sorted({p.name for pattern in SHIPPED for p in directory.glob(pattern) if p.is_file()})


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def problem(directory: Path) -> tuple[str, str] | None:
    """The first thing wrong with the model in `directory`, as (code, detail): E301 a file is
    missing, E302 one is damaged (heads.json unreadable, or a file whose sha256 is not the
    one heads.json records). None when every file is there and intact."""
    config_path = directory / CONFIG_NAME
    if not config_path.is_file():
        return "E301", str(config_path)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:
        return "E302", f"{config_path}: {type(err).__name__}"
    for name, expected in referenced_files(config).items():
        path = directory / name
        if not path.is_file():
            return "E301", str(path)
        if sha256(path) != expected:
            return "E302", f"{path}: sha256 is not the one {CONFIG_NAME} records"
    return None


def verify(directory: Path | None = None) -> dict:
    """heads.json of `directory` (default: `default_model_dir()`), once every file it names
    is present and intact; else ModelError (E301, E302)."""
    from analyzer.errors import ModelError  # here, not above: setup.py loads this file alone

    directory = directory or default_model_dir()
    if found := problem(directory):
        raise ModelError(*found)
    return json.loads((directory / CONFIG_NAME).read_text(encoding="utf-8"))


def describe(config: dict) -> str:
    """One line naming the model: short sha256 of heads, adapter and encoder, and the
    held-out F1 it was shipped with (heads.json `metrics`, as in metrics.json)."""
    short = lambda digest: (digest or "none")[:12]  # noqa: E731
    adapter = (config.get("adapter") or {}).get("sha256")
    line = f"heads {short(config.get('weights_sha256'))}, adapter {short(adapter)}, " \
           f"encoder {short(config.get('encoder_sha256'))}"
    held_out = (config.get("metrics") or {}).get("held_out") or {}
    f1 = [v["f1"] for v in held_out.values() if isinstance(v, dict) and "f1" in v]
    if f1:
        rows = ((config.get("metrics") or {}).get("data") or {}).get("train")
        line += f"; held-out mean F1 {sum(f1) / len(f1):.3f} over {len(f1)} behaviours"
        line += f", trained on {rows} rows" if rows else ""
    return line
