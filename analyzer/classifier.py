"""The learned heads read a window of the conversation, not one line: the salesperson's
utterance, the customer line it answers, the utterances before it from both speakers and
the customer's reaction after it (sentence embeddings), plus the pattern evidence -> one
probability per behaviour and per manipulation tactic, each judged on its own. A small
network (scikit-learn-shaped: `fit` returns self, `predict_proba` takes a batch), saved as
safetensors next to a JSON config that carries the label order, the calibrated thresholds
and the metrics they were measured with.

Why a window of per-utterance embeddings and not a cross-encoder over the window's text:
every utterance is encoded once per call and shared by every window that holds it, where a
cross-encoder re-reads ~8 utterances per judged one; measured, one was no better
(docs/classifiers.md, "A cross-encoder, measured").

`Featurizer` is shared by training and analysis, so both see the same features."""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analyzer.detect import patterns as pattern_data
from analyzer.detect.base import PatternDetector
from analyzer.detect.registry import build_detectors
from analyzer.model_files import CONFIG_NAME, WEIGHTS_NAME, default_model_dir, sha256, verify
from analyzer.model import Call, CallMeta, ParsedCall, Prediction, Role, SalespersonResolution, Turn, Utterance
from analyzer.segment import is_question_text, segment_with_units

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


WINDOW = 8                # substantive utterances before the judged one, both speakers
REACTION_TURNS = 2        # the customer's reaction is looked for this many turns ahead


def window_of(parsed: ParsedCall, utterance: Utterance) -> tuple[list[Utterance], Utterance | None]:
    """What the model reads around a salesperson utterance: the WINDOW substantive
    utterances before it (either speaker, oldest first; earlier sentences of its own turn
    included) and the customer's first substantive utterance after its turn."""
    index = parsed.position(utterance.id)
    before: list[Utterance] = []
    for other in reversed(parsed.utterances[:index]):
        if not other.is_backchannel:
            before.append(other)
            if len(before) == WINDOW:
                break
    reaction = None
    for other in parsed.utterances[index + 1:]:
        if other.turn > utterance.turn + REACTION_TURNS:
            break
        if other.role is Role.CUSTOMER and not other.is_backchannel:
            reaction = other
            break
    return before[::-1], reaction


def example_call(text: str, context: str = "", turns: Sequence[dict] = (), reaction: str = "",
                 call_id: str = "example") -> tuple[ParsedCall, Utterance]:
    """One salesperson text in the conversation around it (preceding `turns` as
    {"speaker", "role", "text"}, the customer `context` line just before, the customer's
    `reaction` after), segmented as analysis segments a call; `text` stays one unit."""
    built: list[Turn] = []
    for turn in turns:
        role = turn.get("role") or "customer"
        speaker = "salesperson" if role == "salesperson" else (turn.get("speaker") or "customer")
        if speaker == "salesperson" and role != "salesperson":
            speaker = "customer"
        built.append(Turn(speaker, turn["text"]))
    if context and not (built and built[-1].speaker != "salesperson" and built[-1].text.strip() == context.strip()):
        built.append(Turn("customer", context))
    built.append(Turn("salesperson", text))
    judged = len(built) - 1
    if reaction:
        built.append(Turn("customer", reaction))
    call = Call(call_id, "example", CallMeta(call_id), tuple(built), SalespersonResolution("salesperson", "option", 1.0))
    parsed = segment_with_units(call, {judged: [text]})
    return parsed, next(u for u in parsed.utterances if u.turn == judged)


class Featurizer:
    """Salesperson utterances in their calls -> feature rows: the utterance, the customer line
    it answers and the customer's reaction (embeddings), the window before it (one embedding
    per utterance with its speaker's role), then the pattern confidences and context flags.
    Each call's texts are encoded together and apart from any other call's, so a call's rows
    never depend on what else is analysed with it (encoder_onnx.py)."""

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
    def symbolic_names(self) -> list[str]:
        return [f"pattern_{d.name}" for d in self.detectors] + list(CONTEXT_FLAGS)

    @property
    def feature_names(self) -> list[str]:
        """The layout of a feature row; the heads record the layout they were trained on."""
        return [f"utterance[{DIMENSION}]", f"context[{DIMENSION}]", f"reaction[{DIMENSION}]",
                f"window[{WINDOW}x{DIMENSION}]", f"window_is_customer[{WINDOW}]", f"window_present[{WINDOW}]",
                *self.symbolic_names]

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

    def vectors(self, examples: Sequence[tuple[ParsedCall, Utterance]], per_call: bool = True,
                also: Sequence[tuple[ParsedCall, Sequence[str]]] = ()) -> dict[tuple[int, str], np.ndarray]:
        """(call key, text) -> embedding for every text the rows of `examples` read, plus the
        texts `also` gives for its calls. With `per_call`, each call's texts go through the encoder
        together and apart from every other call's, keyed by the call, so a text two calls
        share still gets each call's own vector (analysis); otherwise everything is encoded
        at once under key 0 (training)."""
        groups: dict[int, list[str]] = {}
        for parsed, utterance in examples:
            key = id(parsed) if per_call else 0
            before, after = window_of(parsed, utterance)
            context = parsed.get(utterance.responds_to)
            groups.setdefault(key, []).extend(
                [utterance.text, *([context.text] if context else []), *(w.text for w in before), *([after.text] if after else [])]
            )
        for parsed, texts in also:
            groups.setdefault(id(parsed) if per_call else 0, []).extend(texts)
        found: dict[tuple[int, str], np.ndarray] = {}
        for key, texts in groups.items():
            unique = list(dict.fromkeys(texts))
            found.update(zip(((key, t) for t in unique), self.encoder.encode(unique)))
        return found

    def rows(self, examples: Sequence[tuple[ParsedCall, Utterance]], per_call: bool = True,
             vectors: dict[tuple[int, str], np.ndarray] | None = None) -> tuple[np.ndarray, list[tuple[list[Utterance], Utterance | None]]]:
        """Feature rows for (call, utterance) pairs, and the window each row read, from
        `vectors` (made by `vectors` with the same `per_call`) or encoded now."""
        if vectors is None:
            vectors = self.vectors(examples, per_call)
        windows = [window_of(p, u) for p, u in examples]
        contexts = [p.get(u.responds_to) for p, u in examples]
        zero = np.zeros(DIMENSION, dtype=np.float32)
        X = np.zeros((len(examples), ROW_FIXED + len(self.symbolic_names)), dtype=np.float32)
        for i, ((parsed, utterance), context, (before, after)) in enumerate(zip(examples, contexts, windows)):
            key = id(parsed) if per_call else 0
            X[i, :DIMENSION] = vectors[key, utterance.text]
            X[i, DIMENSION:2 * DIMENSION] = vectors[key, context.text] if context else zero
            X[i, 2 * DIMENSION:3 * DIMENSION] = vectors[key, after.text] if after else zero
            offset = WINDOW - len(before)  # right-aligned: the last slot is the nearest utterance
            for j, other in enumerate(before, start=offset):
                X[i, 3 * DIMENSION + j * DIMENSION:3 * DIMENSION + (j + 1) * DIMENSION] = vectors[key, other.text]
                X[i, ROLE_AT + j] = float(other.role is Role.CUSTOMER)
                X[i, PRESENT_AT + j] = 1.0
            X[i, ROW_FIXED:] = self.symbolic(parsed, utterance, context.text if context else "")
        return X, windows


DIMENSION = 384
ROLE_AT = 3 * DIMENSION + WINDOW * DIMENSION
PRESENT_AT = ROLE_AT + WINDOW
ROW_FIXED = PRESENT_AT + WINDOW


def _make_net(n_symbolic: int, n_behaviors: int, n_tactics: int, hidden: int, dropout: float, attention: int,
              window_dropout: float, members: int = 1):
    import torch

    class WindowNet(torch.nn.Module):
        """Attention over the window, query = the utterance: which earlier line matters is
        learned, and its weight is what the explanation reports. The pooled window joins
        the utterance, context, reaction and pattern features in one trunk; one sigmoid per
        behaviour and per tactic, each judged on its own (multi-label)."""

        def __init__(self) -> None:
            super().__init__()
            self.slot_score = torch.nn.Sequential(
                torch.nn.Linear(2 * DIMENSION + 1 + WINDOW, attention), torch.nn.Tanh(), torch.nn.Linear(attention, 1)
            )
            self.slot_value = torch.nn.Linear(DIMENSION + 1, attention)
            base = 5 * DIMENSION + n_symbolic
            self.norm = torch.nn.LayerNorm(base)
            self.trunk = torch.nn.Sequential(
                torch.nn.Dropout(dropout), torch.nn.Linear(base + attention, hidden), torch.nn.GELU(), torch.nn.Dropout(dropout)
            )
            self.behaviors = torch.nn.Linear(hidden, n_behaviors)
            self.tactics = torch.nn.Linear(hidden, n_tactics)
            self.register_buffer("positions", torch.eye(WINDOW), persistent=False)
            self.window_dropout = torch.nn.Dropout(window_dropout)

        def forward(self, x):
            d = DIMENSION
            u, ctx, react = x[:, :d], x[:, d:2 * d], x[:, 2 * d:3 * d]
            slots = x[:, 3 * d:ROLE_AT].reshape(len(x), WINDOW, d)
            role = x[:, ROLE_AT:PRESENT_AT].unsqueeze(-1)
            present = x[:, PRESENT_AT:ROW_FIXED]
            symbolic = x[:, ROW_FIXED:]
            positions = self.positions.expand(len(x), WINDOW, WINDOW)
            scores = self.slot_score(torch.cat([slots, slots * u.unsqueeze(1), role, positions], -1)).squeeze(-1)
            scores = scores.masked_fill(present == 0, -1e9)
            weights = torch.softmax(scores, -1) * present  # all-zero when the window is empty
            pooled = self.window_dropout((weights.unsqueeze(-1) * self.slot_value(torch.cat([slots, role], -1))).sum(1))
            base = self.norm(torch.cat([u, ctx, u * ctx, react, u * react, symbolic], -1))
            hidden = self.trunk(torch.cat([base, pooled], -1))
            return self.behaviors(hidden), self.tactics(hidden), weights

    class Averaged(torch.nn.Module):
        """Several window networks, each trained on its own from its own seed; their logits
        and attention are averaged, so one network's fit to its training calls' phrasing
        weighs less."""

        def __init__(self) -> None:
            super().__init__()
            self.members = torch.nn.ModuleList(WindowNet() for _ in range(members))

        def forward(self, x):
            outputs = [member(x) for member in self.members]
            return tuple(torch.stack(parts).mean(0) for parts in zip(*outputs))

    return WindowNet() if members == 1 else Averaged()


class BehaviorClassifier:
    """The window network with one sigmoid per behaviour and per manipulation tactic
    (scikit-learn-shaped: `fit` returns self, `predict_proba` takes a batch of rows)."""

    def __init__(self, behaviors: Sequence[str] = BEHAVIORS, tactics: Sequence[str] = TACTICS,
                 hidden: int = 256, dropout: float = 0.2, epochs: int = 12, lr: float = 1e-3,
                 weight_decay: float = 1e-4, batch_size: int = 64, seed: int = 0,
                 attention: int = 32, window_dropout: float = 0.5, members: int = 1) -> None:
        self.members = members
        self.behaviors = tuple(behaviors)
        self.tactics = tuple(tactics)
        self.attention, self.window_dropout = attention, window_dropout
        self.hidden, self.dropout, self.epochs, self.lr = hidden, dropout, epochs, lr
        self.weight_decay, self.batch_size, self.seed = weight_decay, batch_size, seed

    def build(self, n_features: int, positive_rate: np.ndarray | None = None) -> "BehaviorClassifier":
        """Create the network; `positive_rate` per behaviour sets the loss's class balance."""
        import torch

        torch.manual_seed(self.seed)
        self.n_features_ = n_features
        self.net_ = _make_net(n_features - ROW_FIXED, len(self.behaviors), len(self.tactics), self.hidden, self.dropout,
                              self.attention, self.window_dropout, self.members)
        rate = np.clip(positive_rate if positive_rate is not None else np.full(len(self.behaviors), 0.5), 1e-3, 1)
        self._pos_weight = torch.tensor(np.sqrt((1 - rate) / rate), dtype=torch.float32)
        return self

    def loss(self, net, x, y, tactics, mask):
        """`net`'s multi-label BCE per behaviour, weighted by `mask` (0 where nobody judged that
        behaviour for the row, >1 for rows that count more), plus, on manipulation rows
        whose tactics are known, a BCE per tactic."""
        import torch

        behavior_logits, tactic_logits, _ = net(x)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(behavior_logits, y, weight=mask, pos_weight=self._pos_weight)
        known = tactics.sum(1) > 0
        if known.any():
            loss = loss + 0.5 * torch.nn.functional.binary_cross_entropy_with_logits(tactic_logits[known], tactics[known])
        return loss

    def fit(self, X: np.ndarray, Y: np.ndarray, tactics: np.ndarray, mask: np.ndarray | None = None,
            validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> "BehaviorClassifier":
        """X (n, f) rows, Y (n, behaviours) 0/1, tactics (n, tactics) 0/1 (all 0 when not
        manipulation or unknown), mask (n, behaviours) label weights (default: all 1).
        With `validation` (X, Y, mask), the weights kept are those of the epoch with the
        lowest validation loss: the window lets a network memorise its training calls within
        a few epochs. Each of `members` networks is trained on its own, from seed, seed + 1,
        ...; `best_epoch_` and `validation_losses_` hold one entry per network."""
        import torch

        self.build(X.shape[1], Y.mean(0))
        x = torch.tensor(X, dtype=torch.float32)
        y = torch.tensor(Y, dtype=torch.float32)
        t = torch.tensor(tactics, dtype=torch.float32)
        m = torch.tensor(mask if mask is not None else np.ones_like(Y), dtype=torch.float32)
        nets = list(self.net_.members) if self.members > 1 else [self.net_]
        threads = torch.get_num_threads()
        # a network this small gains nothing from a second thread and, on a busy machine, lost
        # 14x to it (one epoch of 2,000 rows: 101 s with 2 threads, 7.4 s with 1)
        torch.set_num_threads(1)
        best_epochs, losses = [], []
        try:
            for k, net in enumerate(nets):
                epoch, history = self._fit_one(net, self.seed + k, x, y, t, m, validation)
                best_epochs.append(epoch)
                losses.append(history)
        finally:
            torch.set_num_threads(threads)
        self.best_epoch_, self.validation_losses_ = best_epochs, losses
        self.net_.eval()
        return self

    def _fit_one(self, net, seed: int, x, y, t, m, validation) -> tuple[int, list[float]]:
        """Train one network in place; (best epoch, validation loss per epoch)."""
        import torch

        optimiser = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(seed)
        steps = self.epochs * ((len(x) + self.batch_size - 1) // self.batch_size)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0 - 0.9 * step / max(steps, 1))
        best_epoch, best_loss, history, best_state = self.epochs, float("inf"), [], None
        for epoch in range(1, self.epochs + 1):
            net.train()
            for batch in torch.randperm(len(x), generator=generator).split(self.batch_size):
                optimiser.zero_grad()
                self.loss(net, x[batch], y[batch], t[batch], m[batch]).backward()
                optimiser.step()
                schedule.step()
            if validation is not None:
                loss = self._validation_loss(net, *validation)
                history.append(round(loss, 5))
                if loss < best_loss:  # exact losses: against the rounded history, better epochs were missed
                    best_epoch, best_loss = epoch, loss
                    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        return best_epoch, history

    def _validation_loss(self, net, X: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> float:
        import torch

        net.eval()
        with torch.inference_mode():
            logits = torch.cat([net(torch.as_tensor(X[i:i + 1024]))[0] for i in range(0, len(X), 1024)])
            return float(torch.nn.functional.binary_cross_entropy_with_logits(
                logits, torch.as_tensor(Y), weight=torch.as_tensor(mask), pos_weight=self._pos_weight))

    def outputs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(behaviour probabilities, tactic probabilities, window attention) per row."""
        import torch

        self.net_.eval()
        with torch.inference_mode():
            behaviors, tactics, weights = self.net_(torch.as_tensor(X, dtype=torch.float32))
            return torch.sigmoid(behaviors).numpy(), torch.sigmoid(tactics).numpy(), weights.numpy()

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.outputs(X)[0]

    def predict_tactic_proba(self, X: np.ndarray) -> np.ndarray:
        return self.outputs(X)[1]

    def save(self, directory: Path, extra_config: dict) -> Path:
        from safetensors.torch import save_file

        directory.mkdir(parents=True, exist_ok=True)
        weights = directory / WEIGHTS_NAME
        save_file({k: v.detach().contiguous() for k, v in self.net_.state_dict().items()}, str(weights))
        config = {
            "behaviors": list(self.behaviors), "tactics": list(self.tactics), "hidden": self.hidden,
            "attention": self.attention, "members": self.members,
            "n_features": int(self.n_features_), "window": WINDOW, "weights_sha256": sha256(weights), **extra_config,
        }
        (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
        return weights

    @classmethod
    def load(cls, directory: Path) -> tuple["BehaviorClassifier", dict]:
        from safetensors.torch import load_file

        config = json.loads((directory / CONFIG_NAME).read_text())
        weights = directory / WEIGHTS_NAME
        digest = sha256(weights)
        if digest != config["weights_sha256"]:
            raise ValueError(f"{weights} has sha256 {digest}, but {CONFIG_NAME} says {config['weights_sha256']}")
        model = cls(config["behaviors"], config["tactics"], hidden=config["hidden"],
                    attention=config.get("attention", 32), members=config.get("members", 1)).build(config["n_features"])
        model.net_.load_state_dict(load_file(str(weights)))
        model.net_.eval()
        return model, config


class ModelScorer:
    """Attaches the heads' predictions to parsed calls: each call's salesperson utterances
    (backchannels skipped) with their windows, encoded and judged apart from other calls."""

    def __init__(self, directory: Path | None = None, featurizer: Featurizer | None = None) -> None:
        """Checks the files now (sha256, feature layout) but loads torch and the encoder only
        when something is scored: a rerun answered from the cache never pays for them."""
        self.directory = directory or default_model_dir()
        self.config = verify(self.directory)  # every file heads.json names, present and intact
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
        and what the int8 graph is exported from."""
        from analyzer.encoder import shared_encoder

        adapter = self.config.get("adapter")
        return shared_encoder(self.directory, adapter["sha256"]) if adapter else shared_encoder()

    @functools.cached_property
    def featurizer(self) -> Featurizer:
        """Features as analysis computes them: through the int8 encoder (encoder_onnx.py)."""
        from analyzer.encoder_onnx import int8_encoder

        return Featurizer(int8_encoder(lambda: self.reference_encoder, self.adapter_sha256))

    def __reduce__(self):  # a worker process or Ray actor loads its own copy (engines.py)
        return (ModelScorer, (self.directory,))

    @staticmethod
    def available(directory: Path | None = None) -> bool:
        directory = directory or default_model_dir()
        return (directory / WEIGHTS_NAME).is_file() and (directory / CONFIG_NAME).is_file()

    def predict(self, examples: Sequence[tuple[ParsedCall, Utterance]],
                vectors: dict[tuple[int, str], np.ndarray] | None = None) -> list[Prediction]:
        """Predictions for salesperson utterances in their calls. Each call is encoded and
        its heads run apart from every other call, so no row depends on another call's."""
        X, windows = self.featurizer.rows(examples, vectors=vectors)
        predictions: list[Prediction | None] = [None] * len(examples)
        groups: dict[int, list[int]] = {}
        for i, (parsed, _) in enumerate(examples):
            groups.setdefault(id(parsed), []).append(i)
        for rows in groups.values():
            behaviors, tactics, attention = self.classifier.outputs(X[rows])
            for i, b_row, t_row, a_row in zip(rows, behaviors, tactics, attention):
                before, after = windows[i]
                order = np.argsort(-t_row, kind="stable")
                ranked = tuple((self.classifier.tactics[k], round(float(t_row[k]), 4)) for k in order)
                weights = a_row[WINDOW - len(before):]
                predictions[i] = Prediction(
                    dict(zip(self.classifier.behaviors, map(float, b_row))),
                    ranked,
                    read=tuple(u.id for u in before) + ((after.id,) if after else ()),
                    focus=before[int(np.argmax(weights))].id if before else None,
                )
        return predictions  # type: ignore[return-value]

    def annotate(self, calls: Sequence[ParsedCall]) -> list[ParsedCall]:
        """Each call with its predictions and the embedding of every utterance that is not a
        backchannel (`meanings`: the account ledger reuses them instead of encoding again)."""
        examples = [(parsed, u) for parsed in calls for u in parsed.salesperson_utterances() if not u.is_backchannel]
        meaningful = [(parsed, [u for u in parsed.utterances if not u.is_backchannel]) for parsed in calls]
        vectors = self.featurizer.vectors(examples, also=[(p, [u.text for u in us]) for p, us in meaningful])
        predictions: dict[int, dict[str, Prediction]] = {id(p): {} for p in calls}
        for (parsed, utterance), prediction in zip(examples, self.predict(examples, vectors) if examples else []):
            predictions[id(parsed)][utterance.id] = prediction
        return [
            dataclasses.replace(parsed, predictions=predictions[id(parsed)],
                                meanings={u.id: vectors[id(parsed), u.text] for u in utterances})
            for parsed, utterances in meaningful
        ]
