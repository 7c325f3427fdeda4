"""Commitments across the calls of one account (kept, broken, open, overdue, recaps joined),
repeated mistakes by meaning, and the ledger's evaluation script. Outcome tests use the
shipped ledger model and encoder (they are about them); bookkeeping tests use a judge that
links nothing."""
from __future__ import annotations

import datetime as dt
import hashlib
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from analyzer.ledger import (
    ATTRIBUTION, BROKEN, KEPT, LOGGED, MISTAKE, OPEN, POLARITY, SAME_KIND, SAYS, STATUS_FEATURES, STATUSES, PAIR_LABELS, CallHistory, Ledger, PairJudge, commitment_row, history_of, later_calls, status_inputs,
)
from analyzer.model import CallMeta
from analyzer.analysis import Analyzer
from analyzer.score import with_ledger
from conftest import make_call

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "models"))
from eval_ledger import pooled, score_commitments, score_repeats  # noqa: E402

PATTERNS = Analyzer()  # patterns only: the ledger is what is tested here


def history(call_id: str, date: dt.date, *lines, account: str = "Acme") -> CallHistory:
    call = make_call(*lines, call_id=call_id, date=date)
    call = call.__class__(call.source, call.format, CallMeta(call_id, date, "Dana", account), call.turns, call.salesperson)
    return history_of(PATTERNS.analyze_call(call))


@pytest.fixture(scope="module")
def shipped() -> Ledger:
    return Ledger.shipped()


class Unlinking:
    """A judge that links nothing: every pair is unrelated."""

    @staticmethod
    def make(embed, status_bias: tuple[float, float, float] = (0.0, 0.0, 50.0)) -> Ledger:
        d = 384
        tensors = {"attribution": np.zeros(len(ATTRIBUTION)), "none": np.array([50.0]),  # always "about none"
                   "polarity": np.zeros((3 * d + len(POLARITY), len(SAYS))), "polarity_bias": np.zeros(len(SAYS)),
                   "relate": np.eye(d), "status": np.zeros((len(STATUS_FEATURES) + LOGGED, len(STATUSES))),
                   "status_bias": np.array(status_bias),  # always open, unless told otherwise
                   "status_mean": np.zeros(len(STATUS_FEATURES) + LOGGED), "status_scale": np.ones(len(STATUS_FEATURES) + LOGGED),
                   "mistake": np.zeros(3 * d + len(MISTAKE)), "mistake_bias": np.array([-50.0]),  # no mistakes
                   "same_kind": np.zeros(len(SAME_KIND)), "same_kind_bias": np.zeros(1)}
        thresholds = {KEPT: 0.5, BROKEN: 0.5, "pending": 0.5, "restated": 0.5, "mistake": 0.5, "repeat": 0.5}
        return Ledger(embed, PairJudge(tensors, {"thresholds": thresholds}))


SEPT_1, SEPT_15 = dt.date(2026, 9, 1), dt.date(2026, 9, 15)
FIRST = history(
    "c1", SEPT_1,
    ("Cust", "We need to show the board what this saves us, and our finance lead wants the numbers."),
    ("Rep", "I'll send you the ROI model by Friday."),
    ("Cust", "And our IT team will ask about security."),
    ("Rep", "I'll get you the SOC 2 report by next Wednesday."),
    ("Cust", "Also the warehouse floor needs checking."),
    ("Rep", "I'll have our engineer inspect the loading dock floor next week."),
)
SECOND = history(
    "c2", SEPT_15,
    ("Rep", "Good to talk again. How did the board meeting go?"),
    ("Cust", "Thanks for the numbers on savings, the board loved them and it helped a lot."),
    ("Cust", "But our IT people are still waiting on the security audit paperwork, nothing ever came through."),
    ("Rep", "I'm sorry about that."),
)


@pytest.mark.parametrize("promise, status", [
    ("ROI model", KEPT),             # the customer confirms use in other words
    pytest.param("SOC 2 report", BROKEN, marks=pytest.mark.xfail(  # the customer says it never came
        strict=True, reason="known weakness of the shipped judge (attribution): it takes 'still waiting on the security "
                            "audit paperwork' to be about the loading dock (0.22) rather than the SOC 2 report (0.04), "
                            "so the status model reads the thank-you for the numbers (about it 0.06) as kept (0.67; broken 0.28)")),
    pytest.param("loading dock", OPEN, marks=pytest.mark.xfail(
        strict=True, reason="known weakness of the shipped judge (attribution): the same 'still waiting on the security "
                            "audit paperwork' line is taken as broken evidence for the loading dock (0.22; broken 0.99)")),
])
def test_ledger_links_evidence_by_meaning(shipped, promise, status):
    promises, _ = shipped.build([SECOND, FIRST])  # order does not matter: sorted by date
    found = next(p for p in promises if promise in p.action)
    assert found.status == status
    if status != OPEN:
        assert found.evidence_call_id == "c2" and found.evidence_explanation
        assert any(e.call_id == "c2" and e.shows == status for e in found.evidence)


def test_status_inputs_do_not_grow_with_the_call():
    """What became of a promise is read from the moments most about it: a hundred more later
    utterances about nothing (a real 45-minute call has hundreds; the training accounts'
    calls have about 36) leave the status model's inputs exactly as they were."""
    def inputs(padding: int) -> np.ndarray:
        n = 4 + padding
        view = SimpleNamespace(promises=[SimpleNamespace(specific=True)], promise_call=np.array([0]),
                               said_call=np.array([0] + [1] * (n - 1)), due_passed=lambda i: True)
        about = np.full((1, n), 0.01, dtype=np.float32)
        about[0, 1:4] = (0.3, 0.2, 0.1)
        says = np.tile(np.array([0.1, 0.1, 0.0, 0.0, 0.8], dtype=np.float32), (n, 1))
        says[1:4] = ((0.1, 0.8, 0.05, 0.0, 0.05), (0.6, 0.2, 0.1, 0.0, 0.1), (0.2, 0.2, 0.2, 0.2, 0.2))
        probabilities = np.zeros((1, n, len(PAIR_LABELS)), dtype=np.float32)
        probabilities[0, :, 1:len(SAYS)] = about[0][:, None] * says[:, :len(SAYS) - 1]
        probabilities[0, :, 0] = 1.0 - probabilities[0, :, 1:].sum(axis=1)
        return status_inputs(view, about, says, probabilities)

    assert np.array_equal(inputs(0), inputs(100))


def test_ledger_other_accounts_are_not_evidence(shipped):
    other = history("c3", SEPT_15, ("Cust", "Thanks for the numbers on savings, the board loved them."),
                    ("Rep", "Glad to hear it."), account="Other")
    promises, _ = shipped.build([FIRST, other])
    assert all(p.status == OPEN and not p.evidence for p in promises)
    assert later_calls([FIRST, other]) == set()
    assert later_calls([FIRST, SECOND]) == {"c1"}


def test_ledger_recap_joins_the_first_promise(shipped):
    recap = history("c2", SEPT_15, ("Rep", "As I said last time, I'll get you the SOC 2 report by Friday."),
                    ("Cust", "Okay, good."))
    promises, _ = shipped.build([FIRST, recap])
    soc = [p for p in promises if "SOC 2" in p.action]
    assert len(soc) == 1 and soc[0].call_id == "c1"
    assert [call for call, _ in soc[0].mentions] == ["c2"]
    assert "c2: As I said last time" in commitment_row(soc[0])["mentions"]


@pytest.mark.parametrize("later, overdue", [
    (dt.date(2026, 9, 20), True),    # Friday 4 Sept passed before the next call, nothing confirmed
    (dt.date(2026, 9, 3), False),    # the next call came before the due date
])
def test_ledger_overdue_when_the_date_passed_before_a_later_call(later, overdue):
    ledger = Unlinking.make(_fake_embed)
    nothing = history("c2", later, ("Rep", "Shall we look at the rollout plan today?"), ("Cust", "Yes please."))
    promises, _ = ledger.build([FIRST, nothing])
    roi = next(p for p in promises if "ROI" in p.action)
    assert roi.status == OPEN and roi.overdue is overdue
    assert commitment_row(roi)["overdue"] == ("yes" if overdue else "no")


def test_ledger_says_when_no_moment_clearly_shows_the_status():
    """A status decided over weak moments still cites the closest one, but never as if that
    line confirmed it: a coach must not read "confirms it was done" into small talk."""
    ledger = Unlinking.make(_fake_embed, status_bias=(50.0, 0.0, 0.0))  # always kept, nothing linked
    promises, _ = ledger.build([FIRST, SECOND])
    roi = next(p for p in promises if "ROI" in p.action)
    assert roi.status == KEPT and roi.evidence_call_id == "c2"
    assert roi.evidence_explanation.startswith("no later moment clearly shows it; the closest: ")
    assert all(e.confidence < 0.5 for e in roi.evidence)


def _fake_embed(texts):
    """Deterministic unit vectors from the text's hash: different texts, unrelated vectors."""
    rows = []
    for text in texts:
        rng = np.random.default_rng(int(hashlib.sha256(text.encode()).hexdigest()[:8], 16))
        v = rng.normal(size=384)
        rows.append(v / np.linalg.norm(v))
    return np.array(rows, dtype=np.float32)


INVOICE_1 = ("Cust", "The invoice charged us twice for the same licences.")
INVOICE_2 = ("Cust", "The new statement bills us a second time for the trial seats again.")
NAME = ("Cust", "The contract spells our company name wrong, it's Harlan with an A.")


@pytest.mark.parametrize("first, second, expected", [
    ((INVOICE_1,), (INVOICE_2,), [("c2", "billing error", "c1")]),   # in other words
    ((INVOICE_1,), (NAME,), []),  # another kind: not repeated
    ((INVOICE_1, INVOICE_2), (("Cust", "Let's talk about the rollout."),), []),  # same call: never a repeat
])
def test_ledger_repeated_mistake_of_the_same_kind_in_a_later_call(shipped, first, second, expected):
    one = history("c1", SEPT_1, *first, ("Rep", "That's on me, I'll fix it today."))
    two = history("c2", SEPT_15, *second, ("Rep", "My mistake, I'll correct it."))
    _, repeated = shipped.build([one, two])
    assert [(r.call_id, r.kind, r.first_call_id) for r in repeated] == expected
    assert all(r.call_id != r.first_call_id for r in repeated)


def test_ledger_rescores_r2_and_r3():
    scores = Analyzer().analyze_call(make_call(("Cust", "The price was wrong."), ("Rep", "That's on me, I'll send the corrected quote by Friday."))).scores
    updated = {s.rule: s for s in with_ledger(scores, [KEPT, BROKEN, OPEN], repeats=1)}
    assert updated["R2"].score == 50.0   # (1 + 0.5) / 3
    assert updated["R3"].score < {s.rule: s for s in scores}["R3"].score


KEY = [
    {"kind": "commitment", "id": "a-c01", "file": "a1.txt", "text": "I'll send the ROI model by Friday.", "status": "kept", "overdue": False},
    {"kind": "commitment", "id": "a-c02", "file": "a1.txt", "text": "I'll get you the SOC 2 report.", "status": "broken", "overdue": True},
    {"kind": "commitment", "id": "a-c03", "file": "a1.txt", "text": "I'll book the site visit.", "status": "open", "overdue": False},
    {"kind": "mistake", "id": "a-m01", "file": "a1.txt", "repeat_of": None},
    {"kind": "mistake", "id": "a-m02", "file": "a2.txt", "repeat_of": "a-m01"},
]
FILES = {"c1": "a1.txt", "c2": "a2.txt"}


@pytest.mark.parametrize("rows, accuracy, kept_recall, overdue_accuracy", [
    ([{"call_id": "c1", "action": "I'll send the ROI model by Friday.", "status": "kept", "overdue": "no"},
      {"call_id": "c1", "action": "I'll get you the SOC 2 report.", "status": "broken", "overdue": "yes"},
      {"call_id": "c1", "action": "I'll book the site visit.", "status": "open", "overdue": "no"}], 1.0, 1.0, 1.0),
    ([{"call_id": "c2", "action": "I'll send the ROI model by Friday.", "status": "kept", "overdue": "no"}],  # wrong call
     0.0, 0.0, 2 / 3),
])
def test_ledger_eval_scores_commitments_matched_by_promise_text(rows, accuracy, kept_recall, overdue_accuracy):
    scores = score_commitments(rows, KEY, FILES)
    assert scores["accuracy"] == pytest.approx(accuracy)
    assert scores["recall"]["kept"] == pytest.approx(kept_recall)
    assert scores["overdue_accuracy"] == pytest.approx(overdue_accuracy)
    assert scores["all_open_baseline"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("flags, precision, recall, own", [
    ([{"call_id": "c2", "first_call_id": "c1"}], 1.0, 1.0, 0),
    ([{"call_id": "c2", "first_call_id": "c2"}], 0.0, 0.0, 1),
    ([], None, 0.0, 0),
])
def test_ledger_eval_scores_repeated_mistakes_by_call_and_earlier_call(flags, precision, recall, own):
    scores = score_repeats(flags, KEY, FILES)
    assert scores["precision"] == precision and scores["recall"] == recall and scores["own_call_flags"] == own


def test_ledger_eval_pools_folders_by_their_counts():
    """Pooled scores weigh every commitment and every flag once, not every folder once."""
    right = [{"call_id": "c1", "action": "I'll send the ROI model by Friday.", "status": "kept", "overdue": "no"},
             {"call_id": "c1", "action": "I'll get you the SOC 2 report.", "status": "broken", "overdue": "yes"},
             {"call_id": "c1", "action": "I'll book the site visit.", "status": "open", "overdue": "no"}]
    good = (score_commitments(right, KEY, FILES), score_repeats([{"call_id": "c2", "first_call_id": "c1"}], KEY, FILES))
    bad = (score_commitments(right[:1], KEY[:1], FILES), score_repeats([{"call_id": "c2", "first_call_id": "c2"}] * 3, KEY, FILES))
    commitments, repeats = pooled([good, bad])
    assert commitments["commitments"] == 4 and commitments["accuracy"] == pytest.approx(1.0)
    assert commitments["recall"]["kept"] == pytest.approx(1.0) and commitments["support"]["kept"] == 2
    assert (repeats["flags"], repeats["right"], repeats["repeats"], repeats["own_call_flags"]) == (4, 1, 2, 3)
    assert repeats["precision"] == pytest.approx(0.25) and repeats["recall"] == pytest.approx(0.5)


def test_train_ledger_teaches_nothing_on_later_lines_that_are_no_ones_evidence():
    """*What* learns "nothing" from later calls' lines that the key lists as no commitment's
    evidence or restatement (found by the analyzer or not); first-call lines teach nothing."""
    from analyzer.ledger import AccountView
    from train_ledger import label_silent

    def embed(texts):
        rows = [np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)).normal(size=8) for t in texts]
        return np.array([r / np.linalg.norm(r) for r in rows], dtype=np.float32).reshape(len(texts), 8)

    view = AccountView.build([FIRST, SECOND], embed)
    key = [{"kind": "commitment", "account": "Acme", "file": "a1.txt", "text": "I'll send you the ROI model by Friday.",
            "evidence": [{"file": "a2.txt", "text": "the board loved them", "shows": "kept"}], "restated": []},
           {"kind": "commitment", "account": "Acme", "file": "a1.txt", "text": "not found by the analyzer",
            "evidence": [], "restated": [{"file": "a2.txt", "text": "How did the board meeting go?"}]}]
    silent = label_silent(view, key, FILES)
    texts = {s.text: bool(q) for s, q in zip(view.said, silent)}
    assert not silent[view.said_call == 0].any()
    assert not texts["Thanks for the numbers on savings, the board loved them and it helped a lot."]
    assert not texts["Good to talk again. How did the board meeting go?"]
    assert texts["I'm sorry about that."]
    assert silent.sum() == len(SECOND.said) - 2
