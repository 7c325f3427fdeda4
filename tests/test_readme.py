"""The documentation (README.md and docs/*.md) names every output column, error code and CLI
option; the README stays a short front page whose commands and links all work."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzer.errors import PROBLEMS
from analyzer.export import columns

ROOT = Path(__file__).parent.parent
README_PATH = ROOT / "README.md"
README = README_PATH.read_text(encoding="utf-8")
PAGES = [README_PATH, *sorted((ROOT / "docs").glob("*.md")), ROOT / "models" / "MODEL_CARD.md"]
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in PAGES[:-1])  # README + docs/*.md
README_LIMIT = 12_000  # bytes: a front page, not the reference
DOCUMENTED = sorted(
    set(columns.FLAGGED_EXCERPTS + columns.REP_SCORES + columns.ACCOUNT_SCORES + columns.ERRORS + columns.ANNOTATION_KEYS + columns.COMMITMENTS)
    | {c for c in columns.CALL_SCORES if not c.startswith("R")}
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _cli():
    from typer.main import get_command

    from analyzer.cli import app

    return get_command(app)


def _options(command) -> set[str]:
    return {o for p in command.params for o in p.opts if o.startswith("--")}


def _analyze_options() -> list[str]:
    return sorted(_options(_cli().commands["analyze"]))


def _subcommand_options() -> list[tuple[str, str]]:
    return sorted((name, o) for name, command in _cli().commands.items() for o in _options(command))


def _make_targets() -> set[str]:
    """Targets the Makefile defines (rule lines `name: ...`, not variables `NAME := ...`)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.MULTILINE)}


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.MULTILINE)}


def _broken(target: str, page: Path) -> str | None:
    """Why a link from `page` does not resolve, or None; web links are not checked."""
    if re.match(r"[a-z]+:", target):
        return None
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    if not file.exists():
        return f"{path} does not exist"
    if anchor and file.suffix == ".md" and anchor not in _anchors(file):
        return f"{path or page.name} has no heading #{anchor}"
    return None


def _links() -> list[tuple[str, str]]:
    return [(p.relative_to(ROOT).as_posix(), m.group(1)) for p in PAGES for m in LINK.finditer(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_readme_documents_column(name):
    assert f"`{name}`" in DOCS


@pytest.mark.parametrize("code", sorted(PROBLEMS))
def test_readme_documents_error_code(code):
    assert f"| {code} |" in DOCS


@pytest.mark.parametrize("option", _analyze_options())
def test_readme_documents_option(option):
    assert f"`{option}`" in DOCS


@pytest.mark.parametrize(("command", "option"), _subcommand_options())
def test_readme_documents_subcommand_option(command, option):
    assert re.search(rf"loyalty {command}\b[^\n]*{re.escape(option)}\b", DOCS) or f"`{option}`" in DOCS


def test_readme_is_short():
    assert len(README.encode("utf-8")) < README_LIMIT


@pytest.mark.parametrize(("page", "target"), _links())
def test_readme_links_resolve(page, target):
    assert _broken(target, ROOT / page) is None, _broken(target, ROOT / page)


@pytest.mark.parametrize(
    ("target", "broken"),
    [
        ("docs/cli.md", False),
        ("docs/cli.md#exit-codes", False),
        ("docs/outputs.md#errorscsv", False),
        ("https://example.com/missing.md", False),
        ("docs/missing.md", True),
        ("docs/cli.md#no-such-heading", True),
        ("models/NO_CARD.md", True),
    ],
)
def test_readme_link_checker(target, broken):
    assert (_broken(target, README_PATH) is not None) is broken


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Exit codes", "exit-codes"),
        ("Outputs (in `--out`)", "outputs-in---out"),
        ("Big folders, messy folders, interrupted runs", "big-folders-messy-folders-interrupted-runs"),
        ("errors.csv", "errorscsv"),
        ("Scores (per call, 0–100, empty when the call gave no opportunity)", "scores-per-call-0100-empty-when-the-call-gave-no-opportunity"),
    ],
)
def test_readme_heading_anchor(heading, slug):
    assert _slug(heading) == slug


@pytest.mark.parametrize("target", sorted(set(re.findall(r"\bmake ([a-z][\w-]*)", README))))
def test_readme_make_target_exists(target):
    assert target in _make_targets()


@pytest.mark.parametrize("name", sorted(set(re.findall(r"\bloyalty ([a-z][\w-]*)", README))))
def test_readme_subcommand_exists(name):
    assert name in _cli().commands


@pytest.mark.parametrize("option", sorted(set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", README))))
def test_readme_option_exists(option):
    cli = _cli()
    known = _options(cli).union(*(_options(c) for c in cli.commands.values()))
    assert option in known


@pytest.mark.parametrize(
    ("target", "exists"),
    [("demo", True), ("test", True), ("bench", True), ("train", True), ("eval", True), ("BIN", False), ("CALLS", False), ("deploy", False)],
)
def test_readme_makefile_parser(target, exists):
    assert (target in _make_targets()) is exists
