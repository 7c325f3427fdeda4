"""Run settings: thresholds and bars that turn evidence into flags and scores. Kept in one
frozen object so a run's outputs can be traced to the settings that made them."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

# Used when the learned heads are not loaded (--patterns-only); the heads ship their own
# thresholds, calibrated on the validation split (models/heads.json).
PATTERN_THRESHOLDS = {
    "pretending_to_know": 0.5,
    "honest_uncertainty": 0.5,
    "commitment": 0.5,
    "reframing": 0.5,
    "manipulation": 0.55,  # precision first: a false accusation costs a coach's trust
    "ownership": 0.5,
    "blame_shifting": 0.5,
    "discovery_question": 0.5,
    "tailored_solution": 0.5,
    "generic_pitch": 0.5,
}


@dataclass(frozen=True)
class Settings:
    thresholds: dict[str, float] = field(default_factory=dict)  # overrides, behaviour -> 0-1
    consistency_bar: float = 70.0   # a rule is "met" on a call scoring at least this
    min_calls: int = 3              # fewer applicable calls than this: "not enough calls"

    @classmethod
    def from_file(cls, path: Path) -> "Settings":
        data = json.loads(path.read_text("utf-8"))
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{path}: unknown settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(thresholds=dict(data.pop("thresholds", {})), **data)
