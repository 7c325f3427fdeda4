"""--redact: no personal data in any output. Applied to the calls as they are read, so every
export derived from them (excerpts, context, explanations, annotations, ledger, cache,
report) carries only masks.

What is masked, by Presidio recognisers over one spaCy parse per turn (nlp.py):
  - customers' speaker labels everywhere: "Customer 1", "Customer 2" in order of speaking;
  - people named in speech, as `[person]`: spaCy's PERSON entities, plus the names this call
    teaches -- customers' labels, people who introduce themselves ("my name is ...", "this is
    ... from"), and every name the NER found once, so its lower-case mentions in
    speech-to-text text are caught too (NER alone misses most lower-case names);
  - e-mail addresses (also spoken: "jo dot smith at acme dot com"), phone numbers, payment
    card numbers (Luhn-checked), street addresses, as `[email]`, `[phone]`, `[card]`,
    `[address]`;
  - with `orgs`, organisations other than our own, as `[org]` (and the account name in the
    account column becomes a stable pseudonym "account-<hash>").

Kept on purpose: the salesperson's speaker label and name (rep_scores names the
salesperson by design; masking the same name in the excerpts would protect nothing), and,
with `orgs`, our own company -- the `company` given (manifest column or --company), else
the company the salesperson introduces themselves with ("this is Dana from Harbor
Freight")."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from analyzer.model import Call, Turn

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult
    from presidio_analyzer.nlp_engine import NlpArtifacts

PERSON, ORG = "PERSON", "ORGANIZATION"
EMAIL, PHONE, CARD, ADDRESS = "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "STREET_ADDRESS"
MASKS = {PERSON: "[person]", ORG: "[org]", EMAIL: "[email]", PHONE: "[phone]", CARD: "[card]", ADDRESS: "[address]"}
THRESHOLD = 0.5  # a result below this is not masked (weak patterns need context words to pass)

# --- patterns, as data: entity -> [(name, regex, score, case-sensitive)] ------------------
_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
    r"parkway|pkwy|circle|cir|highway|hwy|square|sq"
)
_TLD = r"com|org|net|io|co|uk|us|edu|gov|biz|info|ca|de|ai"
PATTERNS: dict[str, list[tuple[str, str, float, bool]]] = {
    EMAIL: [
        ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", 0.9, False),
        # speech-to-text spells it out: "jo dot smith at acme dot com"
        ("spoken email", rf"\b[a-z0-9]+(?:\s+(?:dot|underscore|dash)\s+[a-z0-9]+)*\s+at\s+[a-z0-9-]+"
                         rf"(?:\s+dot\s+[a-z0-9-]+)*\s+dot\s+(?:{_TLD})\b", 0.9, False),
    ],
    CARD: [("card", r"\b(?:\d[ -]?){12,18}\d\b", 0.95, False)],  # Luhn-checked below
    PHONE: [
        # not inside a longer run of digit groups (a card number that failed Luhn stays as it is)
        ("phone", r"(?<![\w.])(?<!\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}"
                  r"(?!\w|\.\d)(?![ .-]?\d)", 0.9, False),
        ("international phone", r"(?<![\w.])\+\d{9,14}(?!\w|\.\d)", 0.9, False),
    ],
    ADDRESS: [
        # a house number, one to three capitalised name words (or "34th"), a street suffix
        ("street address", rf"\b\d{{1,6}}(?:\s+[NSEW]\.?)?(?:\s+[A-Z][a-z]+|\s+\d{{1,3}}(?:st|nd|rd|th)){{1,3}}"
                           rf"\s+(?i:{_SUFFIX})\b\.?", 0.9, True),
        # the same in lower case: only with an address word before it ("we're at", "ship to")
        ("lower-case street address", rf"\b\d{{1,6}}(?:\s+[a-z]+|\s+\d{{1,3}}(?:st|nd|rd|th)){{1,3}}\s+(?:{_SUFFIX})\b",
         0.3, True),
    ],
}
ADDRESS_CONTEXT = ["at", "address", "located", "ship", "send", "deliver", "office", "warehouse", "site",
                   "live", "move", "moving", "building", "hq", "headquarters", "store", "mail", "to"]

# Speaker labels that are roles, not names; and name-shaped words that are also everyday
# English, which are masked alone only where the NER sees a name ("will", "mark", "may").
ROLE_WORDS = frozenset(
    "customer client prospect buyer caller rep agent sales salesperson seller speaker spk unknown guest host "
    "interviewer participant user moderator operator support team account manager the and of mr mrs ms dr".split()
)
COMMON_WORDS = frozenset(
    "will bill mark may june april august grant rich rob sue pat art frank chase hope joy faith summer dawn rose "
    "jack don ray les dean drew gene guy jean penny sandy wade ty max sky bob bud cliff dale glen heath holly "
    "ivy jay lance miles norm pierce reed rusty sterling stone trent victor wiley woody young king brown white "
    "green black gray grey long short hill wood ford lee park page bell hall price may rose love day hunt "
    "new north south east west good great fine sure well right okay thanks thank hello hi hey yes yeah no".split()
)
LEGAL_SUFFIXES = frozenset("inc inc. corp corp. corporation llc ltd ltd. co co. company gmbh plc group".split())
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_INTRO = re.compile(
    r"\b(?:my name is|my name's|this is|i'?m|i am|it'?s)\s+(?P<name>[^\W\d_]+(?:\s+[^\W\d_]+)?)\s+"
    r"(?:from|with|at|over at|here at|calling from)\s+(?P<org>[^\W\d_][\w&.'-]*(?:\s+[\w&.'-]+){0,3})",
    re.IGNORECASE,
)
_NAME_INTRO = re.compile(r"\b(?:my name is|my name's|name's|call me)\s+(?P<name>[^\W\d_]+(?:\s+[^\W\d_]+)?)", re.IGNORECASE)
_STOP_AFTER = frozenset(
    "and but so how i we you it this that here there today um uh just calling about on in for to the a an is "
    "was are who what yeah okay well".split()
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


@lru_cache(maxsize=1)
def census_names() -> tuple[frozenset[str], frozenset[str]]:
    """US Census first names and surnames (the `names` package's data files, public domain):
    what a lower-case word the tagger calls a proper noun must be to count as a name."""
    from importlib.resources import files

    def read(*parts: str) -> frozenset[str]:
        return frozenset(line.split()[0].casefold() for part in parts
                         for line in files("names").joinpath(part).read_text("utf-8").splitlines() if line.strip())

    return read("dist.male.first", "dist.female.first") - COMMON_WORDS, read("dist.all.last") - COMMON_WORDS


def _lowercase_name_recognizer():
    """Speech-to-text names: the NER misses most lower-case names, but the tagger still
    calls them proper nouns. A proper noun that is a census first name starts a name; the
    proper nouns right after it that are census surnames continue it; an unknown proper noun
    followed by a census surname ("priya patel") is a name too."""
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class LowercaseNames(EntityRecognizer):
        def load(self) -> None:
            census_names()

        def analyze(self, text, entities, nlp_artifacts=None):
            if PERSON not in entities or nlp_artifacts is None:
                return []
            first, last = census_names()
            tokens = list(nlp_artifacts.tokens)
            results, i = [], 0
            while i < len(tokens):
                token = tokens[i]
                following = tokens[i + 1] if i + 1 < len(tokens) else None
                surname_next = (following is not None and following.pos_ == "PROPN" and following.text.islower()
                                and following.text in last and token.text not in COMMON_WORDS)
                if (token.pos_ == "PROPN" and token.text.islower() and token.text.isalpha() and not token.is_stop
                        and (token.text in first or surname_next)):
                    j = i + 1
                    while (j < len(tokens) and j - i < 3 and tokens[j].pos_ == "PROPN" and tokens[j].text.islower()
                           and tokens[j].text in last and not tokens[j].is_stop):
                        j += 1
                    end = tokens[j - 1].idx + len(tokens[j - 1].text)
                    results.append(RecognizerResult(PERSON, token.idx, end, 0.6))
                    i = j
                else:
                    i += 1
            return results

    return LowercaseNames(supported_entities=[PERSON], name="lower-case names")


def _recognizers() -> list:
    """Our patterns as Presidio PatternRecognizers, plus spaCy's NER for people and orgs."""
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    class CardRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            digits = re.sub(r"\D", "", pattern_text)
            return 13 <= len(digits) <= 19 and luhn_valid(digits)

    recognizers: list = [SpacyRecognizer(supported_entities=[PERSON, ORG], ner_strength=0.85),
                         _lowercase_name_recognizer()]
    for entity, rows in PATTERNS.items():
        for case_sensitive in (False, True):
            patterns = [Pattern(name, regex, score) for name, regex, score, cs in rows if cs is case_sensitive]
            if not patterns:
                continue
            kind = CardRecognizer if entity == CARD else PatternRecognizer
            recognizers.append(kind(
                supported_entity=entity, name=f"{entity.lower()}{' cased' if case_sensitive else ''}", patterns=patterns,
                context=ADDRESS_CONTEXT if entity == ADDRESS else None,
                global_regex_flags=re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE,
            ))
    return recognizers


@lru_cache(maxsize=1)
def _engine() -> "AnalyzerEngine":
    """One analyser per process: our recognisers only (no Presidio defaults), over the
    registry-installed spaCy model (nlp.ner_engine never downloads)."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    from analyzer.nlp import ner_engine

    registry = RecognizerRegistry(recognizers=_recognizers(), supported_languages=["en"])
    return AnalyzerEngine(registry=registry, nlp_engine=ner_engine(), supported_languages=["en"])


# --- what one call teaches: whose names, which organisations -------------------------------

def name_words(name: str) -> list[str]:
    """The words of a name or label that identify someone: no roles, numbers or initials."""
    return [w.strip(".'’").casefold() for w in _WORD.findall(name)
            if len(w.strip(".'’")) > 1 and w.strip(".'’").casefold() not in ROLE_WORDS]


def _org_words(text: str) -> str:
    """The words after "from"/"with" in an introduction, up to the first function word."""
    kept = []
    for word in text.split():
        clean = word.strip(".,!?;:'’").casefold()
        if not clean or clean in _STOP_AFTER:
            break
        kept.append(word.strip(".,!?;:"))
    return " ".join(kept)


def _aliases(org: str) -> set[str]:
    """An organisation and its name without the legal suffix ("Acme Corp" -> "Acme")."""
    words = org.split()
    names = {org}
    while words and words[-1].casefold().strip(",") in LEGAL_SUFFIXES:
        words = words[:-1]
        if words:
            names.add(" ".join(words))
    return {n for n in names if n.casefold() not in ROLE_WORDS and len(n) > 1}


@dataclass
class CallNames:
    """The names one call teaches, to find their lower-case mentions in every turn."""

    people: set[str] = field(default_factory=set)   # full names and single identifying words
    orgs: set[str] = field(default_factory=set)
    own_words: set[str] = field(default_factory=set)  # the salesperson's name words (kept)
    company: set[str] = field(default_factory=set)    # our own company and its aliases (kept)

    def add_person(self, name: str, from_ner: bool = False) -> None:
        words = name_words(name)
        if not words:
            return
        self.people.add(" ".join(words))
        for word in words:
            # a single word alone only when it cannot be everyday English
            if word not in COMMON_WORDS and not (from_ner and len(word) < 3):
                self.people.add(word)

    def is_own_name(self, text: str) -> bool:
        words = name_words(text)
        return bool(words) and all(w in self.own_words for w in words) and not any(w in self.people for w in words)

    def is_own_company(self, text: str) -> bool:
        folded = " ".join(text.casefold().split())
        return any(folded == c or folded in c.split() or c in folded for c in self.company)


def learn_names(call: Call, artifacts: list["NlpArtifacts"], company: str | None) -> CallNames:
    """Names from the speaker labels, introductions and the NER over the whole call."""
    names = CallNames()
    rep = call.salesperson.speaker
    for own in (rep, call.meta.salesperson or ""):
        names.own_words.update(name_words(own))
    for speaker in call.speakers:
        if speaker != rep:
            names.add_person(speaker)
    introduced_company = ""
    for turn, artifact in zip(call.turns, artifacts):
        for match in _INTRO.finditer(turn.text):
            org = _org_words(match["org"])
            if turn.speaker == rep:
                names.own_words.update(name_words(match["name"]))
                introduced_company = introduced_company or org
            else:
                names.add_person(match["name"])
                names.orgs.update(_aliases(org) if org else ())
        for match in _NAME_INTRO.finditer(turn.text):
            if turn.speaker != rep:
                names.add_person(_org_words(match["name"]) or match["name"])
        for entity in artifact.entities:
            if entity.label_ == PERSON:
                names.add_person(entity.text, from_ner=True)
            elif entity.label_ == ORG and entity.text[:1].isupper():
                names.orgs.update(_aliases(entity.text))
    if call.meta.account:
        names.orgs.update(_aliases(call.meta.account))
    own = company or introduced_company
    if own:
        names.company = {a.casefold() for a in _aliases(own)}
    names.orgs = {o for o in names.orgs if not names.is_own_company(o)}
    names.people -= names.own_words
    return names


def _known(entity: str, values: Iterable[str]):
    """A per-call recogniser for names learned from the call, matched in any case."""
    from presidio_analyzer import PatternRecognizer

    values = sorted(set(values), key=lambda v: (-len(v), v))
    if not values:
        return None
    return PatternRecognizer(supported_entity=entity, name=f"known {entity.lower()}", deny_list=values,
                             deny_list_score=0.85)


# --- redaction ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Redactor:
    """`orgs` masks organisations other than our own; `company` names our own (else it is
    taken from the salesperson's introduction)."""

    orgs: bool = False
    company: str | None = None

    def prepare(self) -> None:
        """Load the analyser (and the NER model) now; raises nlp.ModelMissing without it."""
        _engine()

    @property
    def entities(self) -> list[str]:
        return [PERSON, EMAIL, PHONE, CARD, ADDRESS] + ([ORG] if self.orgs else [])

    def find(self, calls: list[Call]) -> list[list[list["RecognizerResult"]]]:
        """Per call, per turn: what to mask. All turns of all calls go through spaCy in one
        streamed pass; each call's names are learned before its turns are searched."""
        engine = _engine()
        texts = [turn.text for call in calls for turn in call.turns]
        parsed = [artifact for _, artifact in engine.nlp_engine.process_batch(texts, "en", batch_size=64)]
        found: list[list[list["RecognizerResult"]]] = []
        position = 0
        for call in calls:
            artifacts = parsed[position:position + len(call.turns)]
            position += len(call.turns)
            company = self.company or {k.casefold(): v for k, v in call.meta.extra}.get("company")
            names = learn_names(call, artifacts, company)
            ad_hoc = [r for r in (_known(PERSON, names.people), _known(ORG, names.orgs) if self.orgs else None) if r]
            found.append([
                self._spans(engine.analyze(turn.text, "en", entities=self.entities, nlp_artifacts=artifact,
                                           ad_hoc_recognizers=ad_hoc, score_threshold=THRESHOLD), turn.text, names)
                for turn, artifact in zip(call.turns, artifacts)
            ])
        return found

    def _spans(self, results: list["RecognizerResult"], text: str, names: CallNames) -> list["RecognizerResult"]:
        """What to mask, without what we keep (our salesperson, our company)."""
        kept = []
        for r in results:
            said = text[r.start:r.end]
            if r.entity_type == PERSON and (names.is_own_name(said) or not name_words(said)):
                continue
            if r.entity_type == ORG and (names.is_own_company(said) or said.casefold() in ROLE_WORDS):
                continue
            kept.append(r)
        return sorted(kept, key=lambda r: (r.start, r.end, r.entity_type))

    def redact_calls(self, calls: list[Call]) -> list[Call]:
        """The calls with every personal detail masked (module docstring)."""
        return [self._apply(call, spans) for call, spans in zip(calls, self.find(calls))]

    def _apply(self, call: Call, found: list[list["RecognizerResult"]]) -> Call:
        labels = pseudonyms(call)
        turns = tuple(
            Turn(labels.get(turn.speaker, turn.speaker), mask(turn.text, results), turn.start, turn.end)
            for turn, results in zip(call.turns, found)
        )
        meta = call.meta
        if self.orgs and meta.account:
            meta = dataclasses.replace(meta, account=pseudonym("account", meta.account))
        return dataclasses.replace(call, meta=meta, turns=turns)


def mask(text: str, results: list["RecognizerResult"]) -> str:
    """The text with each result replaced by its entity's mask; Presidio's anonymizer
    settles overlaps (the higher score wins, same-entity overlaps merge)."""
    if not results:
        return text
    from presidio_anonymizer.entities import OperatorConfig

    operators = {entity: OperatorConfig("replace", {"new_value": value}) for entity, value in MASKS.items()}
    return _anonymizer().anonymize(text, results, operators).text


@lru_cache(maxsize=1)
def _anonymizer():
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()


def pseudonyms(call: Call) -> dict[str, str]:
    """Every speaker but the salesperson as "Customer N" in order of speaking; never the
    salesperson's own label, so roles stay as they were."""
    labels: dict[str, str] = {}
    n = 0
    for speaker in call.speakers:
        if speaker == call.salesperson.speaker:
            continue
        n += 1
        while f"Customer {n}" == call.salesperson.speaker:
            n += 1
        labels[speaker] = f"Customer {n}"
    return labels


def pseudonym(kind: str, value: str) -> str:
    """A stable stand-in, the same in every call and run: "account-1f3a9c0d"."""
    return f"{kind}-{hashlib.sha256(' '.join(value.casefold().split()).encode()).hexdigest()[:8]}"


def redact_speaker_detail(code: str, detail: str) -> str:
    """Error details that quote a speaker label (E107: the only speaker) lose it."""
    return "[speaker]" if code == "E107" else detail
