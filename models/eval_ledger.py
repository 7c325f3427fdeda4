"""Score the cross-call ledger against an answer key (`make eval-ledger`).

FOLDER is in the accounts layout: transcripts, manifest.csv and key.jsonl (commitments with
their status, overdue flag and evidence; mistakes with `repeat_of`). The script runs
`loyalty analyze FOLDER --manifest FOLDER/manifest.csv` and scores what it wrote:

- commitments: each key commitment is matched to the analyzer's commitment from the same
  call whose action overlaps the key's promise text (or whose restatements do); a key
  commitment the analyzer did not find counts as wrong. Outcome accuracy overall (beside
  the all-`open` baseline) and recall per status; overdue accuracy;
- repeated mistakes: a `repeated_mistake` row is right when the key has a repeat in that
  call of a mistake first seen in the call the row cites; precision and recall, and the
  count of rows that cite their own call (must be 0).

With several folders, each is scored, then all of them pooled (`make eval-ledger
ACCOUNTS="a b"`). `--model-dir` points LOYALTY_MODEL_DIR at another models folder (a
held-out fold's ledger)."""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATUSES = ("kept", "broken", "open")
_TOKEN = re.compile(r"[a-z0-9']+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


def overlap(a: str, b: str) -> float:
    """Share of the shorter text's words found in the other: a promise clause against its sentence."""
    ta, tb = set(tokens(a)), set(tokens(b))
    return len(ta & tb) / min(len(ta), len(tb)) if ta and tb else 0.0


def load_key(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "key.jsonl").read_text("utf-8").splitlines() if line.strip()]


def call_files(folder: Path) -> dict[str, str]:
    """call_id -> file, from the manifest."""
    with (folder / "manifest.csv").open(encoding="utf-8") as handle:
        return {row["call_id"]: row["file"] for row in csv.DictReader(handle)}


def match_commitments(rows: list[dict], key: list[dict], file_of: dict[str, str]) -> dict[str, dict | None]:
    """Key commitment id -> the analyzer's row for it (None when not found). A row matches
    when it comes from the key's file and its action (or a restatement it lists) overlaps
    the key's text by at least 0.6; the best overlap wins, each row used once."""
    candidates = []
    for k in key:
        if k["kind"] != "commitment":
            continue
        for n, row in enumerate(rows):
            if file_of.get(row["call_id"]) != k["file"]:
                continue
            score = overlap(row["action"], k["text"])
            if score >= 0.6:
                candidates.append((score, k["id"], n))
    matched: dict[str, dict | None] = {k["id"]: None for k in key if k["kind"] == "commitment"}
    used: set[int] = set()
    for score, kid, n in sorted(candidates, key=lambda c: -c[0]):
        if matched[kid] is None and n not in used:
            matched[kid] = rows[n]
            used.add(n)
    return matched


def score_commitments(rows: list[dict], key: list[dict], file_of: dict[str, str]) -> dict:
    matched = match_commitments(rows, key, file_of)
    commitments = [k for k in key if k["kind"] == "commitment"]
    right = Counter()
    total = Counter()
    overdue_right = 0
    confusion = Counter()
    for k in commitments:
        row = matched[k["id"]]
        predicted = row["status"] if row else "missed"
        total[k["status"]] += 1
        confusion[(k["status"], predicted)] += 1
        right[k["status"]] += predicted == k["status"]
        predicted_overdue = bool(row) and str(row.get("overdue")) in ("yes", "True", "true")
        overdue_right += predicted_overdue == bool(k["overdue"])
    return commitment_summary(right, total, overdue_right, sum(1 for v in matched.values() if v is not None),
                              {f"{a}->{b}": c for (a, b), c in confusion.items()})


def commitment_summary(right: Counter, total: Counter, overdue_right: int, found: int, confusion: dict[str, int]) -> dict:
    """The commitment scores from their counts (right and key commitments per status)."""
    n = sum(total.values())
    return {
        "commitments": n,
        "found": found,
        "accuracy": sum(right.values()) / n if n else 0.0,
        "all_open_baseline": total["open"] / n if n else 0.0,
        "recall": {s: (right[s] / total[s] if total[s] else None) for s in STATUSES},
        "support": {s: total[s] for s in STATUSES},
        "right": {s: right[s] for s in STATUSES},
        "overdue_right": overdue_right,
        "overdue_accuracy": overdue_right / n if n else 0.0,
        "confusion": dict(sorted(confusion.items())),
    }


def score_repeats(flags: list[dict], key: list[dict], file_of: dict[str, str]) -> dict:
    """`flags`: dicts with call_id and first_call_id."""
    mistakes = {k["id"]: k for k in key if k["kind"] == "mistake"}
    expected = Counter((m["file"], mistakes[m["repeat_of"]]["file"]) for m in mistakes.values() if m.get("repeat_of"))
    remaining = expected.copy()
    true_positive = 0
    own_call = 0
    for flag in flags:
        pair = (file_of.get(flag["call_id"]), file_of.get(flag["first_call_id"]))
        own_call += flag["call_id"] == flag["first_call_id"]
        if remaining[pair] > 0:
            remaining[pair] -= 1
            true_positive += 1
    return repeat_summary(len(flags), sum(expected.values()), true_positive, own_call)


def repeat_summary(flags: int, repeats: int, right: int, own_call: int) -> dict:
    return {
        "flags": flags,
        "repeats": repeats,
        "right": right,
        "precision": right / flags if flags else None,
        "recall": right / repeats if repeats else None,
        "own_call_flags": own_call,
    }


def pooled(results: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    """The scores of several folders' (commitments, repeats) as one set: one set's 200
    commitments and 6 repeats are too few to tell two judges apart."""
    right, total, confusion = Counter(), Counter(), Counter()
    for commitments, _ in results:
        right.update(commitments["right"])
        total.update(commitments["support"])
        confusion.update(commitments["confusion"])
    repeats = [r for _, r in results]
    return (commitment_summary(right, total, sum(c["overdue_right"] for c, _ in results),
                               sum(c["found"] for c, _ in results), dict(confusion)),
            repeat_summary(*(sum(r[k] for r in repeats) for k in ("flags", "repeats", "right", "own_call_flags"))))


_FIRST = re.compile(r"as in call (\S+)")


def read_outputs(out: Path) -> tuple[list[dict], list[dict]]:
    with (out / "commitments.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    flags = []
    with (out / "flagged_excerpts.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["behavior"] == "repeated_mistake":
                found = _FIRST.search(row["explanation"])
                flags.append({"call_id": row["call_id"], "first_call_id": found.group(1) if found else ""})
    return rows, flags


def report(commitments: dict, repeats: dict) -> str:
    def fmt(value) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    recall = commitments["recall"]
    lines = [
        f"commitments in key: {commitments['commitments']}, found by the analyzer: {commitments['found']}",
        f"outcome accuracy: {fmt(commitments['accuracy'])}   (all-open baseline: {fmt(commitments['all_open_baseline'])})",
        "recall: " + "  ".join(f"{s} {fmt(recall[s])} (n={commitments['support'][s]})" for s in STATUSES),
        f"overdue accuracy: {fmt(commitments['overdue_accuracy'])}",
        "confusion (key->predicted): " + ", ".join(f"{k} {v}" for k, v in commitments["confusion"].items()),
        f"repeated mistakes: {repeats['flags']} flags, {repeats['right']} right of {repeats['repeats']} repeats; "
        f"precision {fmt(repeats['precision'])}  recall {fmt(repeats['recall'])}  "
        f"flags citing their own call: {repeats['own_call_flags']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+", help="account folders; with several, each and then all pooled")
    parser.add_argument("--out", type=Path, help="where `loyalty analyze` writes (default: a temporary folder); one folder only")
    parser.add_argument("--model-dir", type=Path, help="models folder for this run (LOYALTY_MODEL_DIR)")
    args = parser.parse_args(argv)
    if args.out and len(args.folders) > 1:
        parser.error("--out takes one folder")
    env = dict(os.environ)
    if args.model_dir:
        env["LOYALTY_MODEL_DIR"] = str(args.model_dir.resolve())
    results = []
    for folder in (f.resolve() for f in args.folders):
        with tempfile.TemporaryDirectory() as scratch:
            out = args.out or Path(scratch) / "out"
            # `python -m analyzer.cli` from this checkout: the `loyalty` script may belong to another
            command = [sys.executable, "-m", "analyzer.cli", "analyze", str(folder), "--manifest", str(folder / "manifest.csv"), "--out", str(out)]
            done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
            if done.returncode not in (0, 1):  # 1: some files had problems, the rest were analysed
                print(f"loyalty analyze failed on {folder} ({done.returncode})", file=sys.stderr)
                return 2
            rows, flags = read_outputs(out)
        key = load_key(folder)
        files = call_files(folder)
        results.append((score_commitments(rows, key, files), score_repeats(flags, key, files)))
        if len(args.folders) > 1:
            print(f"== {folder.name}")
        print(report(*results[-1]))
    if len(results) > 1:
        print(f"== pooled: {len(results)} folders")
        print(report(*pooled(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
