"""Training data as conversations: every labelled sentence is judged in its call, topic rows
are only negative for what their writer judged, and the adapter trains with peft."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from analyzer.classifier import BEHAVIORS, TACTICS, window_of
from analyzer.training import load_rows, targets

ROOT = Path(__file__).parent.parent


def _write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


WHOLE_CALL = [
    {"call": "t-001", "turn": 0, "speaker": "Ann", "role": "customer", "text": "Last time you said installation was included."},
    {"call": "t-001", "turn": 1, "speaker": "Rep", "role": "salesperson", "sentences": [
        {"text": "Mm.", "labels": [], "tactics": []},
        {"text": "I never said included, I said it was available.", "labels": ["manipulation"], "tactics": ["denying_earlier"]},
        {"text": "I'll send you the price sheet tonight.", "labels": ["commitment"], "tactics": []}]},
    {"call": "t-001", "turn": 2, "speaker": "Ann", "role": "customer", "text": "That's not what I heard."},
]


def test_training_whole_calls_keep_every_sentence_in_its_call(tmp_path):
    rows = load_rows([_write(tmp_path / "calls" / "t.jsonl", WHOLE_CALL)])
    assert [r["text"] for r in rows] == [s["text"] for s in WHOLE_CALL[1]["sentences"]]
    parsed, utterance = rows[1]["_example"]
    assert utterance.text == "I never said included, I said it was available."
    before, reaction = window_of(parsed, utterance)
    assert [u.text for u in before][0].startswith("Last time you said")
    assert reaction is not None and reaction.text == "That's not what I heard."
    Y, T, W = targets(rows)
    assert Y[1, BEHAVIORS.index("manipulation")] == 1 and T[1, TACTICS.index("denying_earlier")] == 1
    assert (W > 1).all()  # whole calls count double and judge every behaviour


@pytest.mark.parametrize("topic, judged, not_judged", [
    ("pretending_to_know", "honest_uncertainty", "manipulation"),
    ("manipulation", "manipulation", "pretending_to_know"),
    ("ownership_blame", "blame_shifting", "commitment"),
])
def test_training_topic_rows_are_negative_only_for_what_their_writer_judged(tmp_path, topic, judged, not_judged):
    row = {"id": "x-1", "text": "Nobody worries about that, it never happens.", "context": "What about outages?",
           "labels": [], "tactic": None, "scenario": "s1"}
    Y, _, W = targets(load_rows([_write(tmp_path / "raw" / f"{topic}.jsonl", [row])]))
    assert W[0, BEHAVIORS.index(judged)] == 1 and W[0, BEHAVIORS.index(not_judged)] == 0
    assert Y.sum() == 0


def test_training_call_style_rows_are_rebuilt_into_their_call(tmp_path):
    rows = [
        {"id": "c-1", "text": "What's slowing the team down?", "context": "We close the books late every month.",
         "labels": ["discovery_question"], "scenario": "calls_x-call-001"},
        {"id": "c-2", "text": "So the real cost is the audit risk, not the hours?", "context": "Approvals sit in email.",
         "labels": ["reframing"], "scenario": "calls_x-call-001"},
    ]
    loaded = load_rows([_write(tmp_path / "raw" / "calls_x.jsonl", rows)])
    parsed, utterance = loaded[1]["_example"]
    assert [u.text for u in window_of(parsed, utterance)[0]] == [
        "We close the books late every month.", "What's slowing the team down?", "Approvals sit in email."]


def test_training_adapter_fine_tunes_with_peft_and_loads_back(tmp_path):
    spec = importlib.util.spec_from_file_location("train", ROOT / "models" / "train.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    from analyzer.encoder import ADAPTER_WEIGHTS, Encoder

    rows = load_rows([_write(tmp_path / "calls" / "t.jsonl", WHOLE_CALL)])
    train.save_adapter(train.finetune_adapter(rows, epochs=1, batch_size=2), tmp_path / "adapter")
    assert (tmp_path / "adapter" / ADAPTER_WEIGHTS).is_file()
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and "/" not in config["base_model_name_or_path"].split(" ")[0]
    tuned = Encoder(adapter=tmp_path / "adapter").encode(["I'll send it tonight."])
    base = Encoder().encode(["I'll send it tonight."])
    assert tuned.shape == (1, 384) and not np.allclose(tuned, base)
