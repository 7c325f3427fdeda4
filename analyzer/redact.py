"""--redact: no personal data in any output. Applied to the calls as they are read, so every
export derived from them (excerpts, context, explanations, annotations, ledger, cache,
report, errors) carries only masks.

One Presidio analyser with only our recognisers, over one spaCy parse per turn (nlp.py):
  - customers' speaker labels become "Customer 1", "Customer 2" in order of speaking;
  - people named in speech become `[person]`: spaCy's PERSON entities; census first names
    and surnames for what the NER misses (most lower-case names); titles ("Mrs Okafor");
    and every name the call teaches -- customers' labels, introductions ("my name is ...",
    "this is ... from"), any name found in any turn -- matched in any case in all turns;
  - e-mail addresses (also spoken: "jo dot smith at acme dot com"), phone numbers, payment
    card numbers (Luhn-checked), street addresses become `[email]`, `[phone]`, `[card]`,
    `[address]` (the patterns below, as Presidio PatternRecognizers);
  - with `orgs`, organisations other than our own become `[org]`, the account a stable
    pseudonym; an account, file name or call id that names a customer becomes one anyway.

Kept on purpose: the salesperson's speaker label and name (rep_scores names the
salesperson by design; masking the same name in the excerpts would protect nothing), and,
with `orgs`, our own company -- the `company` given (--company or the manifest's column),
else the company the salesperson introduces themselves with ("this is Dana from Harbor
Freight")."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from analyzer.model import Call, Turn

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult

PERSON, ORG = "PERSON", "ORGANIZATION"
EMAIL, PHONE, CARD, ADDRESS = "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "STREET_ADDRESS"
MASKS = {PERSON: "[person]", ORG: "[org]", EMAIL: "[email]", PHONE: "[phone]", CARD: "[card]", ADDRESS: "[address]"}
THRESHOLD = 0.5  # a result below this is not masked

# --- patterns, as data: entity -> [(name, regex, score, case-sensitive)] ------------------
_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
    r"parkway|pkwy|circle|cir|highway|hwy|square|sq"
)
_NOT_AFTER_QUANTITY = "".join(
    rf"(?<!\b{word} )" for word in ("about", "around", "over", "under", "nearly", "almost", "like", "some", "only", "just")
)
_TLD = r"com|org|net|io|co|uk|us|edu|gov|biz|info|ai|ca|de|fr|es|it|nl|be|ch|ie|au|nz|in|jp|br|mx|se|dk|no|fi"
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
        ("international grouped phone", r"(?<![\w.])\+\d{1,3}(?:[ .-]\d{1,4}){3,6}(?![ .-]?\d)", 0.9, False),
    ],
    PERSON: [
        ("titled name", r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?", 0.85, True),
        ("lower-case titled name", r"\b(?:mr|mrs|ms|dr)\s+[a-z][\w'’-]+", 0.6, True),
    ],
    ORG: [("and sons", r"\b[^\W\d_]+\s+(?:and|&)\s+(?:sons|brothers|partners|associates)\b", 0.8, False)],
    ADDRESS: [
        # a house number, one to three capitalised name words (or "34th"), a street suffix
        ("street address", rf"\b\d{{1,6}}(?:\s+[NSEW]\.?)?(?:\s+[A-Z][a-z]+|\s+\d{{1,3}}(?:st|nd|rd|th)){{1,3}}"
                           rf"\s+(?i:{_SUFFIX})\b\.?", 0.9, True),
        # the same in speech-to-text lower case, not after a quantity word ("about 12 first street vendors")
        ("lower-case street address", rf"{_NOT_AFTER_QUANTITY}\b\d{{1,6}}(?:\s+[a-z]+|\s+\d{{1,3}}(?:st|nd|rd|th)){{1,3}}"
                                      rf"\s+(?:{_SUFFIX})\b", 0.6, True),
    ],
}

# Speaker labels that are roles, not names; and name-shaped words that are also everyday
# English, which are masked alone only where the NER sees a name ("will", "mark", "may").
ROLE_WORDS = frozenset(
    "customer client prospect buyer caller rep agent sales salesperson seller speaker spk unknown guest host "
    "interviewer participant user moderator operator support team account manager the and of mr mrs ms dr".split()
)
COMMON_WORDS = frozenset(
    # census first names and surnames that are everyday words in a sales call
    "will bill mark may june april august grant rich rob sue pat art chase guy sandy max sky bud norm pierce "
    "reed rusty sterling stone trent wiley woody young king brown white rose ruby crystal dawn robin amber hazel "
    "joy holly pearl penny daisy iris ginger hope faith jewel laurel fern candy charity autumn summer dale ivy "
    "gay queen cherry destiny merry santa venus noel princess ray raven precious sunny brook toby ok garnet "
    "magnolia era coral nova marvel dean america mercy star glory eden marry sunshine viva page dusty stormy "
    "numbers jay spring delta harmony diamond patience lady dot dell desire angle angelic son lane karma honey "
    "tiny liberty echo omega miss mica emerald bell hang blossom aide valentine drew winter man berry kit carry "
    "season rosy marine lean sage moon temple golden many love see willow major royal prince noble long porter "
    "buck mac manual ward rod sol van forest ivory chuck earnest chance sonny mickey heath cliff wade lance "
    "walker hunter lowell roman brain rocky green black gray grey short hill wood ford lee park hall price day "
    "hunt new north south east west good great fine sure well right okay thanks thank hello hi hey yes yeah no "
    "monday tuesday wednesday thursday friday saturday sunday january february march july september october "
    "november december".split()
)
# words that end a company's name: "Allstate Roofing", "Acme Corp"
ORG_WORDS = frozenset(
    "roofing fitness products logistics steel software systems solutions group partners capital insurance bank labs "
    "health foods motors electric construction consulting services supply industries manufacturing engineering "
    "realty movers telecom networks technologies tech analytics payroll security freight transportation "
    "inc corp corporation llc ltd co company gmbh plc".split()
)
# acronyms and product words of sales talk the NER and the tagger take for organisations
BUSINESS_TERMS = frozenset(
    "crm sso roi cfo ceo cto coo cio vp kpi sla api erp hr it qa ui ux pdf faq saas b2b b2c pos rfp rfq nda poc "
    "mvp q1 q2 q3 q4 ai ad usa us uk eu llc inc dc".split()
)
LEGAL_SUFFIXES = frozenset("inc inc. corp corp. corporation llc ltd ltd. co co. company gmbh plc group".split())
_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")
_NAME = r"[^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*)?"
_LEAD = r"(?:my name is|my name's|this is|i'?m|i am|it'?s|its|im)"
_ORG_AFTER = r"(?:from|with|at|over at|here at|calling from)"
# "this is Jo Smith from Acme": a name and a company; the salesperson also introduces
# themselves after a greeting alone ("Hi, Ben Hart from Orbit Payroll", "Dana with Acme")
_INTRO = re.compile(rf"\b{_LEAD}\s+(?P<name>{_NAME}),?\s+{_ORG_AFTER}\s+(?P<org>\S+(?:\s+\S+){{0,3}})", re.IGNORECASE)
_REP_INTRO = re.compile(
    rf"(?:^|[.,!?]\s+|\b(?:hi|hello|hey|morning|afternoon|evening|bonjour|everyone|all|there)\b[,!.]?\s+)"
    rf"(?P<name>{_NAME}),?\s+(?:from|with)\s+(?P<org>\S+(?:\s+\S+){{0,3}})",
    re.IGNORECASE,
)
_NAME_INTRO = re.compile(rf"\b(?:my name is|my name's|name's|call me|this is|{_LEAD})\s+(?P<name>{_NAME})", re.IGNORECASE)
_WORKS_AT = re.compile(r"\s+(?:from|at|over at)\s+(?P<org>\S+(?:\s+\S+){0,3})", re.IGNORECASE)
DEPARTMENTS = frozenset(
    "finance legal it hr sales marketing procurement purchasing ops operations accounting accounts support "
    "engineering security facilities admin office home work team side end lunch".split()
)
_SPEAKING = re.compile(rf"\b(?P<name>{_NAME}) speaking\b", re.IGNORECASE)
_STOP_AFTER = frozenset(
    "and but so how i we you it this that here there today um uh just calling about on in for to the a an is "
    "was are who what yeah okay well am again can could would will".split()
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
    what a word the tagger calls a proper noun must be to count as a name without the NER."""
    from importlib.resources import files

    def read(*parts: str) -> frozenset[str]:
        # NAME  frequency%  cumulative%  rank: the names 90 % of people have, not the long tail
        rows = (line.split() for part in parts for line in files("names").joinpath(part).read_text("utf-8").splitlines())
        return frozenset(row[0].casefold() for row in rows if len(row) == 4 and float(row[2]) <= CENSUS_COVERAGE)

    return read("dist.male.first", "dist.female.first") - COMMON_WORDS, read("dist.all.last") - COMMON_WORDS


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Everyday English: the spaCy model's own lemmatizer index (WordNet base forms) and its
    stop words: what a capitalised word after a name must not be to count as a surname."""
    table = _engine().nlp_engine.get_nlp("en").get_pipe("lemmatizer").lookups.get_table("lemma_index")
    words = {word for key in table.keys() for word in table[key] if "_" not in word}
    return frozenset(words) | stop_words()


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    return frozenset(_engine().nlp_engine.get_nlp("en").Defaults.stop_words)


CENSUS_COVERAGE = 95.0  # percent of people whose name is in the lists we use
NAMING_TAGS = frozenset(("PROPN", "NOUN", "ADJ", "X"))
SPOKEN_CONTRACTIONS = frozenset(
    "whats thats theyre youre dont cant wont isnt arent wasnt werent hes shes ive id im youve weve theyve "
    "didnt doesnt couldnt wouldnt shouldnt hasnt havent theres heres lets gonna wanna gotta kinda sorta yeah "
    "yep nope uh um hmm mhm okay ok".split()
)
PLACES = frozenset(("GPE", "LOC", "FAC"))  # "San Francisco" is no Francisco
FUNCTION_TAGS = frozenset("VERB AUX ADP DET PRON CCONJ SCONJ PART NUM".split())


def _census_name_recognizer():
    """Names the NER misses (most lower-case ones, many single first names). A census first
    name that is no everyday word (COMMON_WORDS) and not used as a verb, pronoun, etc. starts
    a name; the words right after it that are census surnames (or, capitalised, no English
    word) continue it; in lower case a proper noun followed by a census surname ("priya
    patel") is a name too."""
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class CensusNames(EntityRecognizer):
        def load(self) -> None:
            census_names()

        def analyze(self, text, entities, nlp_artifacts=None):
            if PERSON not in entities or nlp_artifacts is None:
                return []
            first, last = census_names()
            english = english_words()

            def surname(token) -> bool:
                word = token.text.casefold()
                return (token.text.isalpha() and not token.is_stop and token.pos_ not in FUNCTION_TAGS
                        and (word in last or (token.text.istitle() and word not in english))
                        and (word not in COMMON_WORDS or token.pos_ == "PROPN"))

            tokens = list(nlp_artifacts.tokens)
            results, i = [], 0
            while i < len(tokens):
                token = tokens[i]
                word = token.text.casefold()
                following = tokens[i + 1] if i + 1 < len(tokens) else None
                # the tagger's "verb" for an unambiguous name ("greg") is noise; for "bob" it is not
                can_be_name = (token.text.isalpha() and not token.is_stop and word not in COMMON_WORDS
                               and (token.pos_ not in FUNCTION_TAGS or word not in english)
                               and token.ent_type_ not in PLACES)
                starts = can_be_name and (word in first or (token.pos_ == "PROPN" and token.text.islower()
                                                            and following is not None and following.text.islower()
                                                            and following.text in last and surname(following)))
                if not starts:
                    i += 1
                    continue
                j = i + 1
                while j < len(tokens) and j - i < 3 and surname(tokens[j]):
                    j += 1
                end = tokens[j - 1].idx + len(tokens[j - 1].text)
                results.append(RecognizerResult(PERSON, token.idx, end, 0.6))
                i = j
            return results

    return CensusNames(supported_entities=[PERSON], name="census names")


def _english_form(word: str, lemma: str, english: frozenset[str]) -> bool:
    """The word, its lemma or its stem before a common suffix is English ("roaming")."""
    stems = [word, lemma] + [word[: -len(end)] + add for end in ("ing", "ed", "er", "ers", "s", "es", "ly")
                             if word.endswith(end) for add in ("", "e")]
    return any(stem in english for stem in stems)


def _unknown_word_recognizer():
    """Organisations the NER misses ("Okta", "ADP", and in lower case "hubspot" and
    "dentasoft"): a proper noun, or in lower case a noun (or what the tagger takes for one),
    that is no English word, census name, sales acronym or place."""
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class UnknownProperNouns(EntityRecognizer):
        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            if ORG not in entities or nlp_artifacts is None:
                return []
            first, last = census_names()
            english = english_words()
            return [
                RecognizerResult(ORG, t.idx, t.idx + len(t.text), 0.55)
                for t in nlp_artifacts.tokens
                if (t.pos_ == "PROPN" or (t.pos_ in NAMING_TAGS and t.text.islower())) and t.text.isalpha()
                and len(t.text) > 2 and not _english_form(t.lower_, t.lemma_.casefold(), english)
                and t.lower_ not in first and t.lower_ not in last and t.lower_ not in SPOKEN_CONTRACTIONS
                and t.lower_ not in COMMON_WORDS and t.lower_ not in BUSINESS_TERMS and t.ent_type_ not in PLACES
            ]

    return UnknownProperNouns(supported_entities=[ORG], name="unknown proper nouns")


def _recognizers() -> list:
    """Our patterns as Presidio PatternRecognizers, plus spaCy's NER for people and orgs
    and the census names for what the NER misses."""
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    class CardRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            digits = re.sub(r"\D", "", pattern_text)
            return 13 <= len(digits) <= 19 and luhn_valid(digits)

    recognizers: list = [SpacyRecognizer(supported_entities=[PERSON, ORG], ner_strength=0.85),
                         _census_name_recognizer(), _unknown_word_recognizer()]
    for entity, rows in PATTERNS.items():
        for case_sensitive in (False, True):
            patterns = [Pattern(name, regex, score) for name, regex, score, cs in rows if cs is case_sensitive]
            if not patterns:
                continue
            kind = CardRecognizer if entity == CARD else PatternRecognizer
            recognizers.append(kind(
                supported_entity=entity, name=f"{entity.lower()}{' cased' if case_sensitive else ''}", patterns=patterns,
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


def _leading(text: str, limit: int, keep) -> str:
    """The first words of `text` while `keep(word)` holds, at most `limit`, up to the end
    of the sentence."""
    kept = []
    for word in text.split()[:limit]:
        clean = word.strip(".,!?;:")
        if not clean or not keep(clean):
            break
        kept.append(clean)
        if clean != word.rstrip():  # punctuation ends the phrase
            break
    return " ".join(kept)


def _org_words(text: str) -> str:
    """The company after "from"/"with" in an introduction: the capitalised words in written
    text, up to three words before the first function word in speech-to-text text."""
    if text[:1].isupper():
        return _leading(text, 4, lambda w: w[:1].isupper() or w in ("&", "and", "of"))
    return _leading(text, 3, lambda w: w.casefold() not in _STOP_AFTER and w.casefold() not in COMMON_WORDS
                    and w.casefold() not in stop_words())


def _intro_name(text: str) -> str:
    """The name after "this is" / "my name is": words that can be names, no everyday words."""
    first, last = census_names()
    english, stops = english_words(), stop_words()

    def keep(word: str) -> bool:
        w = word.casefold()
        return (w not in _STOP_AFTER and w not in COMMON_WORDS and w not in stops
                and (w in first or w in last or w not in english))

    return _leading(text, 2, keep)


def _aliases(org: str, account: bool = False) -> set[str]:
    """An organisation, its name without the legal suffix ("Acme Corp" -> "Acme"), and its
    first word when that is no English word ("Ferris Manufacturing" -> "Ferris") or, for
    the account the call belongs to, no everyday word ("Riverside School District")."""
    words = org.split()
    names = {org}
    while words and words[-1].casefold().strip(",") in LEGAL_SUFFIXES:
        words = words[:-1]
        if words:
            names.add(" ".join(words))
    head = words[0].casefold() if len(words) > 1 else ""
    if head and head not in _STOP_AFTER and head not in stop_words() and head not in COMMON_WORDS and (
            account or head not in english_words()):
        names.add(words[0])
    return {n for n in names if n.casefold() not in ROLE_WORDS and len(n) > 1}


@dataclass
class CallNames:
    """The names one call teaches, to find their mentions in every turn, in any case."""

    people: set[str] = field(default_factory=set)   # full names and single identifying words
    orgs: set[str] = field(default_factory=set)
    own_words: set[str] = field(default_factory=set)  # the salesperson's name words (kept)
    company: set[str] = field(default_factory=set)    # our own company and its aliases (kept)

    def add_person(self, name: str) -> None:
        words = name_words(name)
        if not words:
            return
        self.people.add(" ".join(words))
        self.people.update(w for w in words if w not in COMMON_WORDS and len(w) > 2)

    def named_in(self, value: str) -> bool:
        """A customer's name is a word of `value` (a file name, a call id, an account)."""
        words = set(re.findall(r"[^\W\d_]+", value.casefold()))
        return any(" " not in name and name in words for name in self.people)

    def is_own_name(self, text: str) -> bool:
        words = name_words(text)
        return bool(words) and all(w in self.own_words for w in words) and not any(w in self.people for w in words)

    def is_own_company(self, text: str) -> bool:
        folded = " ".join(text.casefold().split())
        return any(folded == c or folded in c.split() or c in folded for c in self.company)


def _is_role(label: str) -> bool:
    """'Front Desk', 'Homeowner', 'Speaker 2': a role, not a name."""
    first, _ = census_names()
    words = name_words(label)
    return not words or all(w in english_words() and w not in first for w in words)


def learn_names(call: Call, found: list[list["RecognizerResult"]], company: str | None) -> CallNames:
    """Names from the speaker labels, introductions and what the recognisers found in any
    turn of the call."""
    names = CallNames()
    rep = call.salesperson.speaker
    for own in (rep, call.meta.salesperson or ""):
        names.own_words.update(name_words(own))
    customer_words: set[str] = set()
    for speaker in call.speakers:
        if speaker != rep and not _is_role(speaker):
            names.add_person(speaker)
            customer_words.update(name_words(speaker))
    introduced_company = ""
    rep_turns = 0
    for turn, results in zip(call.turns, found):
        own_turn = turn.speaker == rep
        rep_turns += own_turn
        # a bare "Ben Hart from Orbit Payroll" is the salesperson's introduction only at the start
        opening = own_turn and rep_turns <= 2
        intros = list(_INTRO.finditer(turn.text)) + (list(_REP_INTRO.finditer(turn.text)) if opening else [])
        for match in intros:
            name, org = _intro_name(match["name"]), _org_words(match["org"])
            if own_turn:
                names.own_words.update(name_words(name))
                introduced_company = introduced_company or org
            else:
                names.add_person(name)
                names.orgs.update(_aliases(org) if org else ())
        for match in (*_NAME_INTRO.finditer(turn.text), *_SPEAKING.finditer(turn.text)):
            name = _intro_name(match["name"])
            if own_turn:
                names.own_words.update(name_words(name))
            else:
                names.add_person(name)
        for result in results:
            said = turn.text[result.start:result.end]
            if result.entity_type == PERSON:
                names.add_person(said)
                # "janet from kestrel", "Walter at Hartwell and Sons": where a person works
                works = _WORKS_AT.match(turn.text, result.end)
                org = _org_words(works["org"]) if works else ""
                if org and not set(org.casefold().split()) & DEPARTMENTS:
                    names.orgs.update(_aliases(org))
            elif result.entity_type == ORG:
                names.orgs.update(_aliases(said))
    if call.meta.account:
        names.orgs.update(_aliases(call.meta.account, account=True))
    own = company or introduced_company
    if own:
        names.company = {a.casefold() for a in _aliases(own)}
    names.orgs = {o for o in names.orgs if not names.is_own_company(o) and not names.is_own_name(o)}
    names.people -= names.own_words - customer_words  # a customer who shares the name is masked
    return names


def _known(entity: str, values: Iterable[str]) -> list:
    """A per-call recogniser for the names learned from the call, matched in any case."""
    from presidio_analyzer import PatternRecognizer

    if not values:
        return []
    return [PatternRecognizer(supported_entity=entity, name=f"known {entity.lower()}",
                              deny_list=sorted(values, key=lambda v: (-len(v), v)), deny_list_score=0.85)]


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

    def find(self, calls: list[Call]) -> list["Found"]:
        """Per call, per turn: what to mask. All turns of all calls go through spaCy in one
        streamed pass; the names found anywhere in a call are then searched in all its turns."""
        engine = _engine()
        texts = [turn.text for call in calls for turn in call.turns]
        parsed = [artifact for _, artifact in engine.nlp_engine.process_batch(texts, "en", batch_size=64)]
        found: list[Found] = []
        position = 0
        for call in calls:
            artifacts = parsed[position:position + len(call.turns)]
            position += len(call.turns)
            company = self.company or {k.casefold(): v for k, v in call.meta.extra}.get("company")
            first_pass = [
                [r for r in (_relabelled(r, turn.text) for r in engine.analyze(
                    turn.text, "en", entities=self.entities, nlp_artifacts=artifact, score_threshold=THRESHOLD))
                 if r.entity_type in self.entities and _plausible(r, turn.text)]
                for turn, artifact in zip(call.turns, artifacts)
            ]
            names = learn_names(call, first_pass, company)
            known = _known(PERSON, names.people) + (_known(ORG, names.orgs) if self.orgs else [])
            found.append(Found(names, [
                self._spans(results + [r for k in known for r in k.analyze(turn.text, self.entities)], turn.text, names)
                for turn, results in zip(call.turns, first_pass)
            ]))
        return found

    def _spans(self, results: list["RecognizerResult"], text: str, names: CallNames) -> list["RecognizerResult"]:
        """What to mask, as non-overlapping spans in text order: without our salesperson
        and our company, a person's name reaching over the surname after it; where spans
        overlap, one span covers both, named by the higher score."""
        from presidio_analyzer import RecognizerResult

        kept = []
        for r in results:
            said = text[r.start:r.end]
            if r.entity_type in (PERSON, ORG) and (names.is_own_name(said) or names.is_own_company(said)):
                continue
            kept.append(_whole_name(r, text) if r.entity_type == PERSON else _with_trade(r, text))
        kept.sort(key=lambda r: (r.start, -r.end, -r.score, r.entity_type))
        merged: list[RecognizerResult] = []
        for r in kept:
            last = merged[-1] if merged else None
            if last is not None and r.start < last.end:
                best = last if last.score >= r.score else r
                merged[-1] = RecognizerResult(best.entity_type, last.start, max(last.end, r.end), max(last.score, r.score),
                                              best.analysis_explanation, best.recognition_metadata)
            else:
                merged.append(r)
        return merged

    def redact_calls(self, calls: list[Call]) -> list[Call]:
        """The calls with every personal detail masked (module docstring)."""
        return [self._apply(call, found) for call, found in zip(calls, self.find(calls))]

    def _apply(self, call: Call, found: "Found") -> Call:
        labels = pseudonyms(call)
        turns = tuple(
            Turn(labels.get(turn.speaker, turn.speaker), mask(turn.text, results), turn.start, turn.end)
            for turn, results in zip(call.turns, found.turns)
        )
        meta, source = call.meta, call.source
        # "2026-09-05_okafor-household.txt": the file (or call id) would name the customer
        if found.names.named_in(source):
            source = pseudonym("file", source) + PurePosixPath(source).suffix
        if found.names.named_in(meta.call_id):
            meta = dataclasses.replace(meta, call_id=pseudonym("call", meta.call_id))
        if meta.account and (self.orgs or found.names.named_in(meta.account)):
            meta = dataclasses.replace(meta, account=pseudonym("account", meta.account))
        return dataclasses.replace(call, source=source, meta=meta, turns=turns)


@dataclass
class Found:
    """What one call taught and, per turn, what to mask in it."""

    names: CallNames
    turns: list[list["RecognizerResult"]]


_NEXT_WORD = re.compile(r"\s+([^\W\d_][\w'’-]*)")


_PREVIOUS_WORD = re.compile(r"([^\W\d_][\w'’-]*)\s+$")


def _whole_name(result: "RecognizerResult", text: str) -> "RecognizerResult":
    """"Okafor" found, "Ada Okafor" said; "Diane" found, "Diane Okafor" said: a person's
    span takes the census first name before it and the census surname after it (or,
    capitalised, a word that is no English word)."""
    from presidio_analyzer import RecognizerResult

    first, last = census_names()

    def name_like(word: str, census: frozenset[str]) -> bool:
        folded = word.casefold()
        return (folded not in COMMON_WORDS and folded not in stop_words()
                and (folded in census or (word.istitle() and folded not in english_words())))

    start, end = result.start, result.end
    before = _PREVIOUS_WORD.search(text, 0, start)
    if before and name_like(before[1], first):
        start = before.start(1)
    after = _NEXT_WORD.match(text, end)
    if after and name_like(after[1], last):
        end = after.end(1)
    if (start, end) == (result.start, result.end):
        return result
    return RecognizerResult(result.entity_type, start, end, result.score,
                            result.analysis_explanation, result.recognition_metadata)


def _with_trade(result: "RecognizerResult", text: str) -> "RecognizerResult":
    """"allstate" found, "allstate roofing" said: an organisation's span takes the trade or
    legal word after it."""
    from presidio_analyzer import RecognizerResult

    match = _NEXT_WORD.match(text, result.end)
    if result.entity_type != ORG or not match or match[1].casefold() not in ORG_WORDS:
        return result
    return RecognizerResult(result.entity_type, result.start, match.end(1), result.score,
                            result.analysis_explanation, result.recognition_metadata)


def _relabelled(result: "RecognizerResult", text: str) -> "RecognizerResult":
    """The NER's "Kestrel Freight" PERSON is an organisation: it ends in a trade word."""
    from presidio_analyzer import RecognizerResult

    words = text[result.start:result.end].casefold().split()
    if result.entity_type != PERSON or len(words) < 2 or words[-1] not in ORG_WORDS:
        return result
    return RecognizerResult(ORG, result.start, result.end, result.score, result.analysis_explanation,
                            result.recognition_metadata)


def _plausible(result: "RecognizerResult", text: str) -> bool:
    """Not what the recognisers are known to take wrongly for a name or an organisation."""
    said = text[result.start:result.end]
    words = said.casefold().split()
    if result.entity_type == PERSON:
        return not all(w in COMMON_WORDS or w in stop_words() for w in name_words(said))  # "Bill me", "Will"
    if result.entity_type == ORG:
        from_ner = result.recognition_metadata.get(result.RECOGNIZER_NAME_KEY) == "SpacyRecognizer"
        if said.casefold() in BUSINESS_TERMS or said.casefold() in ROLE_WORDS:
            return False
        # lower-case "sec", "life": the NER guessing at everyday words
        return not (from_ner and said.islower() and all(w in english_words() for w in words))
    return True


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
