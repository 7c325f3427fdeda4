"""How well --redact finds personal data: recall and precision per entity type on the
hand-written calls in models/data/eval/redaction.jsonl (see models/data/README.md).

A row is one call: speaker labels, the salesperson's label, our company (or null: taken
from the salesperson's introduction), the account, and turns whose personal data is marked
inline as {TYPE:text}. The salesperson's own name and our company are not marked: they are
kept by design (analyzer/redact.py).

What counts (leakage, not labelling):
  recall     a marked span is found when every character of it (but spaces) is masked,
             whatever mask covers it;
  precision  a masked span is right when it overlaps a marked span; per type by the mask
             the redactor chose.
With --no-orgs (plain --redact) organisations are neither expected nor allowed to be masked.

    python models/eval_redaction.py     # both modes: prints the tables, writes models/redaction_metrics.json
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.model import Call, CallMeta, SalespersonResolution, Turn  # noqa: E402
from analyzer.redact import ADDRESS, CARD, EMAIL, ORG, PERSON, PHONE, Redactor  # noqa: E402

EVAL_SET = ROOT / "models" / "data" / "eval" / "redaction.jsonl"
METRICS = ROOT / "models" / "redaction_metrics.json"
MARKUP = re.compile(r"\{([A-Z]+):([^{}]*)\}")
TYPES = {"PERSON": PERSON, "ORG": ORG, "EMAIL": EMAIL, "PHONE": PHONE, "CARD": CARD, "ADDRESS": ADDRESS}
TARGETS = {"recall": 0.95, "precision": 0.85}


def parse(marked: str) -> tuple[str, list[tuple[int, int, str]]]:
    """'call {PERSON:Jo}' -> ('call Jo', [(5, 7, PERSON)])."""
    text, spans, last = [], [], 0
    length = 0
    for match in MARKUP.finditer(marked):
        before = marked[last:match.start()]
        text.append(before)
        length += len(before)
        spans.append((length, length + len(match[2]), TYPES[match[1]]))
        text.append(match[2])
        length += len(match[2])
        last = match.end()
    text.append(marked[last:])
    return "".join(text), spans


def load(path: Path = EVAL_SET) -> list[tuple[dict, Call, list[list[tuple[int, int, str]]]]]:
    rows = []
    for line in path.read_text("utf-8").splitlines():
        row = json.loads(line)
        turns, gold = [], []
        for speaker, marked in row["turns"]:
            text, spans = parse(marked)
            turns.append(Turn(speaker, text))
            gold.append(spans)
        extra = (("company", row["company"]),) if row.get("company") else ()
        meta = CallMeta(row["id"], account=row.get("account"), extra=extra)
        call = Call(row["id"], "eval", meta, tuple(turns), SalespersonResolution(row["salesperson"], "manifest", 1.0))
        rows.append((row, call, gold))
    return rows


def _ratio(hit: int, total: int) -> float | None:
    return round(hit / total, 3) if total else None


def evaluate(redactor: Redactor | None = None, path: Path = EVAL_SET) -> dict:
    """Per type and overall, and overall per split and style: counts, recall, precision."""
    redactor = redactor or Redactor(orgs=True)
    rows = load(path)
    found = redactor.find([call for _, call, _ in rows])
    counts: dict[str, Counter] = {}
    misses, false_masks = [], []

    def add(groups: list[str], key: str, n: int = 1) -> None:
        for group in groups:
            counts.setdefault(group, Counter())[key] += n

    for (row, call, gold), call_found in zip(rows, found):
        results = call_found.turns
        groups_of_call = [f"split:{row['split']}", f"style:{row['style']}"]
        for turn, spans, turn_results in zip(call.turns, gold, results):
            masked = set()
            for r in turn_results:
                masked.update(range(r.start, r.end))
            for start, end, entity in spans:
                if entity == ORG and not redactor.orgs:
                    continue
                hit = all(i in masked for i in range(start, end) if not turn.text[i].isspace())
                add(["overall", entity, *groups_of_call], "gold")
                add(["overall", entity, *groups_of_call], "found", int(hit))
                if not hit:
                    misses.append(f"{row['split']} {row['id']} {entity}: {turn.text[start:end]!r} in {turn.text!r}")
            for r in turn_results:
                right = any(r.start < end and start < r.end for start, end, entity in spans
                            if redactor.orgs or entity != ORG)  # without --redact-orgs an org should stay
                add(["overall", r.entity_type, *groups_of_call], "masked")
                add(["overall", r.entity_type, *groups_of_call], "right", int(right))
                if not right:
                    false_masks.append(f"{row['split']} {row['id']} {r.entity_type}: {turn.text[r.start:r.end]!r} in {turn.text!r}")
    table = {
        group: {
            "spans": c["gold"], "recall": _ratio(c["found"], c["gold"]),
            "masked": c["masked"], "precision": _ratio(c["right"], c["masked"]),
        }
        for group, c in sorted(counts.items())
    }
    return {"orgs": redactor.orgs, "calls": len(rows), "table": table, "misses": misses, "false_masks": false_masks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", choices=("dev", "holdout"), help="list the misses and false masks of one split")
    args = parser.parse_args()
    written = {}
    for orgs in (True, False):
        result = evaluate(Redactor(orgs=orgs))
        print(f"\n--redact{'-orgs' if orgs else ''}\n{'group':<16}{'spans':>7}{'recall':>8}{'masked':>8}{'precision':>10}")
        for group, m in result["table"].items():
            print(f"{group:<16}{m['spans']:>7}{m['recall'] or '':>8}{m['masked']:>8}{m['precision'] or '':>10}")
        if args.show:
            print("\nmissed:", *(m for m in result["misses"] if m.startswith(args.show)), sep="\n  ")
            print("\nmasked wrongly:", *(m for m in result["false_masks"] if m.startswith(args.show)), sep="\n  ")
        written["redact_orgs" if orgs else "redact"] = {"calls": result["calls"], "table": result["table"]}
    METRICS.write_text(json.dumps(written, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
