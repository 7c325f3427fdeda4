"""Who sells and which account, without a manifest: decided from the whole folder
(analyzer/ingest/identity.py), and measured on the sample calls with their manifest hidden."""
from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import sys
from itertools import combinations
from pathlib import Path

import pytest

from analyzer.ingest import discover, folder_identities, read_call
from analyzer.ingest.identity import accounts_from_names, call_facts, is_generic, speaker_evidence
from analyzer.model import CallMeta, Turn
from analyzer.ingest.identity import name_matches
from analyzer.ingest.metadata import MANIFEST_NAME, Manifest

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_transcripts"
SAMPLE_KEY = Path(__file__).parent / "golden" / "sample_key.jsonl"

# Plain talk: no self-introduction, no pitch words, nothing a single call could sell on.
SELLER_TALK = [
    "Morning. Good to see you again.",
    "Right, so the rollout would start with the north depot.",
    "Six weeks, give or take.",
    "That works for us.",
]
CUSTOMER_TALK = [
    "Morning.",
    "The north depot is the busy one, so that makes sense.",
    "Fine by me.",
    "Good.",
]
MANY_QUESTIONS = [  # questions about "you" and nothing a buyer alone would ask
    "Did you get the floor plan I sent you?",
    "Are you still based in Denver?",
    "Have you met our operations lead yet?",
    "Are you free on Thursday afternoon?",
]


BUYER_QUESTIONS = [  # what a buyer asks a vendor
    "Do you support single sign-on?",
    "Can you connect to our warehouse system?",
    "Does it come with training for the night shift?",
    "How much does the second depot add?",
]


def talk(seller: str, customer: str, customer_first: bool = False, questions: bool | list[str] = False) -> list[tuple[str, str]]:
    customer_lines = questions if isinstance(questions, list) else MANY_QUESTIONS if questions else CUSTOMER_TALK
    pairs = list(zip(SELLER_TALK, customer_lines))
    lines = []
    for said, answer in pairs:
        turn = [(seller, said), (customer, answer)]
        lines += turn[::-1] if customer_first else turn
    return lines


# A folder where Dana Whitfield sells to Acme and Brightco, Marcus Delgado to Delta and Echo
# (labelled MARCUS in one file). Every call is as bland as the tricky ones, so only the
# folder can tell who sells.
BASE = {
    "acme_2026-01-05_discovery.txt": talk("Dana Whitfield", "Ray Castillo"),
    "acme_2026-02-02_review.txt": talk("Dana", "Ray Castillo"),
    "brightco_2026-01-12_discovery.txt": talk("Dana Whitfield", "Lena Park"),
    "delta_2026-01-20_discovery.txt": talk("MARCUS", "Ines Moreau"),
    "echo_2026-01-27_discovery.txt": talk("Marcus Delgado", "Tariq Aziz"),
}

# row: the tricky call added to BASE, its file, and who must be found (label, person)
TRICKY = [
    ("customer_speaks_first", talk("Dana Whitfield", "Nora Quinn", customer_first=True), "Dana Whitfield", "Dana Whitfield"),
    ("customer_asks_many_questions", talk("Dana Whitfield", "Nora Quinn", questions=True), "Dana Whitfield", "Dana Whitfield"),
    ("customer_first_and_asking", talk("Dana", "Nora Quinn", customer_first=True, questions=True), "Dana", "Dana Whitfield"),
    ("speech_to_text_labels", [("spk_0", "Hello?"), ("spk_1", "Hi Nora, Dana here from Lumenridge.")]
     + [("spk_0" if s == "Nora Quinn" else "spk_1", t) for s, t in talk("X", "Nora Quinn", customer_first=True, questions=True)],
     "spk_1", "Dana Whitfield"),
    ("upper_case_first_name", talk("MARCUS", "Nora Quinn", customer_first=True, questions=True), "MARCUS", "Marcus Delgado"),
    ("customer_named_like_the_rep", talk("Dana Whitfield", "Marcus", questions=True), "Dana Whitfield", "Dana Whitfield"),
    ("customer_full_name_like_the_rep", talk("Dana Whitfield", "Marcus Chen", customer_first=True, questions=True),
     "Dana Whitfield", "Dana Whitfield"),
]


def write_folder(folder: Path, calls: dict[str, list[tuple[str, str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in calls.items():
        (folder / name).write_text("\n\n".join(f"{speaker}: {text}" for speaker, text in lines) + "\n", encoding="utf-8")
    return folder


def identify(folder: Path, reps: tuple[str, ...] = (), manifest: Manifest | None = None):
    """{file: Call} as the pipeline reads them: the folder pass, then read_call."""
    files = list(discover(folder, folder / MANIFEST_NAME if manifest else None))
    identities, _ = folder_identities(files, folder, manifest, reps)
    return {
        p.name: read_call(p, folder, manifest, reps, identity=identities.get(p.relative_to(folder).as_posix()))[0]
        for p in files
    }


@pytest.mark.parametrize("row,lines,label,person", TRICKY, ids=[r[0] for r in TRICKY])
def test_ingest_identity_folder_finds_the_seller(tmp_path, row, lines, label, person):
    name = "corvid_2026-02-09_review.txt"
    calls = identify(write_folder(tmp_path, {**BASE, name: lines}))
    call = calls[name]
    assert (call.salesperson.speaker, call.salesperson_name) == (label, person)
    assert call.salesperson.source == "inferred"
    assert call.meta.account == "Corvid" and call.meta.account_source == "file name"
    # the rest of the folder is not disturbed by the tricky call
    assert {n: c.salesperson_name for n, c in calls.items() if n in BASE} == {
        n: ("Marcus Delgado" if n.startswith(("delta", "echo")) else "Dana Whitfield") for n in BASE
    }


@pytest.mark.parametrize("row,lines,label,person", TRICKY[:3], ids=[r[0] for r in TRICKY[:3]])
def test_ingest_identity_one_call_alone_is_fooled(tmp_path, row, lines, label, person):
    """Why the folder matters: the same call read alone picks the customer."""
    path = write_folder(tmp_path, {"corvid_2026-02-09_review.txt": lines}) / "corvid_2026-02-09_review.txt"
    call, _ = read_call(path, tmp_path)
    assert call.salesperson.speaker != label


def test_ingest_identity_customer_with_another_reps_first_name(tmp_path):
    """Yew's customer OWEN shares a first name with Owen Brennan, who sells elsewhere; Yew's
    calls label everyone by first name, so the folder cannot tell the two Owens apart and
    what they say decides: the one asking what the product does is the customer."""
    yew = {
        "yew_2026-03-01_discovery.txt": talk("PRIYA", "OWEN", customer_first=True, questions=BUYER_QUESTIONS),
        "yew_2026-03-08_review.txt": talk("Priya", "Owen", customer_first=True, questions=BUYER_QUESTIONS),
        "zeta_2026-03-02_discovery.txt": talk("Priya Venkataraman", "Hal Berg"),
        "kappa_2026-03-03_discovery.txt": talk("Owen Brennan", "Sue Lamb"),
        "lambda_2026-03-04_discovery.txt": talk("Owen Brennan", "Tim Roe"),
    }
    calls = identify(write_folder(tmp_path, {**BASE, **yew}))
    assert {n: calls[n].salesperson_name for n in yew} == {
        n: "Owen Brennan" if n.startswith(("kappa", "lambda")) else "Priya Venkataraman" for n in yew
    }


# One account, one seller who sells nowhere else, so only the account's own calls can say
# who sells: Priya Nair does what sellers do in two calls and is quiet in the third, where
# her customer asks question after question about "you".
SELLING = [
    "Thanks for taking the time today.",
    "I'll send you the revised quote by Friday.",
    "Let me walk you through the rollout plan.",
    "Our onboarding team handles the first month.",
]
QUIET_ACCOUNT = {
    "yarrow_2026-04-01_discovery.txt": [(s, t) for pair in zip(SELLING, CUSTOMER_TALK)
                                        for s, t in zip(("Priya Nair", "Nora Quinn"), pair)],
    "yarrow_2026-04-15_demo.txt": [(s, t) for pair in zip(SELLING, CUSTOMER_TALK)
                                   for s, t in zip(("PRIYA", "NORA"), pair)],
    "yarrow_2026-05-02_review.txt": talk("Priya Nair", "Nora Quinn", customer_first=True, questions=True),
    "yarrow_2026-05-20_renewal.txt": [(s, t) for pair in zip(SELLING, CUSTOMER_TALK)
                                      for s, t in zip(("Priya N.", "Nora Quinn"), pair)],
}


def test_ingest_identity_the_accounts_seller_in_a_quiet_call(tmp_path):
    """Read alone, the review call's many questions about "you" make the customer the seller;
    the account's calls together make Priya, the one who sells in them, its seller. `PRIYA`
    and `Priya N.` are her too (an abbreviation is not another full name)."""
    alone = tmp_path / "alone"
    write_folder(alone, {name: QUIET_ACCOUNT[name] for name in ["yarrow_2026-05-02_review.txt"]})
    assert read_call(alone / "yarrow_2026-05-02_review.txt", alone)[0].salesperson.speaker == "Nora Quinn"
    calls = identify(write_folder(tmp_path / "folder", {**BASE, **QUIET_ACCOUNT}))
    assert {n: calls[n].salesperson_name for n in QUIET_ACCOUNT} == dict.fromkeys(QUIET_ACCOUNT, "Priya Nair")


def test_ingest_identity_names_in_speech_to_text(tmp_path):
    """Speech-to-text writes `spk_N` and names in lower case: the customer's "thanks dmitri"
    after the seller's turn (a backchannel between) names the seller, and an initial and a
    surname ("D. Ashgrove") are the full name the folder knows."""
    stt = [("spk_1", "hi there can you hear me okay"), ("spk_0", "yes hi its noor and felix is here too"),
           ("spk_2", "so what does the scanner plug into and how big are the files"),
           ("spk_1", "it plugs into its own workstation and the files are about twelve terabytes a feature"),
           ("spk_0", "great"), ("spk_2", "sounds good thanks dmitri")]
    calls = identify(write_folder(tmp_path, {
        **BASE,
        "silverhalide_2026-01-20_intro.txt": stt,
        "silverhalide_2026-02-17_results.txt": [(s, t) for pair in zip(SELLING, CUSTOMER_TALK)
                                                for s, t in zip(("Dmitri Ashgrove", "Noor Castellanos"), pair)],
        "silverhalide_2026-03-17_commercials.txt": [(s, t) for pair in zip(SELLING, CUSTOMER_TALK)
                                                    for s, t in zip(("D. Ashgrove", "Noor Castellanos"), pair)],
    }))
    intro = calls["silverhalide_2026-01-20_intro.txt"]
    assert (intro.salesperson.speaker, intro.salesperson_name) == ("spk_1", "Dmitri Ashgrove")
    assert calls["silverhalide_2026-03-17_commercials.txt"].salesperson_name == "Dmitri Ashgrove"


def diarised(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The call as a diarising export writes it: speakers `spk_N` in order of appearance."""
    labels: dict[str, str] = {}
    return [(labels.setdefault(speaker, f"spk_{len(labels)}"), text) for speaker, text in lines]


def test_ingest_identity_an_accounts_unnamed_sellers_are_one(tmp_path):
    """Diarised exports: where one call of the account greets its seller by name, the
    account's other calls' sellers take that name; an account whose calls name no seller
    gets one salesperson named after it, not one per file."""
    greeted = [("Priya Nair", "I'll send the summary tonight."), ("Nora Quinn", "Thanks, Priya. The deck helped.")]
    selling = [(s, t) for pair in zip(SELLING, CUSTOMER_TALK) for s, t in zip(("Priya Nair", "Nora Quinn"), pair)]
    calls = identify(write_folder(tmp_path, {
        **BASE,
        "yarrow_2026-04-01_discovery.txt": diarised(selling + greeted),
        "yarrow_2026-04-15_demo.txt": diarised(selling),
        "yarrow_2026-05-02_review.txt": diarised(selling),
        "quince_2026-04-03_discovery.txt": diarised(selling),
        "quince_2026-04-24_pricing.txt": diarised(selling),
    }))
    assert {calls[n].salesperson_name for n in calls if n.startswith("yarrow")} == {"Priya"}
    assert {calls[n].salesperson_name for n in calls if n.startswith("quince")} == {"unnamed salesperson (Quince)"}
    assert {calls[n].salesperson.speaker for n in calls if n.startswith(("yarrow", "quince"))} == {"spk_0"}


def test_ingest_identity_a_greeting_meant_for_someone_else(tmp_path):
    """In a diarised call of three, Farida's "Thanks, Adaeze." comes right after Hollis spoke,
    so Hollis is taken to be Adaeze, the account's seller. A name only a greeting gave is a
    weak link: the seller's own cues in the call still decide."""
    first = [(speaker, line) for pair in zip(SELLING + SELLING, CUSTOMER_TALK + CUSTOMER_TALK)
             for speaker, line in zip(("Adaeze Obi", "Farida Khan"), pair)]
    first += [("Adaeze Obi", "Good."), ("Farida Khan", "Thanks, Adaeze. Talk soon.")]
    demo = [("Adaeze Obi", line) for line in SELLING] + [("Adaeze Obi", "Let me show you the dashboard.")]
    demo += [("Farida Khan", "Good."), ("Hollis Grey", "We run the night shift on the old system."),
             ("Farida Khan", "Thanks, Adaeze. And Hollis, the rota."), ("Hollis Grey", "I'll bring it.")]
    calls = identify(write_folder(tmp_path, {
        **BASE,
        "wexmoor_2026-01-10_discovery.txt": diarised(first),
        "wexmoor_2026-02-17_demo.txt": diarised(demo),
    }))
    demo_call = calls["wexmoor_2026-02-17_demo.txt"]
    assert (demo_call.salesperson.speaker, demo_call.salesperson_name) == ("spk_0", "Adaeze")


def test_ingest_identity_a_greeting_cannot_outweigh_the_calls_own_cues(tmp_path):
    """Adaeze sells in three calls of the account; in the fourth, a call of three, Farida's
    "Thanks, Adaeze." comes right after Hollis spoke. That one greeting may tip a close call
    towards Hollis but not carry the account's whole selling record past what spk_0 plainly
    does in this call."""
    def greeted_call(times: int) -> list[tuple[str, str]]:
        lines = [(speaker, line) for pair in zip(SELLING * times, CUSTOMER_TALK * times)
                 for speaker, line in zip(("Adaeze Obi", "Farida Khan"), pair)]
        return lines + [("Adaeze Obi", "Good."), ("Farida Khan", "Thanks, Adaeze. Talk soon.")]
    demo = [("Adaeze Obi", line) for line in SELLING] + [("Farida Khan", "Good."),
            ("Hollis Grey", "We run the night shift on the old system."), ("Farida Khan", "Thanks, Adaeze.")]
    calls = identify(write_folder(tmp_path, {
        **BASE,
        "wexmoor_2026-01-10_discovery.txt": diarised(greeted_call(3)),
        "wexmoor_2026-01-24_pricing.txt": diarised(greeted_call(3)),
        "wexmoor_2026-02-03_proposal.txt": diarised(greeted_call(3)),
        "wexmoor_2026-02-17_demo.txt": diarised(demo),
    }))
    assert calls["wexmoor_2026-02-17_demo.txt"].salesperson.speaker == "spk_0"


def test_ingest_identity_a_first_name_greeted_in_two_accounts_may_be_two_people(tmp_path):
    """Fenwick's and Gable's customer is each greeted "Dev". Two accounts alike is what marks a
    seller, but a bare first name heard in two accounts is as likely two customers, so it does
    not outweigh the quiet seller's own cues."""
    def call(customer: str) -> list[tuple[str, str]]:
        return diarised([("Sam Reyes", "I'll send you the revised quote by Friday."), (customer, "Good."),
                         ("Dev " + customer.split()[1], "The night shift still uses paper."),
                         (customer, "Thanks, Dev. That's the one."), ("Sam Reyes", "Noted.")])
    calls = identify(write_folder(tmp_path, {
        **BASE,
        "fenwick_2026-03-02_discovery.txt": call("Ola Fenwick"),
        "gable_2026-03-09_discovery.txt": call("Ines Gable"),
    }))
    assert calls["fenwick_2026-03-02_discovery.txt"].salesperson.speaker == "spk_0"
    assert calls["gable_2026-03-09_discovery.txt"].salesperson.speaker == "spk_0"


def test_ingest_identity_a_question_names_who_answers():
    """"…, Luis?" and "Hana, …?" are put to the next speaker (in multi-party calls of the
    labelled folders, 265 of 277 and 83 of 84 times); a greeting names the previous one. A sentence's first
    word is capitalised anyway, so "Hana" is kept in lower case: a name only if some label
    in the folder has that first name."""
    turns = (Turn("spk_0", "How's the new reception holding up, Luis?"), Turn("spk_1", "Busy."),
             Turn("spk_0", "Good. Hana, did the files reach you?"), Turn("spk_2", "They did."),
             Turn("spk_1", "Thanks, Tobias."))
    facts = call_facts("call.txt", turns, CallMeta("call"))
    assert [facts.speaker(label).asked_as for label in ("spk_0", "spk_1", "spk_2")] == [(), ("Luis",), ("hana",)]
    assert facts.speaker("spk_2").addressed_as == ("Tobias",)


@pytest.mark.parametrize("line,names", [
    ("Hi, it's Dana from Lumenridge.", ("Dana",)),
    ("Morning. Dana here, sorry I'm late.", ("Dana",)),
    ("It's Class 1 with the lid shut.", ()),    # a thing, not a person
    ("Same here on the A-road.", ()),           # "Same here", not "Dana here"
])
def test_ingest_identity_self_introductions(line, names):
    facts = call_facts("call.txt", (Turn("spk_0", line), Turn("spk_1", "Good.")), CallMeta("call"))
    assert facts.speaker("spk_0").intro_names == names


def test_ingest_identity_customer_named_like_the_rep_is_not_merged(tmp_path):
    calls = identify(write_folder(tmp_path, {**BASE, "corvid_2026-02-09_review.txt": TRICKY[5][1]}))
    marcus_calls = sorted(n for n, c in calls.items() if c.salesperson_name == "Marcus Delgado")
    assert marcus_calls == ["delta_2026-01-20_discovery.txt", "echo_2026-01-27_discovery.txt"]


@pytest.mark.parametrize(
    "reps,manifest_rows,expected",
    [
        # --rep ties the upper-case label to the full name
        (("Dana Whitfield",), None, {"acme_2026-01-05_discovery.txt": ("Dana Whitfield", "option")}),
        # the manifest wins over inference, even against the folder
        ((), "file,salesperson,salesperson_speaker\nacme_2026-01-05_discovery.txt,Ray Castillo,Ray Castillo\n",
         {"acme_2026-01-05_discovery.txt": ("Ray Castillo", "manifest")}),
        # a manifest naming the full name once names MARCUS in files it does not list
        ((), "file,salesperson\necho_2026-01-27_discovery.txt,Marcus Delgado\n",
         {"delta_2026-01-20_discovery.txt": ("Marcus Delgado", "inferred"),
          "echo_2026-01-27_discovery.txt": ("Marcus Delgado", "manifest")}),
    ],
)
def test_ingest_identity_manifest_and_rep_come_first(tmp_path, reps, manifest_rows, expected):
    folder = write_folder(tmp_path, BASE)
    manifest = None
    if manifest_rows:
        (folder / MANIFEST_NAME).write_text(manifest_rows, encoding="utf-8")
        manifest = Manifest.load(folder / MANIFEST_NAME, folder)
    calls = identify(folder, reps, manifest)
    assert {n: (calls[n].salesperson_name, calls[n].salesperson.source) for n in expected} == expected


def test_ingest_identity_accounts_from_shared_customers(tmp_path):
    """No file-name convention: calls that share a customer are one account."""
    renamed = {f"call-{i}.txt": lines for i, lines in enumerate(BASE.values())}
    calls = identify(write_folder(tmp_path, renamed))
    accounts = {n: c.meta.account for n, c in calls.items()}
    assert accounts["call-0.txt"] == accounts["call-1.txt"] == "Ray Castillo"
    assert len({accounts[f"call-{i}.txt"] for i in (1, 2, 3, 4)}) == 4
    assert {c.meta.account_source for c in calls.values()} == {"participants"}


def test_ingest_identity_accounts_from_the_company_customers_name(tmp_path):
    """Speech-to-text labels, no names to share: the company the customer answers with."""
    answer = [("spk_0", "oakmere equine this is kelly"), ("spk_1", "hi kelly this is dana from lumenridge")]
    calls = identify(write_folder(tmp_path, {
        **{f"call-{i}.txt": lines for i, lines in enumerate(BASE.values())},
        "call-a.txt": answer + [("spk_1", "So the order is on its way."), ("spk_0", "Good.")],
        "call-b.txt": answer + [("spk_1", "The second delivery is Friday."), ("spk_0", "Thanks.")],
    }))
    assert calls["call-a.txt"].meta.account == calls["call-b.txt"].meta.account == "Oakmere Equine"
    assert calls["call-0.txt"].meta.account != "Oakmere Equine"


@pytest.mark.parametrize(
    "names,expected",
    [
        (["acme_2026-01-05_discovery.txt", "acme_2026-02-02_review.txt", "brightco_2026-01-12_discovery.txt"],
         ["acme", "acme", "brightco"]),
        (["2026-08-20_harbor-freight-lines_discovery.txt", "2026-09-10_harbor-freight-lines_proposal.json"],
         ["harbor-freight-lines", "harbor-freight-lines"]),
        (["discovery_acme_20260105.txt", "review_acme_20260202.txt"], ["acme", "acme"]),
        (["call1.txt", "call2.txt"], None),                                      # no convention
        (["2026-01-05_discovery.txt", "2026-01-06_review.txt"], None),           # only call types
        (["acme_2026-01-05.txt", "brightco_2026-01-06.txt"], None),              # nothing repeats
    ],
)
def test_ingest_identity_accounts_from_names(names, expected):
    found = accounts_from_names(names)
    assert ([found[n] for n in names] if found else None) == expected


@pytest.mark.parametrize(
    "line,sells",
    [
        ("Hi, this is Dana from Lumenridge, thanks for making the time.", True),
        ("Let me show you what the phased option looks like.", True),
        ("I'll send you the revised quote by Friday.", True),
        ("That's my error, I typed an extra zero.", True),
        ("Walk me through what happens when a truck is down.", True),
        ("So what's the damage?", False),
        ("How much does the battery cost?", False),
        ("Do you support single sign-on?", False),
        ("You promised the proposal last week.", False),
        ("Can you send me your pricing?", False),
        ("I'll have to check with my boss.", False),
    ],
)
def test_ingest_identity_seller_cues(line, sells):
    scores = speaker_evidence((Turn("A", line), Turn("B", "Okay.")))
    assert (scores["A"] > scores["B"]) is sells and (scores["A"] < scores["B"]) is not sells


@pytest.mark.parametrize(
    "label,name,same",
    [
        ("DANA", "Dana Whitfield", True),
        ("Dana", "Dana Whitfield", True),
        ("Dana W.", "Dana Whitfield", True),
        ("dana whitfield", "Dana Whitfield", True),
        ("Dana Cole", "Dana Whitfield", False),
        ("Marcus Chen", "Marcus Delgado", False),
        ("D", "Dana", False),
        ("Dan", "Dana Whitfield", False),
        ("D. Whitfield", "Dana Whitfield", True),
        ("T. Aldana", "Dana Whitfield", False),
    ],
)
def test_ingest_identity_name_matches(label, name, same):
    assert name_matches(label, name) is same


@pytest.mark.parametrize("label,generic", [("spk_0", True), ("Speaker 2", True), ("SPEAKER_01", True), ("Agent", True),
                                           ("Customer 1", True), ("Dana", False), ("Marcus Delgado", False)])
def test_ingest_identity_generic_labels(label, generic):
    assert is_generic(label) is generic


# --- the sample calls with their manifest hidden ----------------------------------------

@pytest.fixture(scope="module")
def sample_run_without_manifest(tmp_path_factory):
    from analyzer.analysis import Analyzer
    from analyzer.pipeline import analyze_folder

    folder = tmp_path_factory.mktemp("samples") / "calls"
    shutil.copytree(SAMPLES, folder, ignore=shutil.ignore_patterns(MANIFEST_NAME))
    out = tmp_path_factory.mktemp("out")
    analyze_folder(folder, out, analyzer=Analyzer(), use_cache=False)
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_ingest_identity_samples_without_manifest(sample_run_without_manifest):
    out = sample_run_without_manifest
    key = {row["file"]: row for row in map(json.loads, SAMPLE_KEY.read_text().splitlines())}
    manifest = {row["file"]: row for row in _rows(SAMPLES / MANIFEST_NAME)}
    calls = _rows(out / "call_scores.csv")
    assert len(calls) == len(key)
    right = sum(row["salesperson_speaker"] == key[row["file"]]["salesperson_label"] for row in calls)
    assert right / len(calls) >= 0.95
    for a, b in combinations(calls, 2):  # accounts grouped as the manifest groups them
        same = manifest[a["file"]]["account"] == manifest[b["file"]]["account"]
        assert (a["account"] == b["account"]) is same, (a["file"], b["file"])
    people = {}
    for row in calls:
        people.setdefault(manifest[row["file"]]["salesperson"], set()).add(row["salesperson"])
    assert all(len(names) == 1 for names in people.values()), people
    reps = {row["salesperson"] for row in _rows(out / "rep_scores.csv")}
    assert len(reps) == len(people) == 4
    assert {row["account_source"] for row in calls} <= {"file name", "metadata"}


def test_ingest_identity_eval_script_on_samples():
    spec = importlib.util.spec_from_file_location("identity_eval", ROOT / "models" / "identity_eval.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    result = module.evaluate(SAMPLES, SAMPLE_KEY)
    assert (result.judged, result.accuracy, result.pair_precision, result.pair_recall) == (12, 1.0, 1.0, 1.0)
    assert result.one_person_one_rep


def test_ingest_identity_rerun_reuses_the_facts_it_kept(tmp_path, monkeypatch):
    """A rerun takes each unchanged file's facts from the last run (through JSON, as the
    result cache keeps them) and decides the same; a changed file is parsed again."""
    import analyzer.ingest as ingest

    folder = write_folder(tmp_path / "calls", BASE)
    files = list(discover(folder))
    first, facts = folder_identities(files, folder)
    kept = json.loads(json.dumps(facts))
    changed = files[0]
    changed.write_text(changed.read_text("utf-8") + "\nDana Whitfield: One more thing before you go.\n", encoding="utf-8")
    parsed = []
    real = ingest.read_facts
    monkeypatch.setattr(ingest, "read_facts", lambda path, *args: parsed.append(path.name) or real(path, *args))
    again, facts_again = folder_identities(files, folder, known=kept)
    assert parsed == [changed.name]
    assert again == first
    assert len(facts_again) == len(files) and set(facts_again) - set(kept) and len(set(facts_again) & set(kept)) == len(files) - 1
