"""Coded errors. Input errors name the file, the problem and the fix, so a coach can act on
one line of `errors.csv` without reading a traceback (which may hold transcript text)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"      # the file was not analysed
    WARNING = "warning"  # the file was analysed, with a caveat
    SKIPPED = "skipped"  # not a transcript; left alone on purpose


@dataclass(frozen=True)
class Problem:
    """What went wrong with one file, as written to errors.csv and stderr."""

    code: str
    message: str
    fix: str
    severity: Severity = Severity.ERROR


# One place for every problem the tool reports: code -> (message, fix, severity). E1xx/W2xx
# are per input file (errors.csv); E3xx stop the run (the model's files, see ModelError).
PROBLEMS: dict[str, Problem] = {
    p.code: p
    for p in (
        Problem("E101", "the file is empty", "re-export the transcript; nothing to analyse"),
        Problem("E102", "the file is binary, not text",
                "export the transcript as text, VTT, SRT, JSON, CSV or Word .docx"),
        Problem("E103", "the file could not be read ({detail})", "check the file's permissions and that it still exists"),
        Problem("E104", "unsupported file extension '{detail}'",
                "rename to .txt, .vtt, .srt, .json, .csv or .docx if it is a transcript",
                Severity.SKIPPED),
        Problem("E105", "the file is not valid {detail}", "re-export it; the file looks truncated or is another format"),
        Problem("E106", "no speaker turns could be parsed ({detail})",
                "each turn needs a speaker label, e.g. 'Dana: Hello' or a <v Dana> voice tag"),
        Problem("E107", "only one speaker ({detail}): a call needs a salesperson and a customer",
                "check that the export kept speaker labels (diarization) for every speaker"),
        Problem("E108", "the salesperson '{detail}' named in the metadata is not a speaker in this file",
                "fix the manifest's salesperson_speaker column, or remove it to let the tool infer"),
        Problem("E109", "the manifest is unusable ({detail})",
                "give manifest.csv a header with at least 'file' and one of call_id, date, salesperson, account"),
        Problem("E110", "the file is too large ({detail})", "split the transcript or raise --max-file-mb"),
        Problem("E111", "the folder could not be read ({detail})", "check its permissions; its files were not analysed"),
        Problem("E112", "the Word document is password-protected",
                "save a copy without a password (File > Info > Protect Document) and analyse that"),
        Problem("E199", "internal error while analysing ({detail})",
                "please report it with the file's format (not its content); the rest of the batch ran"),
        Problem("E301", "a model file is missing ({detail})",
                "reinstall loyalty-analyzer (its wheel carries the model), or point LOYALTY_MODEL_DIR at a "
                "complete model folder; --patterns-only runs without the model"),
        Problem("E302", "a model file is damaged ({detail})",
                "reinstall loyalty-analyzer, or restore models/ in a checkout (git checkout models/, or "
                "make train); --patterns-only runs without the model"),
        Problem("W201", "decoded as Windows-1252 because it is not valid UTF-8",
                "check accented characters; re-export as UTF-8 if they look wrong", Severity.WARNING),
        Problem("W202", "the salesperson was inferred as '{detail}'",
                "name the salesperson in manifest.csv (salesperson_speaker) or with --rep if this is wrong",
                Severity.WARNING),
        Problem("W203", "{detail} in the manifest matches no transcript file",
                "fix the 'file' column (paths are relative to the manifest)", Severity.WARNING),
        Problem("W204", "unparsable date '{detail}' ignored", "use ISO dates, e.g. 2026-09-03", Severity.WARNING),
        Problem("W206", "{detail} turns longer than the turn limit were split into pieces",
                "check the speaker labels: a whole call under one speaker often means diarization failed",
                Severity.WARNING),
        Problem("W205", "{detail} lines could not be parsed and were skipped",
                "check the lines named in the message against the format in docs/inputs.md", Severity.WARNING),
    )
}


class InputError(Exception):
    """A problem with one input file. The batch records it and goes on."""

    def __init__(self, path: str, code: str, detail: str = "") -> None:
        self.path = path
        self.problem = PROBLEMS[code]
        self.detail = detail
        super().__init__(self.line())

    def __reduce__(self):  # crosses process and cluster boundaries (engines.py)
        return (InputError, (self.path, self.code, self.detail))

    @property
    def code(self) -> str:
        return self.problem.code

    @property
    def message(self) -> str:
        return self.problem.message.format(detail=self.detail)

    def line(self) -> str:
        return f"{self.path}: [{self.code}] {self.message} -- {self.problem.fix}"


def warning(path: str, code: str, detail: str = "") -> InputError:
    """Warnings share InputError's shape; they are recorded, never raised."""
    return InputError(path, code, detail)


class OutputError(Exception):
    """The output folder cannot be written: the whole run stops (exit code 3)."""


class ModelError(Exception):
    """The learned model's files are missing or damaged: analysis stops (exit 2) instead of
    quietly running on patterns alone. Not per file: nothing would be analysed as asked."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.problem = PROBLEMS[code]
        self.detail = detail
        super().__init__(self.line())

    def __reduce__(self):
        return (ModelError, (self.code, self.detail))

    @property
    def code(self) -> str:
        return self.problem.code

    def line(self) -> str:
        return f"[{self.code}] {self.problem.message.format(detail=self.detail)} -- {self.problem.fix}"
