"""The int8 encoder analysis runs: close to the verified fp32 weights, rebuilt when its file
is damaged, and one file per adapter."""
from __future__ import annotations

import json

import numpy as np
import pytest

from analyzer.classifier import ModelScorer
from analyzer.encoder import EncoderError
from analyzer.encoder_onnx import graph_path, int8_encoder

TEXTS = [
    "I'll have the corrected invoice in your inbox before noon tomorrow.",
    "what does a typical monday look like for the dispatch team",
    "Our platform is the industry leader, trusted by thousands of companies.",
    "That one's on me, I quoted last year's rate.",
    "Okay.",
]


@pytest.fixture(scope="module")
def scorer() -> ModelScorer:
    return ModelScorer()


def test_int8_embeddings_stay_close_to_fp32(scorer):
    int8 = scorer.featurizer.encoder
    fp32 = scorer.reference_encoder
    cosine = (int8.encode(TEXTS) * fp32.encode(TEXTS)).sum(1)
    assert cosine.min() > 0.95, cosine
    vectors = int8.encode(TEXTS + TEXTS[:2])
    assert vectors.shape == (7, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors[5], vectors[0])  # order kept, repeats encoded once


def test_a_damaged_graph_is_refused_then_rebuilt(scorer, tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTY_CACHE_DIR", str(tmp_path))
    reference = lambda: scorer.reference_encoder  # noqa: E731
    sha = scorer.config["adapter"]["sha256"]
    int8_encoder(reference, sha)
    path = graph_path(sha)
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["probe_cosine_min"] >= 0.95
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(EncoderError, match="sha256"):
        int8_encoder(reference, sha)
    assert int8_encoder(reference, sha).encode(TEXTS[:1]).shape == (1, 384)
    assert graph_path("another adapter") != path
