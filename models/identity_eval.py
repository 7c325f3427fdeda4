"""How well the folder-level identity pass works without a manifest.

Given a folder with a `manifest.csv` (file, salesperson, account) and optionally a
`key.jsonl` whose `{"kind": "call", "file", "salesperson_label", "account"}` rows name the
salesperson's speaker label per file, copy the transcripts to a temporary folder without
either, run the same pass the pipeline runs (ingest.folder_identities, then read_call), and
print:
- salesperson accuracy per call (the label the tool picked against the key's label);
- account grouping: pairwise precision / recall of "these two calls are one account";
- one person, one salesperson: each true salesperson appears under exactly one name, and
  no name covers two true salespeople (what rep_scores.csv would show).

Without key.jsonl the label is the one speaker whose label names the manifest's
salesperson; files where none or several do are left out of the accuracy (say so with
`--key`). Usage: python models/identity_eval.py FOLDER [--key KEY.jsonl] [--hide-names] [--hide-labels] [--quiet]
"""
from __future__ import annotations

import argparse
import hashlib
import csv
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzer.ingest import discover, folder_identities, read_call  # noqa: E402
from analyzer.ingest.common import plausible_label  # noqa: E402
from analyzer.ingest.metadata import MANIFEST_NAME, name_matches  # noqa: E402
from analyzer.ingest.text import TURN_LINE  # noqa: E402

KEY_NAME = "key.jsonl"


@dataclass
class IdentityEval:
    calls: int = 0
    judged: int = 0
    correct: int = 0
    pair_precision: float = 0.0
    pair_recall: float = 0.0
    rep_names: dict[str, set[str]] = field(default_factory=dict)   # true salesperson -> names given
    name_people: dict[str, set[str]] = field(default_factory=dict)  # name given -> true salespeople
    rows: list[tuple[str, str, str, str, str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.judged if self.judged else 0.0

    @property
    def one_person_one_rep(self) -> bool:
        return all(len(v) == 1 for v in self.rep_names.values()) and all(len(v) == 1 for v in self.name_people.values())


def _truth(folder: Path, key: Path | None) -> dict[str, dict[str, str]]:
    with open(folder / MANIFEST_NAME, newline="", encoding="utf-8-sig") as handle:
        truth = {row["file"]: {"salesperson": row["salesperson"], "account": row["account"]} for row in csv.DictReader(handle)}
    key = key or (folder / KEY_NAME if (folder / KEY_NAME).is_file() else None)
    if key:
        for line in key.read_text("utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("kind") == "call" and row.get("file") in truth:
                truth[row["file"]]["label"] = row["salesperson_label"]
    return truth


def hide_speakers(path: Path) -> dict[str, str]:
    """Rewrite a `Speaker: text` transcript with `spk_N` labels, numbered in order of first
    appearance, as a diarising speech-to-text export labels them; returns old -> new label.
    A label is what the text reader takes for one (TURN_LINE, plausible_label)."""
    labels: dict[str, str] = {}
    lines = []
    for line in path.read_text("utf-8").split("\n"):
        match = TURN_LINE.match(line)
        if match and plausible_label(match["name"].strip()):
            new = labels.setdefault(match["name"].strip(), f"spk_{len(labels)}")
            line = line[:match.start("name")] + new + line[match.end("name"):]
        lines.append(line)
    path.write_text("\n".join(lines), "utf-8")
    return labels


def evaluate(folder: Path, key: Path | None = None, reps: tuple[str, ...] = (), hide_names: bool = False,
             hide_labels: bool = False) -> IdentityEval:
    """Hide the manifest and key (with `hide_names` the file names' account and date too:
    files become `call-NNN`; with `hide_labels` the speakers' names: labels become `spk_N`),
    infer, compare. Nothing in `folder` is changed."""
    truth = _truth(folder, key)
    result = IdentityEval()
    predicted_account: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / folder.name
        shutil.copytree(folder, root, ignore=shutil.ignore_patterns(MANIFEST_NAME, KEY_NAME))
        if hide_names:
            renamed = {}
            for number, name in enumerate(sorted(truth, key=lambda n: hashlib.sha256(n.encode()).hexdigest()), start=1):
                new = f"call-{number:03d}{Path(name).suffix}"
                (root / name).rename(root / new)
                renamed[new] = truth[name]
            truth = renamed
        if hide_labels:
            for name, expected in truth.items():
                labels = hide_speakers(root / name)
                if expected.get("label") is None:  # named by the manifest only: find its label first
                    named = [old for old in labels if name_matches(old, expected["salesperson"])]
                    expected["label"] = named[0] if len(named) == 1 else None
                if expected.get("label") is not None:
                    expected["label"] = labels.get(expected["label"])
        files = [p for p in discover(root) if p.relative_to(root).as_posix() in truth]
        identities, _ = folder_identities(files, root, reps=reps)
        for path in files:
            relative = path.relative_to(root).as_posix()
            call, _ = read_call(path, root, reps=reps, identity=identities.get(relative))
            expected = truth[relative]
            label = expected.get("label")
            if label is None:
                matches = [s for s in call.speakers if name_matches(s, expected["salesperson"])]
                label = matches[0] if len(matches) == 1 else None
            result.calls += 1
            picked = call.salesperson.speaker
            if label is not None:
                result.judged += 1
                result.correct += picked == label
                if picked == label:
                    result.rep_names.setdefault(expected["salesperson"], set()).add(call.salesperson_name)
                    result.name_people.setdefault(call.salesperson_name, set()).add(expected["salesperson"])
            predicted_account[relative] = call.meta.account or f"(none: {relative})"
            result.rows.append((relative, label or "?", picked, f"{call.salesperson.confidence:.2f}",
                                call.salesperson_name, predicted_account[relative], call.meta.account_source))
    same_true = same_pred = both = 0
    for a, b in combinations(sorted(predicted_account), 2):
        t = truth[a]["account"] == truth[b]["account"]
        p = predicted_account[a] == predicted_account[b]
        same_true += t
        same_pred += p
        both += t and p
    result.pair_precision = both / same_pred if same_pred else 1.0
    result.pair_recall = both / same_true if same_true else 1.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--key", type=Path, help="key.jsonl with the salesperson label per file (default: FOLDER/key.jsonl)")
    parser.add_argument("--rep", action="append", default=[], help="a salesperson's name, as --rep gives it")
    parser.add_argument("--hide-names", action="store_true",
                        help="rename the files call-NNN first: accounts must come from the calls themselves")
    parser.add_argument("--hide-labels", action="store_true",
                        help="relabel every speaker spk_N first (a diarised export): names only from what is said")
    parser.add_argument("--quiet", action="store_true", help="totals only")
    args = parser.parse_args()
    result = evaluate(args.folder, args.key, tuple(args.rep), args.hide_names, args.hide_labels)
    if not args.quiet:
        print("file\ttrue label\tpicked\tconfidence\tsalesperson\taccount\taccount source")
        for row in result.rows:
            mark = "" if row[1] in ("?", row[2]) else "  <-- wrong"
            print("\t".join(row) + mark)
        print()
    print(f"salesperson right: {result.correct}/{result.judged} calls ({100 * result.accuracy:.1f} %)"
          + (f"; {result.calls - result.judged} without a known label" if result.calls > result.judged else ""))
    print(f"same account, pairwise: precision {result.pair_precision:.3f}, recall {result.pair_recall:.3f}")
    merged = {k: sorted(v) for k, v in result.rep_names.items() if len(v) > 1}
    shared = {k: sorted(v) for k, v in result.name_people.items() if len(v) > 1}
    print(f"one person, one salesperson: {'yes' if result.one_person_one_rep else 'no'}"
          f" ({len(result.rep_names)} salespeople, {len(result.name_people)} names)"
          + (f"; split: {merged}" if merged else "") + (f"; shared: {shared}" if shared else ""))


if __name__ == "__main__":
    main()
