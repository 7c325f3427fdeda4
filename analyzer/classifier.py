"""The learned heads: sentence embeddings of the salesperson's utterance and of the customer
line it answers, plus the pattern evidence, -> one probability per behaviour and the most
likely manipulation tactic. A small MLP (scikit-learn-shaped: `fit` returns self,
`predict_proba` takes a batch), saved as safetensors next to a JSON config that carries the
label order, the calibrated thresholds and the metrics they were measured with.

`Featurizer` is shared by training and analysis, so both see the same features; `ModelScorer`
runs one encoder pass over the salesperson utterances of many calls at once."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analyzer.detect import patterns as pattern_data
from analyzer.detect.base import PatternDetector
from analyzer.detect.registry import build_detectors
from analyzer.model_files import CONFIG_NAME, WEIGHTS_NAME, default_model_dir  # noqa: F401 (re-exported)
from analyzer.model import Call, CallMeta, ParsedCall, Prediction, Role, SalespersonResolution, Turn, Utterance
from analyzer.segment import is_backchannel_text, is_question_text

BEHAVIORS = (
    "pretending_to_know", "honest_uncertainty", "commitment", "reframing", "manipulation",
    "ownership", "blame_shifting", "discovery_question", "tailored_solution", "generic_pitch",
)
TACTICS = (
    "false_urgency", "false_scarcity", "pressure", "guilt", "fear", "flattery", "fake_social_proof",
    "dismissing_concern", "denying_earlier",
)
CONTEXT_FLAGS = ("has_context", "context_is_question", "context_unknowable", "context_problem")


def shipped_thresholds(directory: Path | None = None) -> dict[str, float]:
    """The calibrated thresholds in heads.json (no weights loaded); {} without heads."""
    path = (directory or default_model_dir()) / CONFIG_NAME
    return json.loads(path.read_text())["thresholds"] if path.is_file() else {}


def pair_call(text: str, context: str) -> tuple[ParsedCall, Utterance]:
    """A two-line call (customer context, salesperson text) for scoring one labelled pair
    with the same pattern detectors the pipeline uses. No segmentation: the pair is the unit."""
    speakers = ("customer", "salesperson")
    turns = ((Turn(speakers[0], context),) if context else ()) + (Turn(speakers[1], text),)
    call = Call("pair", "pair", CallMeta("pair"), turns, SalespersonResolution(speakers[1], "option", 1.0))
    utterances = []
    for index, turn in enumerate(turns):
        role = call.role_of(turn.speaker)
        utterances.append(
            Utterance(
                id=f"pair#{index}.0", turn=index, speaker=turn.speaker, role=role, text=turn.text,
                char_start=0, char_end=len(turn.text), start=None, end=None,
                is_question=is_question_text(turn.text), is_backchannel=is_backchannel_text(turn.text),
                responds_to="pair#0.0" if role is Role.SALESPERSON and context else None,
            )
        )
    return ParsedCall(call, tuple(utterances)), utterances[-1]


class Featurizer:
    """(text, context) pairs -> feature rows: [e_text, e_context, e_text * e_context,
    pattern confidence per pattern detector, context flags]."""

    def __init__(self, encoder=None) -> None:
        self._encoder = encoder
        self.detectors = [d for d in build_detectors() if isinstance(d, PatternDetector)]

    @property
    def encoder(self):
        if self._encoder is None:
            from analyzer.encoder import shared_encoder

            self._encoder = shared_encoder()
        return self._encoder

    @property
    def feature_names(self) -> list[str]:
        """The layout of a feature row; the heads record the layout they were trained on."""
        return ["text_embedding[384]", "context_embedding[384]", "product[384]"] + [
            f"pattern_{d.name}" for d in self.detectors
        ] + list(CONTEXT_FLAGS)

    def symbolic(self, parsed: ParsedCall, utterance: Utterance, context_text: str) -> list[float]:
        """Pattern confidences and context flags for one salesperson utterance in its call."""
        values = [d.evidence(parsed, utterance).confidence for d in self.detectors]
        values += [
            float(bool(context_text)),
            float(is_question_text(context_text)) if context_text else 0.0,
            float(pattern_data.matches_any("context", "unknowable_question", context_text)),
            float(pattern_data.matches_any("context", "problem_statement", context_text)),
        ]
        return values

    def embed(self, texts: Sequence[str], contexts: Sequence[str], symbolic: np.ndarray) -> np.ndarray:
        vectors = self.encoder.encode(list(texts) + [c for c in contexts if c])
        text_vectors = vectors[: len(texts)]
        context_vectors = np.zeros_like(text_vectors)
        rows = [i for i, c in enumerate(contexts) if c]
        context_vectors[rows] = vectors[len(texts):]
        return np.hstack([text_vectors, context_vectors, text_vectors * context_vectors, symbolic]).astype(np.float32)

    def pairs(self, texts: Sequence[str], contexts: Sequence[str]) -> np.ndarray:
        symbolic = np.array(
            [self.symbolic(*pair_call(t, c), c) for t, c in zip(texts, contexts)], dtype=np.float32
        ).reshape(len(texts), -1)
        return self.embed(texts, contexts, symbolic)


class BehaviorClassifier:
    """A two-layer MLP with one sigmoid per behaviour and a softmax over tactics. Its input
    is layer-normalised, so it trains jointly with a changing encoder (models/train.py)."""

    def __init__(self, behaviors: Sequence[str] = BEHAVIORS, tactics: Sequence[str] = TACTICS,
                 hidden: int = 256, dropout: float = 0.2, epochs: int = 60, lr: float = 1e-3,
                 weight_decay: float = 1e-4, batch_size: int = 64, seed: int = 0) -> None:
        self.behaviors = tuple(behaviors)
        self.tactics = tuple(tactics)
        self.hidden, self.dropout, self.epochs, self.lr = hidden, dropout, epochs, lr
        self.weight_decay, self.batch_size, self.seed = weight_decay, batch_size, seed

    def build(self, n_features: int, positive_rate: np.ndarray | None = None) -> "BehaviorClassifier":
        """Create the network; `positive_rate` per behaviour sets the loss's class balance."""
        import torch

        torch.manual_seed(self.seed)
        self.n_features_ = n_features
        self.net_ = torch.nn.ModuleDict({
            "trunk": torch.nn.Sequential(
                torch.nn.LayerNorm(n_features), torch.nn.Dropout(self.dropout),
                torch.nn.Linear(n_features, self.hidden), torch.nn.GELU(), torch.nn.Dropout(self.dropout),
            ),
            "behaviors": torch.nn.Linear(self.hidden, len(self.behaviors)),
            "tactics": torch.nn.Linear(self.hidden, len(self.tactics)),
        })
        rate = np.clip(positive_rate if positive_rate is not None else np.full(len(self.behaviors), 0.5), 1e-3, 1)
        self._pos_weight = torch.tensor(np.sqrt((1 - rate) / rate), dtype=torch.float32)
        return self

    def loss(self, x, y, tactic, mask=None):
        """Multi-label BCE plus, on manipulation rows, the tactic's cross-entropy. `mask`
        (0/1 per row and behaviour) leaves out labels nobody gave (a coach's verdict is
        about one behaviour only)."""
        import torch

        hidden = self.net_["trunk"](x)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            self.net_["behaviors"](hidden), y, weight=mask, pos_weight=self._pos_weight
        )
        known = tactic >= 0
        if known.any():
            loss = loss + 0.5 * torch.nn.functional.cross_entropy(self.net_["tactics"](hidden[known]), tactic[known])
        return loss

    def fit(self, X: np.ndarray, Y: np.ndarray, tactic: np.ndarray, mask: np.ndarray | None = None) -> "BehaviorClassifier":
        """X (n, f) features, Y (n, behaviours) 0/1, tactic (n,) index or -1 when none,
        mask (n, behaviours) 1 where the label is known (default: all)."""
        import torch

        self.build(X.shape[1], Y.mean(0))
        x = torch.tensor(X, dtype=torch.float32)
        y = torch.tensor(Y, dtype=torch.float32)
        t = torch.tensor(tactic, dtype=torch.long)
        m = torch.tensor(mask if mask is not None else np.ones_like(Y), dtype=torch.float32)
        optimiser = torch.optim.AdamW(self.net_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(self.seed)
        self.net_.train()
        for _ in range(self.epochs):
            for batch in torch.randperm(len(x), generator=generator).split(self.batch_size):
                optimiser.zero_grad()
                self.loss(x[batch], y[batch], t[batch], m[batch]).backward()
                optimiser.step()
        self.net_.eval()
        return self

    def _outputs(self, X: np.ndarray):
        import torch

        self.net_.eval()
        with torch.inference_mode():
            hidden = self.net_["trunk"](torch.as_tensor(X, dtype=torch.float32))
            return torch.sigmoid(self.net_["behaviors"](hidden)).numpy(), torch.softmax(self.net_["tactics"](hidden), -1).numpy()

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self._outputs(X)[0]

    def predict_tactic_proba(self, X: np.ndarray) -> np.ndarray:
        return self._outputs(X)[1]

    def save(self, directory: Path, extra_config: dict) -> Path:
        from safetensors.numpy import save_file

        directory.mkdir(parents=True, exist_ok=True)
        weights = directory / WEIGHTS_NAME
        save_file({k: v.detach().numpy() for k, v in self.net_.state_dict().items()}, str(weights))
        config = {
            "behaviors": list(self.behaviors), "tactics": list(self.tactics), "hidden": self.hidden,
            "n_features": int(self.n_features_), "weights_sha256": _sha256(weights), **extra_config,
        }
        (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
        return weights

    @classmethod
    def load(cls, directory: Path) -> tuple["BehaviorClassifier", dict]:
        import torch
        from safetensors.numpy import load_file

        config = json.loads((directory / CONFIG_NAME).read_text())
        weights = directory / WEIGHTS_NAME
        digest = _sha256(weights)
        if digest != config["weights_sha256"]:
            raise ValueError(f"{weights} has sha256 {digest}, but {CONFIG_NAME} says {config['weights_sha256']}")
        model = cls(config["behaviors"], config["tactics"], hidden=config["hidden"]).build(config["n_features"])
        model.net_.load_state_dict({k: torch.tensor(v) for k, v in load_file(str(weights)).items()})
        model.net_.eval()
        return model, config


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class ModelScorer:
    """Attaches the heads' predictions to parsed calls: one length-sorted encoder pass over
    the salesperson utterances (backchannels skipped) and the customer lines they answer."""

    def __init__(self, directory: Path | None = None, featurizer: Featurizer | None = None) -> None:
        """Checks the files now (sha256, feature layout) but loads torch and the encoder only
        when something is scored: a rerun answered from the cache never pays for them."""
        self.directory = directory or default_model_dir()
        self.config = json.loads((self.directory / CONFIG_NAME).read_text())
        expected = {WEIGHTS_NAME: self.config["weights_sha256"]}
        if adapter := self.config.get("adapter"):
            expected[adapter["file"]] = adapter["sha256"]
        for name, sha256 in expected.items():
            digest = _sha256(self.directory / name)
            if digest != sha256:
                raise ValueError(f"{self.directory / name} has sha256 {digest}, but {CONFIG_NAME} says {sha256}")
        names = (featurizer or Featurizer(encoder=object())).feature_names
        if self.config.get("features") != names:
            raise ValueError(
                f"{self.directory / CONFIG_NAME} was trained on features {self.config.get('features')}, "
                f"but this version computes {names}; run `make train`"
            )
        if featurizer is not None:
            self.__dict__["featurizer"] = featurizer
        self.thresholds: dict[str, float] = self.config["thresholds"]

    @property
    def adapter_sha256(self) -> str | None:
        return (self.config.get("adapter") or {}).get("sha256")

    def prepare(self) -> None:
        """Check, and on first use build, every file scoring needs before any call is
        scored: a broken install then fails the run at once, not call by call."""
        from analyzer.encoder import verified_weights
        from analyzer.encoder_onnx import ensure_graph

        verified_weights()
        ensure_graph(lambda: self.reference_encoder, self.adapter_sha256)

    @functools.cached_property
    def classifier(self) -> BehaviorClassifier:
        return BehaviorClassifier.load(self.directory)[0]

    @functools.cached_property
    def reference_encoder(self):
        """The fp32 torch encoder with the trained adapter: what the heads were trained on,
        and what the int8 graph is built from."""
        from analyzer.encoder import shared_encoder

        adapter = self.config.get("adapter")
        return shared_encoder(self.directory / adapter["file"], adapter["sha256"]) if adapter else shared_encoder()

    @functools.cached_property
    def featurizer(self) -> Featurizer:
        """Features as analysis computes them: through the int8 encoder (encoder_onnx.py)."""
        from analyzer.encoder_onnx import int8_encoder

        return Featurizer(int8_encoder(self.reference_encoder, self.adapter_sha256))

    def __reduce__(self):  # a worker process or Ray actor loads its own copy (engines.py)
        return (ModelScorer, (self.directory,))

    @staticmethod
    def available(directory: Path | None = None) -> bool:
        directory = directory or default_model_dir()
        return (directory / WEIGHTS_NAME).is_file() and (directory / CONFIG_NAME).is_file()

    def annotate(self, calls: Sequence[ParsedCall]) -> list[ParsedCall]:
        items: list[tuple[int, Utterance, str, list[float]]] = []
        for index, parsed in enumerate(calls):
            for utterance in parsed.salesperson_utterances():
                if utterance.is_backchannel:
                    continue
                answered = parsed.get(utterance.responds_to)
                context = answered.text if answered else ""
                items.append((index, utterance, context, self.featurizer.symbolic(parsed, utterance, context)))
        if not items:
            return list(calls)
        X = self.featurizer.embed(
            [u.text for _, u, _, _ in items], [c for _, _, c, _ in items],
            np.array([s for *_, s in items], dtype=np.float32),
        )
        probabilities = self.classifier.predict_proba(X)
        tactics = self.classifier.predict_tactic_proba(X)
        per_call: list[dict[str, Prediction]] = [{} for _ in calls]
        for (index, utterance, _, _), row, tactic_row in zip(items, probabilities, tactics):
            best = int(tactic_row.argmax())
            per_call[index][utterance.id] = Prediction(
                dict(zip(self.classifier.behaviors, map(float, row))),
                self.classifier.tactics[best],
                float(tactic_row[best]),
            )
        return [dataclasses.replace(parsed, predictions=p) for parsed, p in zip(calls, per_call)]
