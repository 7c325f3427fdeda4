"""The README documents every output column, error code and CLI option."""
from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.errors import PROBLEMS
from analyzer.export import columns

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
DOCUMENTED = sorted(
    set(columns.FLAGGED_EXCERPTS + columns.REP_SCORES + columns.ACCOUNT_SCORES + columns.ERRORS + columns.ANNOTATION_KEYS + columns.COMMITMENTS)
    | {c for c in columns.CALL_SCORES if not c.startswith("R")}
)


@pytest.mark.parametrize("name", DOCUMENTED)
def test_readme_documents_column(name):
    assert f"`{name}`" in README


@pytest.mark.parametrize("code", sorted(PROBLEMS))
def test_readme_documents_error_code(code):
    assert f"| {code} |" in README


def _analyze_options() -> list[str]:
    from typer.main import get_command

    from analyzer.cli import app

    command = get_command(app).commands["analyze"]
    return sorted(o for p in command.params for o in p.opts if o.startswith("--"))


@pytest.mark.parametrize("option", _analyze_options())
def test_readme_documents_option(option):
    assert f"`{option}`" in README
