"""Who sells and which account a call belongs to, from the whole folder when the manifest
does not say.

One call alone is a weak witness: a customer who asks many questions or speaks first looks
like a seller, and a speech-to-text export only says `spk_0`. The folder is a better one:
the person who appears across different accounts sells, the company a speaker introduces
in several accounts is the vendor, and calls that share customer participants (or a file
name convention such as `<account>_<date>_<topic>`) are one account. `call_facts` keeps
the little each file contributes (speaker labels, per-speaker cues, self-introductions,
names said); `infer_identities` decides for every call at once, so the pipeline can read
the folder once for this and still stream its calls in batches.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import combinations
from dataclasses import asdict, dataclass, field
from pathlib import Path

from analyzer.model import CallMeta, Turn

# --- per speaker cues in one call ---------------------------------------------------------

# name -> (pattern on lower-cased turn text, weight); + is what sellers do, - what buyers do
SELLER_CUES: dict[str, tuple[re.Pattern[str], float]] = {
    name: (re.compile(pattern), weight)
    for name, pattern, weight in (
        ("introduces_self", r"\b(this is \w+( \w+)? (from|with|at)|my name is|i'?m \w+( \w+)? (from|with)|"
                            r"it'?s \w+ (from|with)|calling from|\w+ here from)\b", 3.0),
        ("thanks_for_time", r"\bthanks? (you )?(so much |all )?for (taking|making|jumping|having me|joining|the time|"
                            r"getting on)\b", 2.0),
        ("reason_for_call", r"\b(reason (for|i'?m) (my|the) call|(set|put) (this|some) time)\b", 2.0),
        ("our_offer", r"\bour (platform|product|solution|software|service|pricing|plan|package|system|offer|"
                      r"customers|clients|installers?|technicians?|engineers?|specialists?|onboarding|"
                      r"support|team|partner|batter(y|ies)|panels|handhelds?|agent|app|module)\b", 1.0),
        ("we_offer", r"\bwe (offer|provide|specialize|install|integrate|include|cover|guarantee)\b|"
                     r"\bwe can (send|get you|offer|ship|install|deliver|replace|do that)\b|"
                     r"\bwe'?(re| are) running an? (promotion|offer|special)|\bwe'?ve been doing this\b", 1.0),
        ("our_side", r"\b(on|at) our (end|side)\b|\bmy (quote|proposal)\b|\bour (terms|price list|prices|quote|"
                     r"proposal|warranty|server|supplier|courier|crew|warehouse)\b", 1.0),
        ("shows_them", r"\blet me (show you|pull (it|that|up)|walk you|check (on|that|with)|find out|get you)\b", 1.0),
        ("promise_to_send", r"\bi('ll| will) (send|get you|email|put together|set up|follow up|circle back|"
                            r"book|draft|have (it|the|a|our)|loop in|come back to you|get back to you|"
                            r"confirm|find out|bring)\b", 1.0),
        ("owns_error", r"\b(that'?s (my|on me)|i own that|my (error|mistake|fault)|i should have (checked|caught))\b", 1.5),
        ("asks_about_them", r"\b(walk me through|tell me (about|more)|what'?s (prompting|got you|driving)|"
                            r"who else (is|would be)|how do you (currently|handle|decide|measure)|"
                            r"what does (that|a \w+ like that) cost you|what would (make|success)|"
                            r"anything i (haven'?t|didn'?t) ask)\b", 1.5),
        ("asks_price", r"\b(how much (does|is|will|would|do)|what('?s| is| does) (it|the|this|that) (cost|price)|"
                       r"is that (free|included|extra)|what'?s the (damage|catch))\b", -1.5),
        ("chases_them", r"\b((i'?m|we'?re) (still )?(chasing|waiting (on|for))|nobody (told|called|rang) (me|us)|"
                        r"you left me a (voicemail|message)|(it'?s|they'?re) in your inbox)\b", -1.5),
        ("asks_what_they_offer", r"\b(do|does|can|will|would) (you|your \w+|it|the \w+) (support|offer|integrate|"
                                 r"connect|provide|work with|train|include|handle|cover|come with)\b", -1.0),
        ("about_their_offer", r"\byour (pricing|product|platform|price|contract|quote|proposal|company|installer|"
                              r"installers|engineer|engineers|software|offer|service|rep|sales|team's|warranty)\b", -1.0),
        ("holds_them_to_it", r"\byou (promised|said you|told us|told me|were supposed to|never sent|quoted us)\b", -1.5),
        ("asks_to_be_sent", r"\b((can|could|would) you (send|email|get us|get me)|send (us|me) (the|a|your))\b", -1.0),
        ("needs_to_check", r"\b(i'?ll|we'?ll|i need to|we need to) (have to )?(check with|talk to|run it by|take it to) "
                           r"(my|our|the) (boss|board|cfo|ceo|owner|owners|partners?|wife|husband|finance|team)\b", -1.5),
    )
}
_SENTENCE = re.compile(r"[^.?!]+[.?!]?")
_YOU = re.compile(r"\byou(r|'re|'ve)?\b")


def _questions_about_you(text: str) -> int:
    """Questions that mention you / your: what a seller asks the customer (one regex over
    the sentence would backtrack for ever on unpunctuated speech-to-text)."""
    return sum(1 for sentence in _SENTENCE.findall(text) if sentence.endswith("?") and _YOU.search(sentence))
_ROLE_WORDS = {"agent": 5.0, "rep": 5.0, "sales": 5.0, "salesperson": 5.0, "seller": 5.0, "host": 1.0,
               "customer": -5.0, "client": -5.0, "prospect": -5.0, "buyer": -5.0, "caller": -2.0, "guest": -1.0}
GENERIC_LABEL = re.compile(
    r"^(?:spk|speaker|channel|ch|participant|person|voice|unknown|guest)[ _-]?\d{0,2}$|^[a-z]$|^\d+$", re.IGNORECASE
)
_ROLE_LABEL = re.compile(r"^(agent|rep|sales|salesperson|seller|customer|client|prospect|buyer|caller|host)"
                         r"(?:[ _-]?\d{1,2})?$", re.IGNORECASE)


def speaker_evidence(turns: tuple[Turn, ...]) -> dict[str, float]:
    """How much each speaker does what salespeople do, minus what buyers do. Who talks most
    or first counts for nothing; the cues are named in SELLER_CUES."""
    scores: dict[str, float] = {}
    for turn in turns:
        text = turn.text.lower()
        score = sum(weight * len(pattern.findall(text)) for pattern, weight in SELLER_CUES.values())
        score += 0.25 * _questions_about_you(text)
        scores[turn.speaker] = scores.get(turn.speaker, 0.0) + score
    for speaker in scores:
        scores[speaker] += sum(w for word, w in _ROLE_WORDS.items() if word in re.split(r"[\s_\-]+", speaker.lower()))
    return scores


def ranked_confidence(best: float, runner_up: float) -> float:
    """0.5 for a tie, towards 0.99 as the winner's margin grows against both scores."""
    margin = best - runner_up
    return round(min(max(0.5 + 0.5 * margin / (abs(best) + abs(runner_up) + 1.0), 0.5), 0.99), 2)


# --- names said in a call -----------------------------------------------------------------

_NAME = r"([A-Z][a-z]+(?:[ -][A-Z][a-z]+)?)"
_NAME_LOWER = r"([a-z]+(?: [a-z]+)?)"
_ORG = r"((?:[A-Z][\w&'.-]*|&|and|of)(?:\s+(?:[A-Z][\w&'.-]*|&|and|of)){0,3})"
_SELF_INTRO = [
    re.compile(r"\b(?:[Tt]his is|[Mm]y name is|[Ii]t'?s|I'?m|I am)\s+" + _NAME + r"\b(?!\s*\d)"),  # not "It's Class 1"
    re.compile(r"(?:^|[.!?]\s+|,\s*)" + _NAME + r",?\s+here\b"),
    re.compile(r"^(?:(?:[Hh]ey|[Hh]i|[Hh]ello|[Gg]ood (?:morning|afternoon))[,!.]?\s+(?:good morning[,!.]?\s+)?)?"
               r"([A-Z][a-z]+ [A-Z][a-z]+),\s+[A-Z]\w+[.!]"),
]
_SELF_INTRO_ASR = re.compile(r"\b(?:this is|my name is|i'?m|it'?s)\s+" + _NAME_LOWER + r"\s+(?:from|with|at|here)\b")
_ORG_INTRO = [
    re.compile(r"\b(?:[Tt]his is|[Mm]y name is|I'?m|I am|[Ii]t'?s)\s+[A-Z][a-z]+(?: [A-Z][a-z]+)?,?\s+(?:from|with|at|over at)\s+" + _ORG),
    re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)?,?\s+here\s+(?:from|with|at)\s+" + _ORG),
    re.compile(r"^(?:(?:[Hh]ey|[Hh]i|[Hh]ello|[Gg]ood (?:morning|afternoon))[,!.]?\s+(?:good morning[,!.]?\s+)?)?"
               r"[A-Z][a-z]+ [A-Z][a-z]+,\s+([A-Z]\w+)[.!]"),
    re.compile(r"\b(?:calling|here)\s+from\s+" + _ORG),
]
_ORG_INTRO_ASR = re.compile(r"\b(?:this is|my name is|i'?m|it'?s)\s+[a-z]+(?: [a-z]+)?\s+(?:from|with)\s+([a-z]+)")
# answering the phone with the company: "Calder Precision, this is Gordon.", "ridgeback this is luis"
_ORG_ANSWER = re.compile(r"^((?:[A-Za-z][\w&'-]*)(?: [A-Za-z][\w&'-]*){0,3}),? (?:this is|[A-Za-z]+ speaking)\b")
_VOCATIVE_START = re.compile(r"^(?:(?:[Hh]i|[Hh]ey|[Hh]ello|[Tt]hanks|[Tt]hank you|[Cc]heers|[Mm]orning|[Gg]ood morning|"
                             r"[Ss]orry|[Ww]elcome|[Bb]ye|[Nn]ice to meet you|[Gg]reat to meet you),?\s+)" + r"([A-Z][a-z]+)\b")
# speech-to-text writes names in lower case: a word after a greeting or thanks may be one
# ("hiya callum", "sounds good thanks dmitri", "bye tobias"); the folder keeps those that
# are the first name of some speaker label (_speaker_names)
_VOCATIVE_ASR = re.compile(r"\b(?:hi|hiya|hey|hello|thanks|thank you|cheers|bye|morning)\s+([a-z]+)\b")
# a question that starts or ends on a name is answered by that person ("Luis, did the
# pricing work?", "How's it holding up, Luis?"): in multi-party calls of the labelled folders
# the next speaker is that person after 265 of 277 questions starting on a name and 83 of 84
# ending on one; a greeting's name is the previous speaker's in 472 of 627
_VOCATIVE_QUESTION = re.compile(r"(?:^|[.!?]\s+)([A-Z][a-z]+),\s+[^.!?]*\?|,\s+([A-Za-z][a-z]+)\?")
_VOCATIVE_ANY = re.compile(r"(?:^|[,.!?]\s*|\b(?:hi|hey|thanks|and|morning),?\s+)([A-Z][a-z]+)(?=[,.!?]|\s*$)")
_NOT_NAMES = frozenset("""
i im ok okay yes yeah yep no nope so well great good sure right thanks thank hi hey hello morning afternoon evening same
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august september
october november december sorry perfect fine nice wow oh ah um uh hmm mm cheers bye welcome totally exactly absolutely
understood noted agreed fair done true cool awesome alright anyway also and but or the a an this that these those it its
we you they he she everyone everybody all folks guys team there here what how why when who where which honestly
look listen see wait please let just really actually definitely correct interesting lovely brilliant excellent
for both again because can then though now to one first with of on is like mate too
""".split())
_COMPANY = re.compile(r"\b((?:[A-Z][\w'-]+|&)(?:\s+(?:[A-Z][\w'-]+|&|and|of)){1,4})\b")
_COMPANY_WORDS = frozenset("""inc llc llp ltd co corp corporation company group hotel hotels lines dental clinic clinics
schools school district college university partners software systems analytics supply supplies medical construction
foodservice distributors works storage precision machining staffing logistics foods farms bank capital health
household labs services solutions energy""".split())


def _is_name(token: str) -> bool:
    return bool(token) and token.lower() not in _NOT_NAMES and len(token) > 1


@dataclass(frozen=True)
class SpeakerFacts:
    label: str
    evidence: float                 # speaker_evidence: + sells, - buys
    intro_names: tuple[str, ...]    # names the speaker gives themselves
    orgs: tuple[str, ...]           # organisations the speaker says they are from
    addressed_as: tuple[str, ...]   # names another speaker greets them by, right after they spoke
    calls_others: tuple[str, ...]   # names the speaker addresses (so not theirs)
    asked_as: tuple[str, ...] = ()  # names a question starts or ends on (", Luis?"), right before they answer


_LISTED = ("intro_names", "orgs", "addressed_as", "calls_others", "asked_as")  # SpeakerFacts' tuples, in order


@dataclass(frozen=True)
class CallFacts:
    """What one file contributes to the folder-level decision: small, kept per file."""

    relative: str
    speakers: tuple[SpeakerFacts, ...]
    companies: tuple[str, ...] = ()          # company-like names said in the call
    salesperson: str | None = None           # named by the manifest or the file's metadata
    salesperson_speaker: str | None = None
    account: str | None = None
    given_by: str = ""                       # "manifest" or "metadata" when they named anything

    def speaker(self, label: str) -> SpeakerFacts:
        return next(s for s in self.speakers if s.label == label)

    def as_record(self) -> dict:
        """Plain JSON values, kept in the result cache so a rerun need not parse the file."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> "CallFacts":
        speakers = tuple(SpeakerFacts(s["label"], s["evidence"], *(tuple(s[name]) for name in _LISTED))
                         for s in record["speakers"])
        return cls(**{**record, "speakers": speakers, "companies": tuple(record["companies"])})


FACTS_VERSION = 5  # bumped when call_facts reads a file differently: earlier runs' cached facts are read again


def call_facts(relative: str, turns: tuple[Turn, ...], meta: CallMeta, given_by: str = "") -> CallFacts:
    """The cues, self-introductions and names one call offers, per speaker."""
    evidence = speaker_evidence(turns)
    intro: dict[str, list[str]] = defaultdict(list)
    orgs: dict[str, list[str]] = defaultdict(list)
    addressed: dict[str, list[str]] = defaultdict(list)
    calls_others: dict[str, list[str]] = defaultdict(list)
    asked: dict[str, list[str]] = defaultdict(list)
    asking: list[str] = []  # names the last questions were put to, for whoever speaks next
    companies: Counter[str] = Counter()
    previous: str | None = None
    talked: str | None = None  # who spoke the last turn of more than three words
    for index, turn in enumerate(turns):
        text, speaker = turn.text, turn.speaker
        head = text[:300]
        cased = any(c.isupper() for c in head)
        # names and companies as written, then as speech-to-text writes them (lower case)
        for pattern in _SELF_INTRO if cased else ():
            intro[speaker] += [m for m in pattern.findall(head) if _is_name(m.split()[0])]
        intro[speaker] += [m for m in _SELF_INTRO_ASR.findall(head.lower()) if _is_name(m.split()[0])
                           and not any(n.lower() == m for n in intro[speaker])]
        for pattern in _ORG_INTRO if cased else ():
            orgs[speaker] += [m.strip() for m in pattern.findall(head) if m.strip()]
        orgs[speaker] += [m for m in _ORG_INTRO_ASR.findall(head.lower())
                          if not any(o.lower().startswith(m) for o in orgs[speaker])]
        answer = _ORG_ANSWER.match(head) if index < 3 else None
        if answer and not any(w.lower() in _NOT_NAMES for w in answer.group(1).split()):
            orgs[speaker].append(answer.group(1))
        said = [m for m in _VOCATIVE_START.findall(text) + _VOCATIVE_ANY.findall(text) if _is_name(m)]
        said = [name for name in said if name not in intro[speaker]]
        calls_others[speaker] += said
        if previous != speaker:  # the questions just put are this speaker's to answer
            asked[speaker] += asking
            asking = []
        for start, end in _VOCATIVE_QUESTION.findall(text):
            # a sentence's first word is capitalised anyway: only a speaker label's first name
            # counts there, so it is kept in lower case, as speech-to-text writes names; a
            # lower-case last word ("..., roughly?") is a name only where nothing is capitalised
            if _is_name(start or end) and (start or end[:1].isupper() or not cased):
                asking.append(start.lower() or end)
        start = _VOCATIVE_START.match(text)
        if start and previous and previous != speaker and _is_name(start.group(1)):
            addressed[previous].append(start.group(1))
        if not cased:
            spoken = [m for m in _VOCATIVE_ASR.findall(text.lower()) if _is_name(m)]
            calls_others[speaker] += spoken
            if talked and talked != speaker:  # "thanks tomasz" after "great": thanks for the last real turn
                addressed[talked] += spoken
        companies.update(m for m in _COMPANY.findall(text) if m.split()[-1].lower().strip(".") in _COMPANY_WORDS)
        previous = speaker
        if len(text.split()) > 3:
            talked = speaker
    speakers = tuple(
        SpeakerFacts(label, round(score, 3), tuple(dict.fromkeys(intro[label])), tuple(dict.fromkeys(orgs[label])),
                     tuple(addressed[label]), tuple(dict.fromkeys(calls_others[label])), tuple(asked[label]))
        for label, score in evidence.items()
    )
    return CallFacts(
        relative, speakers, tuple(name for name, _ in companies.most_common(8)),
        meta.salesperson, meta.salesperson_speaker, meta.account, given_by,
    )


# --- names and people -------------------------------------------------------------------

def name_key(name: str) -> str:
    return " ".join(name.casefold().replace(".", " ").split())


def is_generic(label: str) -> bool:
    """A label that names no one: `spk_0`, `Speaker 2`, `Customer`, `Agent 1`."""
    return bool(GENERIC_LABEL.match(label.strip()) or _ROLE_LABEL.match(label.strip()))


def display_name(key: str) -> str:
    return " ".join(part[:1].upper() + part[1:] for part in key.split())


# --- accounts from file names --------------------------------------------------------------

_DATE = re.compile(r"^\d{4}[-.]?\d{2}[-.]?\d{2}(?:[t ]?\d{2}[-:.]?\d{2}(?:[-:.]?\d{2})?)?$|^\d{8}$", re.IGNORECASE)
_TOPIC_WORDS = frozenset("""discovery demo follow followup up proposal review pitch contract negotiation consultation
kickoff kick off qbr renewal call meeting intro introduction check checkin in pilot onboarding setup set debrief
commercial scope schedule rollout site visit trial closing close presentation walkthrough walk through update sync
recap quote solution technical deep dive planning plan summary session workshop business case approval signing
legal security procurement implementation handoff training support escalation expansion upsell""".split())


def _name_tokens(relative: str) -> list[str]:
    stem = Path(relative).stem.lower()
    return [t for t in re.split(r"[_\s]+|\s-\s|--", stem) if t]


def _topic_share(token: str) -> float:
    words = [w for w in re.split(r"[-.]+", token) if w]
    return sum(w in _TOPIC_WORDS or w.isdigit() for w in words) / len(words) if words else 1.0


def accounts_from_names(relatives: list[str]) -> dict[str, str]:
    """`<account>_<date>_<topic>`, `<date>_<account>_<topic>` and kin: the name part at one
    position, the same for the folder, that is not a date or a call type. Only when the
    folder follows such a convention (a date in every name, the part repeating across
    files); else no account comes from names."""
    parts: dict[str, list[str]] = {}
    for relative in relatives:
        tokens = _name_tokens(relative)
        if not any(_DATE.match(t) for t in tokens):
            return {}
        parts[relative] = [t for t in tokens if not _DATE.match(t)]
    if not parts or any(not p for p in parts.values()):
        return {}
    width = min(len(p) for p in parts.values())
    best: tuple[float, int] | None = None
    for position in range(width):
        values = [p[position] for p in parts.values()]
        share = sum(_topic_share(v) for v in values) / len(values)
        repeats = len(set(values)) < len(values) or len(values) == 1
        if share < 0.5 and repeats and (best is None or share < best[0]):
            best = (share, position)
    if best is None:
        return {}
    return {relative: p[best[1]] for relative, p in parts.items()}


def _words(text: str) -> list[str]:
    return [w.rstrip("s") for w in re.split(r"[^a-z0-9]+", text.lower().replace("&", " and ")) if w]


def readable_account(slug: str, companies: Counter[str]) -> str:
    """A company name said in the account's calls that the slug abbreviates
    ('harbor-freight-lines' -> 'Harbor Freight Lines'), else the slug in title case."""
    slug_words = _words(slug)
    fits = [
        (count, name) for name, count in companies.items()
        if _words(name)[: len(slug_words)] == slug_words
    ]
    if fits:
        return max(fits)[1]
    return " ".join(_title(w) for w in re.split(r"[-.]+", slug) if w)


_SMALL_WORDS = {"and", "of", "the", "for", "de", "la"}
_ACRONYMS = {"llp", "llc", "inc", "ltd", "plc", "gmbh", "ag", "sa", "usa", "uk", "us", "nhs", "it", "hr"}


def _title(word: str) -> str:
    if word in _SMALL_WORDS:
        return word
    return word.upper() if word in _ACRONYMS else word[:1].upper() + word[1:]


# --- the folder-level decision -------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """The salesperson (label, canonical name) and account of one call, each with its source
    and confidence. `speaker` None: the metadata names the speaker, or the folder could not
    tell (the call then decides alone)."""

    speaker: str | None
    salesperson: str | None
    source: str
    confidence: float
    account: str | None
    account_source: str
    account_confidence: float

    def as_entry(self) -> dict[str, str]:
        """For a job (engines.py): plain strings that cross processes and key the cache."""
        return {
            "speaker": self.speaker or "", "salesperson": self.salesperson or "", "source": self.source,
            "confidence": f"{self.confidence:.2f}", "account": self.account or "",
            "account_source": self.account_source, "account_confidence": f"{self.account_confidence:.2f}",
        }

    @classmethod
    def from_entry(cls, entry: dict[str, str]) -> "Identity | None":
        if not entry:
            return None
        return cls(entry["speaker"] or None, entry["salesperson"] or None, entry["source"],
                   float(entry["confidence"]), entry["account"] or None, entry["account_source"],
                   float(entry["account_confidence"]))


CROSS_ACCOUNT = 6.0   # a person seen in several accounts sells
VENDOR_INTRO = 6.0    # the speaker introduces the company named in several accounts
NAMED_REP = 8.0       # the manifest or --rep names this person as a salesperson elsewhere
KNOWN_CUSTOMER = 4.0  # this person is a customer in the account's calls where the seller is clear
ACCOUNT_CUES = 1.0    # the account's leading seller also counts their cues in its other calls
ADDRESSED_CUES = 4.0  # ... at most this many when only what others call the speaker names them


@dataclass
class _People:
    """Full names known in the folder, by first name and by account: a first-name label
    becomes the one full name it can mean, first within its account, then in the folder."""

    full: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))      # first -> full keys
    in_account: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # account -> full keys
    reps: set[str] = field(default_factory=set)
    spelling: dict[str, str] = field(default_factory=dict)  # key -> how the name is best written

    def add(self, name: str, account: str | None) -> None:
        """Names come manifest and --rep first, then labels: the first mixed-case spelling wins."""
        key = name_key(name)
        if key not in self.spelling or (self.spelling[key].isupper() and not name.isupper()):
            self.spelling[key] = name.strip()
        if len(key.split()) >= 2 and not is_generic(name) and not _abbreviated(key):
            self.full[key.split()[0]].add(key)
            if account:
                self.in_account[account].add(key)

    def display(self, key: str) -> str:
        written = self.spelling.get(key, key)
        return display_name(key) if written.isupper() or written.islower() else written

    def resolve(self, name: str, account: str | None, sellers: frozenset[str] = frozenset()) -> tuple[str, bool]:
        """(person key, strong link). A first name or an abbreviation ("Dana W.", "T. Aldana")
        ties to the one full name that fits: in its account (strong), else in the folder, else
        among the folder's `sellers` (weak: the folder may hold another person of that name)."""
        key = name_key(name)
        parts = key.split()
        if _initialled(key):  # "T. Aldana": the full names with that surname and initial
            candidates = {c for names in self.full.values() for c in names if name_matches(key, c)}
            unresolved = key
        elif len(parts) >= 2 and not _abbreviated(key):
            return key, True
        else:  # a first name, or "Dana W.": the full names it can be
            candidates = {c for c in self.full.get(parts[0], set()) if len(parts) == 1 or c.split()[-1].startswith(parts[1])}
            unresolved = parts[0]
        local = candidates & self.in_account.get(account, set()) if account else set()
        if len(local) == 1:
            return next(iter(local)), True
        if not local and len(candidates) == 1:
            return next(iter(candidates)), False
        selling = candidates & sellers
        if not local and len(selling) == 1:
            return next(iter(selling)), False
        return unresolved, True


def _leader(cues: Counter) -> str | None:
    """The person with the most seller cues of an account, when one leads."""
    ranked = cues.most_common(2)
    return ranked[0][0] if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]) else None


def _initialled(key: str) -> bool:
    """A first initial and a surname: `t aldana` (T. Aldana)."""
    parts = key.split()
    return len(parts) >= 2 and len(parts[0]) == 1 and len(parts[-1]) > 1


def _abbreviated(key: str) -> bool:
    """`t aldana` (T. Aldana) or `dmitri a` (Dmitri A.): a way to write a full name, not one."""
    parts = key.split()
    return _initialled(key) or (len(parts) == 2 and len(parts[1]) == 1)


def _speaker_names(facts: CallFacts, known_first: set[str]) -> tuple[dict[str, str | None], set[str]]:
    """A name for each speaker: the label, or for `spk_0` the name it introduces itself
    with, or the one others greet it or ask it by (never one it uses for someone else); and
    the labels named only that way, which may have been meant for someone else in the room."""
    names: dict[str, str | None] = {}
    addressed_only: set[str] = set()
    for speaker in facts.speakers:
        if not is_generic(speaker.label):
            intro_full = [n for n in speaker.intro_names if len(n.split()) == 2
                          and name_key(n).split()[0] == name_key(speaker.label).split()[0]]
            names[speaker.label] = intro_full[0] if intro_full and len(speaker.label.split()) == 1 else speaker.label
            continue
        own = [n for n in speaker.intro_names if name_key(n).split()[0] in known_first or n[:1].isupper()]
        if own:
            names[speaker.label] = own[0]
            continue
        others = {name_key(n) for n in speaker.calls_others}
        votes: Counter[str] = Counter()
        for heard, weight in ((speaker.addressed_as, 1), (speaker.asked_as, 2)):  # a question's name is seldom wrong
            for n in heard:
                if name_key(n) not in others and (n[:1].isupper() or name_key(n) in known_first):
                    votes[name_key(n)] += weight
        names[speaker.label] = display_name(votes.most_common(1)[0][0]) if votes else None
        if votes:
            addressed_only.add(speaker.label)
    return names, addressed_only


Pick = tuple[str | None, str | None, float]  # salesperson label, canonical name, confidence


def infer_identities(calls: list[CallFacts], reps: tuple[str, ...] = ()) -> dict[str, Identity]:
    """For every call: the salesperson's label and canonical name, the account, each with a
    source and confidence. What the manifest or metadata say is kept; the rest is decided
    from the folder (see the module docstring)."""
    return _Folder(calls, reps).decide()


class _Folder:
    """The folder-level decision. Round one picks sellers from each call's cues, the vendor
    and the accounts the file names give; calls still without an account are grouped by the
    customers they share; round two picks again, now that every person's accounts are known."""

    def __init__(self, calls: list[CallFacts], reps: tuple[str, ...]) -> None:
        self.calls = calls
        self.by_file = {c.relative: c for c in calls}
        by_name = accounts_from_names([c.relative for c in calls])
        self.accounts: dict[str, str | None] = {}
        self.account_source: dict[str, tuple[str, float]] = {}
        for call in calls:
            if call.account:
                self.accounts[call.relative] = "given:" + name_key(call.account)
                self.account_source[call.relative] = (call.given_by or "metadata", 1.0)
            elif call.relative in by_name:
                self.accounts[call.relative] = "name:" + by_name[call.relative]
                self.account_source[call.relative] = ("file name", 0.9)
            else:
                self.accounts[call.relative] = None
        known_first = {name_key(s.label).split()[0] for c in calls for s in c.speakers if not is_generic(s.label)}
        self.known_first = known_first
        self.people = _People()
        for rep in reps:
            self.people.add(rep, None)
            self.people.reps.add(name_key(rep))
        for call in calls:
            if call.salesperson:
                self.people.add(call.salesperson, self.accounts[call.relative])
                self.people.reps.add(self.people.resolve(call.salesperson, self.accounts[call.relative])[0])
        self.names: dict[str, dict[str, str | None]] = {}
        self.addressed_only: set[tuple[str, str]] = set()  # (file, label) named only by what others call them
        for call in calls:
            self.names[call.relative], addressed = _speaker_names(call, known_first)
            self.addressed_only |= {(call.relative, label) for label in addressed}
        self.sellers: frozenset[str] = frozenset()  # people picked to sell in round one (strong links)
        for call in calls:
            for name in self.names[call.relative].values():
                if name:
                    self.people.add(name, self.accounts[call.relative])

    def decide(self) -> dict[str, Identity]:
        picks, _ = self.pick_sellers()
        persons = self.persons()
        self.sellers = frozenset(
            persons[c.relative, picks[c.relative][0]][0] for c in self.calls
            if persons.get((c.relative, picks[c.relative][0]), ("", False))[1]
        )
        if any(a is None for a in self.accounts.values()):
            self.group_unknown(picks)
        picks, unnamed = self.pick_sellers()
        names = self.account_names(picks)
        result: dict[str, Identity] = {}
        for call in self.calls:
            speaker, person, confidence = picks[call.relative]
            if _named_by_metadata(call):  # read_call takes the metadata's speaker: keep only the name
                speaker, confidence = None, 1.0
            account = self.accounts[call.relative]
            readable = names.get(account) if account else None
            if call.relative in unnamed and readable:  # one account, one seller: its calls' unnamed sellers are one
                person = f"unnamed salesperson ({readable})"
            source, certainty = self.account_source.get(call.relative, ("", 0.0)) if readable else ("", 0.0)
            result[call.relative] = Identity(speaker, person, "inferred", confidence, readable, source, certainty)
        return result

    def persons(self) -> dict[tuple[str, str], tuple[str, bool]]:
        """(file, label) -> (person key, strong link), for every speaker with a name. A name
        only a greeting gave is a weak link: "Thanks, Adaeze" may answer an earlier speaker."""
        persons = {}
        for call in self.calls:
            for label, name in self.names[call.relative].items():
                if name:
                    key, strong = self.people.resolve(name, self.accounts[call.relative], self.sellers)
                    persons[call.relative, label] = (key, strong and (call.relative, label) not in self.addressed_only)
        return persons

    def vendors(self, persons: dict[tuple[str, str], tuple[str, bool]]) -> set[str]:
        """Organisations speakers introduce themselves with in two accounts (or, before
        accounts are known, in two calls that share no one but the speaker)."""
        seen: dict[str, list[tuple[str, str]]] = defaultdict(list)  # org -> (file, label)
        for call in self.calls:
            for speaker in call.speakers:
                for org in speaker.orgs:
                    seen[name_key(org).split()[0]].append((call.relative, speaker.label))
        vendors = set()
        for org, where in seen.items():
            accounts = {self.accounts[f] for f, _ in where}
            if len(accounts - {None}) >= 2:
                vendors.add(org)
                continue
            others = [
                {persons[f, s.label][0] for s in self._call(f).speakers if s.label != label and (f, s.label) in persons}
                for f, label in where
            ]
            if any(not (a & b) for i, a in enumerate(others) for b in others[i + 1:]):
                vendors.add(org)
        return vendors

    def _call(self, relative: str) -> CallFacts:
        return self.by_file[relative]

    def pick_sellers(self) -> tuple[dict[str, Pick], set[str]]:
        """Per call: each speaker's cues, plus what the folder says about their person,
        including the cues they gave in the account's other calls (an account's calls are
        mostly with one salesperson, who sells in each of them). Also the calls whose seller
        no name reaches (name_unnamed)."""
        persons = self.persons()
        cues = self.cues_in_accounts(persons)
        leaders = {account: _leader(counted) for account, counted in cues.items()}
        seen_in: dict[str, set[str]] = defaultdict(set)
        for (relative, _), (key, _) in persons.items():
            if self.accounts[relative]:
                seen_in[key].add(self.accounts[relative])
        vendors = self.vendors(persons)
        customers = self.known_customers(persons)
        picks: dict[str, Pick] = {}
        for call in self.calls:
            account = self.accounts[call.relative]
            scores: dict[str, float] = {}
            for speaker in call.speakers:
                score = speaker.evidence
                person = persons.get((call.relative, speaker.label))
                if person:
                    key, strong = person
                    weight = 1.0 if strong else 0.5
                    addressed = (call.relative, speaker.label) in self.addressed_only
                    if len(seen_in[key]) >= 2 and not addressed:  # one first name heard in two accounts may be two people
                        score += CROSS_ACCOUNT * weight
                    if key in self.people.reps:
                        score += NAMED_REP * weight
                    if account and key in customers.get(account, ()):
                        score -= KNOWN_CUSTOMER
                    if account and key == leaders.get(account):
                        elsewhere = cues[account][key] - speaker.evidence
                        if addressed:  # a greeting may tip a close call, not overturn this call's cues
                            elsewhere = min(elsewhere, ADDRESSED_CUES)
                        score += ACCOUNT_CUES * weight * elsewhere
                if any(name_key(org).split()[0] in vendors for org in speaker.orgs):
                    score += VENDOR_INTRO
                scores[speaker.label] = score
            order = [s.label for s in call.speakers]
            ranked = sorted(scores.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
            best, best_score = ranked[0]
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            given = self.people.resolve(call.salesperson, account)[0] if call.salesperson else None
            person_key = given or (persons[call.relative, best][0] if (call.relative, best) in persons else None)
            canonical = self.people.display(person_key) if person_key else None
            picks[call.relative] = (best, canonical, ranked_confidence(best_score, runner_up))
        return picks, self.name_unnamed(picks)

    def cues_in_accounts(self, persons: dict[tuple[str, str], tuple[str, bool]]) -> dict[str, Counter]:
        """Per account, each named person's seller cues (speaker_evidence) summed over its
        calls: one call's cues are few (a customer who asks much can outscore a quiet
        seller), an account's calls together tell who sells there."""
        cues: dict[str, Counter] = defaultdict(Counter)
        for call in self.calls:
            account = self.accounts[call.relative]
            for speaker in call.speakers:
                person = persons.get((call.relative, speaker.label))
                if account and person:
                    cues[account][person[0]] += speaker.evidence
        return cues

    def known_customers(self, persons: dict[tuple[str, str], tuple[str, bool]]) -> dict[str, set[str]]:
        """Per account, the people in calls whose salesperson the manifest or file names."""
        customers: dict[str, set[str]] = defaultdict(set)
        for call in self.calls:
            account = self.accounts[call.relative]
            given = call.salesperson_speaker or call.salesperson
            if account and given:
                for label in self.names[call.relative]:
                    person = persons.get((call.relative, label))
                    if person and not name_matches(label, given) and person[0] not in self.people.reps:
                        customers[account].add(person[0])
        return customers

    def name_unnamed(self, picks: dict[str, Pick]) -> set[str]:
        """A seller known only as `spk_1` is the account's leading named seller (the name its
        other calls' sellers have most often) when it has one; else, for now, the label and
        the file, so unrelated `spk_1`s never pool into one salesperson (decide() then names
        an account's unnamed sellers after the account). Returns the calls left so."""
        sellers: dict[str, Counter] = defaultdict(Counter)
        for call in self.calls:
            account, name = self.accounts[call.relative], picks[call.relative][1]
            if account and name:
                sellers[account][name] += 1
        unnamed = set()
        for call in self.calls:
            speaker, name, confidence = picks[call.relative]
            if speaker is None or name:
                continue
            name = _leader(sellers.get(self.accounts[call.relative] or "", Counter()))
            if name is None:
                name = f"{speaker} ({Path(call.relative).stem})"
                unnamed.add(call.relative)
            picks[call.relative] = (speaker, name, confidence)
        return unnamed

    def customers_of(self, call: CallFacts, picks: dict[str, Pick], sellers: set[str]) -> tuple[set[str], set[str]]:
        """(full-name keys, first names) of the call's customers: its named speakers other
        than the seller and anyone who sells elsewhere. A call whose customers are all
        `spk_N` offers the first names its seller greets them by (names some label uses)."""
        seller = picks[call.relative][0]
        full: set[str] = set()
        first: set[str] = set()
        for label, name in self.names[call.relative].items():
            if not name or label == seller:
                continue
            key = self.people.resolve(name, None)[0]
            if key in sellers:
                continue
            if len(key.split()) >= 2:
                full.add(key)
            first.add(key.split()[0])
        if not first:
            greeted = next((s.calls_others for s in call.speakers if s.label == seller), ())
            first = {name_key(n).split()[0] for n in greeted} & self.known_first
            first -= {key.split()[0] for key in sellers}
        return full, first

    def customer_orgs(self, picks: dict[str, Pick], vendors: set[str]) -> dict[str, list[str]]:
        """Per call, the organisations its customers introduce themselves with ("it's Kelly at
        Oakmere Equine"): the account's own name, said in the call."""
        return {
            call.relative: [
                org for speaker in call.speakers if speaker.label != picks[call.relative][0]
                for org in speaker.orgs if name_key(org).split()[0] not in vendors
            ]
            for call in self.calls
        }

    def group_unknown(self, picks: dict[str, Pick]) -> None:
        """Calls with no account from the manifest, metadata or file name join the calls they
        share customers with (a full name, two first names, one first name and the seller
        when the call names nobody else, or the organisation a customer introduces
        themselves with): that group's given account when it has one, else a new account."""
        persons = self.persons()
        seller_of = {c.relative: persons.get((c.relative, picks[c.relative][0]), ("", False))[0] for c in self.calls}
        sellers = set(seller_of.values()) - {""}
        customers = {c.relative: self.customers_of(c, picks, sellers) for c in self.calls}
        orgs = self.customer_orgs(picks, self.vendors(persons))
        parent = {c.relative: c.relative for c in self.calls}

        def root(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        # calls that share a bucket are one account when one of them has none yet: a bucket
        # per customer full name, per pair of first names, and per (seller, first name)
        # for calls that name no customer in full
        buckets: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for call in self.calls:
            full, first = customers[call.relative]
            keys = [("full", name) for name in full] + [("org", name_key(org).split()[0]) for org in orgs[call.relative]]
            keys += [("pair", a, b) for a, b in combinations(sorted(first), 2)]
            if seller_of[call.relative]:
                keys += [("seller", seller_of[call.relative], name, "unnamed" if not full else "") for name in first]
            for key in keys:
                buckets[key].append(call.relative)
        for key, members in buckets.items():
            if key[0] == "seller" and key[3] != "unnamed":
                continue
            if key[0] == "seller":
                members = members + buckets.get(key[:3] + ("",), [])
            unknown = [m for m in members if self.accounts[m] is None]
            for member in members if unknown else ():
                parent[root(member)] = root(unknown[0])
        groups: dict[str, list[CallFacts]] = defaultdict(list)
        for call in self.calls:
            groups[root(call.relative)].append(call)
        for members in groups.values():
            given = {self.accounts[c.relative] for c in members} - {None}
            unknown = [c for c in members if self.accounts[c.relative] is None]
            if not unknown or len(given) > 1:
                continue
            if not given and len(members) == 1 and customers[members[0].relative] == (set(), set()) \
                    and not orgs[members[0].relative]:
                continue  # nobody to tell the account by
            account = next(iter(given)) if given else "participants:" + members[0].relative
            for call in unknown:
                self.accounts[call.relative] = account
                self.account_source[call.relative] = ("participants", 0.8 if len(members) > 1 else 0.5)

    def account_names(self, picks: dict[str, Pick]) -> dict[str, str]:
        """Readable names: the manifest's, the file names' (spelled as said in the calls
        when they are), or for a group of calls the organisation its customers introduce
        themselves with, else a company said in most of its calls, else its customers' names."""
        names: dict[str, str] = {}
        persons = self.persons()
        orgs = self.customer_orgs(picks, self.vendors(persons))
        sellers = {persons[c.relative, picks[c.relative][0]][0] for c in self.calls if (c.relative, picks[c.relative][0]) in persons}
        groups: dict[str, list[CallFacts]] = defaultdict(list)
        for call in self.calls:
            if self.accounts[call.relative]:
                groups[self.accounts[call.relative]].append(call)
        for account, members in sorted(groups.items()):
            kind, _, value = account.partition(":")
            companies = Counter(name for c in members for name in c.companies)
            if kind == "given":
                names[account] = next(c.account for c in members if c.account)
            elif kind == "name":
                names[account] = readable_account(value, companies)
            elif introduced := Counter(org for c in members for org in orgs.get(c.relative, ())):
                name = introduced.most_common(1)[0][0]
                names[account] = " ".join(_title(w) for w in name.split()) if name.islower() else name
            else:
                said_in = Counter(name for c in members for name in set(c.companies))
                common = [n for n, k in said_in.most_common() if k >= 2 and k * 2 > len(members)]
                people = sorted({self.people.display(k) for c in members for k in self.customers_of(c, picks, sellers)[0]})
                if not people:
                    people = sorted({display_name(k) for c in members for k in self.customers_of(c, picks, sellers)[1]})
                names[account] = common[0] if common else ", ".join(people[:3]) + (" …" if len(people) > 3 else "")
        return names


def _named_by_metadata(call: CallFacts) -> bool:
    """The manifest or file names the salesperson's speaker (as resolve_salesperson reads it),
    so nothing the folder infers about this call's seller can change its analysis."""
    if call.salesperson_speaker:
        return True
    return bool(call.salesperson) and sum(name_matches(s.label, call.salesperson) for s in call.speakers) == 1


def name_matches(label: str, name: str) -> bool:
    """'DANA', 'Dana', 'Dana W.' and 'Dana Whitfield' all name Dana Whitfield; 'Dana Cole'
    does not: two full names must share the surname (or its initial)."""
    a, b = label.casefold().replace(".", " ").split(), name.casefold().replace(".", " ").split()
    if not a or not b:
        return False
    if a == b:
        return True
    if len(a) >= 2 and len(b) >= 2 and min(len(a[0]), len(b[0])) == 1:  # "T. Aldana", "Tobias Aldana"
        return a[0][0] == b[0][0] and a[-1] == b[-1]
    if a[0] != b[0] or len(a[0]) < 2:
        return False
    if len(a) >= 2 and len(b) >= 2:
        short, long_ = sorted((a[-1], b[-1]), key=len)
        return long_.startswith(short) if len(short) == 1 else short == long_
    return True
