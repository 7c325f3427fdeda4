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
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.model import CallMeta, Turn

# --- per speaker cues in one call ---------------------------------------------------------

# name -> (pattern on lower-cased turn text, weight); + is what sellers do, - what buyers do
SELLER_CUES: dict[str, tuple[re.Pattern[str], float]] = {
    name: (re.compile(pattern), weight)
    for name, pattern, weight in (
        ("introduces_self", r"\b(this is \w+( \w+)? (from|with|at)|my name is|i'?m \w+( \w+)? (from|with)|"
                            r"calling (from|about)|\w+ here from)\b", 3.0),
        ("thanks_for_time", r"\bthanks? (you )?(so much |all )?for (taking|making|jumping|having me|joining|the time|"
                            r"getting on)\b", 2.0),
        ("reason_for_call", r"\b(reason (for|i'?m) (my|the) call|(set|put) (this|some) time)\b", 2.0),
        ("our_offer", r"\bour (platform|product|solution|software|service|pricing|plan|package|system|offer|"
                      r"customers|clients|installers?|technicians?|engineers?|specialists?|onboarding|"
                      r"support|team|partner|batter(y|ies)|panels|handhelds?|agent|app|module)\b", 1.0),
        ("we_offer", r"\bwe (offer|provide|specialize|install|integrate|include|cover|guarantee)\b", 1.0),
        ("promise_to_send", r"\bi('ll| will) (send|get you|email|put together|set up|follow up|circle back|"
                            r"book|draft|have (it|the|a|our)|loop in|come back to you|get back to you|"
                            r"confirm|find out|bring)\b", 1.0),
        ("owns_error", r"\b(that'?s (my|on me)|i own that|my (error|mistake|fault)|i should have (checked|caught))\b", 1.5),
        ("asks_about_them", r"\b(walk me through|tell me (about|more)|what'?s (prompting|got you|driving)|"
                            r"who else (is|would be)|how do you (currently|handle|decide|measure)|"
                            r"what does (that|a \w+ like that) cost you|what would (make|success)|"
                            r"anything i (haven'?t|didn'?t) ask)\b", 1.5),
        ("asks_price", r"\b(how much (does|is|will|would|do)|what('?s| is| does) (it|the|this|that) (cost|price)|"
                       r"is that (free|included|extra))\b", -1.5),
        ("about_their_offer", r"\byour (pricing|product|platform|price|contract|quote|proposal|company|installer|"
                              r"installers|engineer|engineers|software|offer|service|rep|sales|team's|warranty)\b", -1.0),
        ("holds_them_to_it", r"\byou (promised|said you|told us|told me|were supposed to|never sent|quoted us)\b", -1.5),
        ("asks_to_be_sent", r"\b((can|could|would) you (send|email|get us|get me)|send (us|me) (the|a|your))\b", -1.0),
        ("needs_to_check", r"\b(i'?ll|we'?ll|i need to|we need to) (have to )?(check with|talk to|run it by|take it to) "
                           r"(my|our|the) (boss|board|cfo|ceo|owner|owners|partners?|wife|husband|finance|team)\b", -1.5),
    )
}
_QUESTION_ABOUT_YOU = re.compile(r"[^.?!]*\byou(r|'re|'ve)?\b[^.?!]*\?")
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
        score += 0.25 * len(_QUESTION_ABOUT_YOU.findall(text))
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
    re.compile(r"\b(?:[Tt]his is|[Mm]y name is|[Ii]t'?s|I'?m|I am)\s+" + _NAME + r"\b"),
    re.compile(r"(?:^|[.!?]\s+|,\s*)" + _NAME + r",?\s+here\b"),
    re.compile(r"^(?:(?:[Hh]ey|[Hh]i|[Hh]ello|[Gg]ood (?:morning|afternoon))[,!.]?\s+(?:good morning[,!.]?\s+)?)?"
               r"([A-Z][a-z]+ [A-Z][a-z]+),\s+[A-Z]\w+[.!]"),
]
_SELF_INTRO_ASR = re.compile(r"\b(?:this is|my name is|i'?m)\s+" + _NAME_LOWER + r"\s+(?:from|with|at|here)\b")
_ORG_INTRO = [
    re.compile(r"\b(?:[Tt]his is|[Mm]y name is|I'?m|I am|[Ii]t'?s)\s+[A-Z][a-z]+(?: [A-Z][a-z]+)?,?\s+(?:from|with|at|over at)\s+" + _ORG),
    re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)?,?\s+here\s+(?:from|with|at)\s+" + _ORG),
    re.compile(r"^(?:(?:[Hh]ey|[Hh]i|[Hh]ello|[Gg]ood (?:morning|afternoon))[,!.]?\s+(?:good morning[,!.]?\s+)?)?"
               r"[A-Z][a-z]+ [A-Z][a-z]+,\s+([A-Z]\w+)[.!]"),
    re.compile(r"\b(?:calling|here)\s+from\s+" + _ORG),
]
_ORG_INTRO_ASR = re.compile(r"\b(?:this is|my name is|i'?m)\s+[a-z]+(?: [a-z]+)?\s+(?:from|with)\s+([a-z]+)")
_VOCATIVE_START = re.compile(r"^(?:(?:[Hh]i|[Hh]ey|[Hh]ello|[Tt]hanks|[Tt]hank you|[Cc]heers|[Mm]orning|[Gg]ood morning|"
                             r"[Ss]orry|[Ww]elcome|[Bb]ye|[Nn]ice to meet you|[Gg]reat to meet you),?\s+)" + r"([A-Z][a-z]+)\b")
_VOCATIVE_ANY = re.compile(r"(?:^|[,.!?]\s*|\b(?:hi|hey|thanks|and|morning),?\s+)([A-Z][a-z]+)(?=[,.!?]|\s*$)")
_NOT_NAMES = frozenset("""
i im ok okay yes yeah yep no nope so well great good sure right thanks thank hi hey hello morning afternoon evening
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august september
october november december sorry perfect fine nice wow oh ah um uh hmm mm cheers bye welcome totally exactly absolutely
understood noted agreed fair done true cool awesome alright anyway also and but or the a an this that these those it its
we you they he she everyone everybody all folks guys team there here what how why when who where which honestly
look listen see wait please let just really actually definitely correct interesting lovely brilliant excellent
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


def call_facts(relative: str, turns: tuple[Turn, ...], meta: CallMeta, given_by: str = "") -> CallFacts:
    """The cues, self-introductions and names one call offers, per speaker."""
    evidence = speaker_evidence(turns)
    intro: dict[str, list[str]] = defaultdict(list)
    orgs: dict[str, list[str]] = defaultdict(list)
    addressed: dict[str, list[str]] = defaultdict(list)
    calls_others: dict[str, list[str]] = defaultdict(list)
    companies: Counter[str] = Counter()
    previous: str | None = None
    for index, turn in enumerate(turns):
        text, speaker = turn.text, turn.speaker
        head = text[:300]
        cased = any(c.isupper() for c in head)
        for pattern in _SELF_INTRO if cased else ():
            intro[speaker] += [m for m in pattern.findall(head) if _is_name(m.split()[0])]
        if not cased:
            intro[speaker] += [m for m in _SELF_INTRO_ASR.findall(head) if _is_name(m.split()[0])]
        for pattern in _ORG_INTRO if cased else (_ORG_INTRO_ASR,):
            orgs[speaker] += [m.strip() for m in pattern.findall(head) if m.strip()]
        said = [m for m in _VOCATIVE_START.findall(text) + _VOCATIVE_ANY.findall(text) if _is_name(m)]
        said = [name for name in said if name not in intro[speaker]]
        calls_others[speaker] += said
        start = _VOCATIVE_START.match(text)
        if start and previous and previous != speaker and _is_name(start.group(1)):
            addressed[previous].append(start.group(1))
        companies.update(m for m in _COMPANY.findall(text) if m.split()[-1].lower().strip(".") in _COMPANY_WORDS)
        previous = speaker
    speakers = tuple(
        SpeakerFacts(label, round(score, 3), tuple(dict.fromkeys(intro[label])), tuple(dict.fromkeys(orgs[label])),
                     tuple(addressed[label]), tuple(dict.fromkeys(calls_others[label])))
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
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[-.]+", slug) if w)


# --- the folder-level decision -------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """The salesperson (label, canonical name) and account of one call, each with its source
    and confidence. `speaker` None: the folder could not tell; the call decides alone."""

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


@dataclass
class _People:
    """Full names known in the folder, by first name and by account: a first-name label
    becomes the one full name it can mean, first within its account, then in the folder."""

    full: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))      # first -> full keys
    in_account: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # account -> full keys
    reps: set[str] = field(default_factory=set)

    def add(self, name: str, account: str | None) -> None:
        key = name_key(name)
        if len(key.split()) >= 2 and not is_generic(name):
            self.full[key.split()[0]].add(key)
            if account:
                self.in_account[account].add(key)

    def resolve(self, name: str, account: str | None) -> tuple[str, bool]:
        """(person key, strong link). A first name ties to a full name when only one fits."""
        key = name_key(name)
        parts = key.split()
        if len(parts) >= 2 and not (len(parts) == 2 and len(parts[1]) == 1):
            return key, True
        first = parts[0]
        candidates = self.full.get(first, set())
        if len(parts) == 2:  # "Dana W."
            candidates = {c for c in candidates if c.split()[-1].startswith(parts[1])}
        local = candidates & self.in_account.get(account, set()) if account else set()
        if len(local) == 1:
            return next(iter(local)), True
        if not local and len(candidates) == 1:
            return next(iter(candidates)), False
        return first, True


def _speaker_names(facts: CallFacts, known_first: set[str]) -> dict[str, str | None]:
    """A name for each speaker: the label, or for `spk_0` the name it introduces itself
    with, or the one others greet it by (never one it uses for someone else)."""
    names: dict[str, str | None] = {}
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
        greeted = Counter(name_key(n) for n in speaker.addressed_as if name_key(n) not in others)
        names[speaker.label] = display_name(greeted.most_common(1)[0][0]) if greeted else None
    return names


def infer_identities(calls: list[CallFacts], reps: tuple[str, ...] = ()) -> dict[str, Identity]:
    """For every call: the salesperson's label and canonical name, the account, each with a
    source and confidence. What the manifest or metadata say is kept; the rest is decided
    from the folder (see the module docstring)."""
    by_name = accounts_from_names([c.relative for c in calls])
    company_counts: dict[str, Counter[str]] = defaultdict(Counter)
    accounts: dict[str, str | None] = {}
    account_source: dict[str, tuple[str, float]] = {}
    for call in calls:
        if call.account:
            accounts[call.relative] = "given:" + name_key(call.account)
            account_source[call.relative] = (call.given_by or "metadata", 1.0)
        elif call.relative in by_name:
            accounts[call.relative] = "name:" + by_name[call.relative]
            account_source[call.relative] = ("file name", 0.9)
        else:
            accounts[call.relative] = None
        company_counts[accounts[call.relative] or call.relative].update(call.companies)

    known_first = {name_key(s.label).split()[0] for c in calls for s in c.speakers if not is_generic(s.label)}
    people = _People()
    for rep in reps:
        people.add(rep, None)
        people.reps.add(name_key(rep))
    for call in calls:
        if call.salesperson:
            people.add(call.salesperson, accounts[call.relative])
            people.reps.add(people.resolve(call.salesperson, accounts[call.relative])[0])
    speaker_names = {c.relative: _speaker_names(c, known_first) for c in calls}
    for call in calls:
        for name in speaker_names[call.relative].values():
            if name:
                people.add(name, accounts[call.relative])

    picks = _pick_sellers(calls, accounts, speaker_names, people)
    _group_unknown_accounts(calls, accounts, account_source, picks, speaker_names, people)
    picks = _pick_sellers(calls, accounts, speaker_names, people)

    names: dict[str, str] = {}  # account id -> readable name
    for account in sorted({a for a in accounts.values() if a}):
        kind, _, value = account.partition(":")
        members = [c for c in calls if accounts[c.relative] == account]
        if kind == "given":
            names[account] = next(c.account for c in members if c.account)
        elif kind == "name":
            names[account] = readable_account(value, sum((company_counts[account],), Counter()))
        else:
            names[account] = value
    result: dict[str, Identity] = {}
    for call in calls:
        speaker, person, source, confidence = picks[call.relative]
        account = accounts[call.relative]
        src, conf = account_source.get(call.relative, ("", 0.0))
        result[call.relative] = Identity(speaker, person, source, confidence, names.get(account) if account else None, src, conf)
    return result


def _pick_sellers(
    calls: list[CallFacts],
    accounts: dict[str, str | None],
    speaker_names: dict[str, dict[str, str | None]],
    people: _People,
) -> dict[str, tuple[str | None, str | None, str, float]]:
    """Per call: (speaker label, canonical name, source, confidence) of the salesperson."""
    persons: dict[tuple[str, str], tuple[str, bool]] = {}
    seen_in: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        account = accounts[call.relative]
        for label, name in speaker_names[call.relative].items():
            if name:
                persons[call.relative, label] = people.resolve(name, account)
                seen_in[persons[call.relative, label][0]].add(account or "call:" + call.relative)

    org_accounts: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        for speaker in call.speakers:
            for org in speaker.orgs:
                org_accounts[name_key(org).split()[0]].add(accounts[call.relative] or "call:" + call.relative)
    vendors = {org for org, where in org_accounts.items() if len(where) >= 2}

    # customers: people in an account's calls where a clear seller is named by the manifest
    customers: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        account = accounts[call.relative]
        given = call.salesperson_speaker or call.salesperson
        if account and given:
            for label in speaker_names[call.relative]:
                person = persons.get((call.relative, label))
                if person and not _same_person(label, given) and person[0] not in people.reps:
                    customers[account].add(person[0])

    picks: dict[str, tuple[str | None, str | None, str, float]] = {}
    for call in calls:
        account = accounts[call.relative]
        scores: dict[str, float] = {}
        for speaker in call.speakers:
            score = speaker.evidence
            person = persons.get((call.relative, speaker.label))
            if person:
                key, strong = person
                if len(seen_in[key]) >= 2:
                    score += CROSS_ACCOUNT if strong else CROSS_ACCOUNT / 2
                if key in people.reps:
                    score += NAMED_REP if strong else NAMED_REP / 2
                if account and key in customers.get(account, ()):
                    score -= KNOWN_CUSTOMER
            if any(name_key(org).split()[0] in vendors for org in speaker.orgs):
                score += VENDOR_INTRO
            scores[speaker.label] = score
        if not scores:
            picks[call.relative] = (None, None, "inferred", 0.5)
            continue
        order = [s.label for s in call.speakers]
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
        best, best_score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        person = persons.get((call.relative, best))
        canonical = display_name(person[0]) if person else None
        picks[call.relative] = (best, canonical, "inferred", ranked_confidence(best_score, runner_up))
    return picks


def _same_person(label: str, name: str) -> bool:
    from analyzer.ingest.metadata import name_matches

    return name_matches(label, name)


def _group_unknown_accounts(
    calls: list[CallFacts],
    accounts: dict[str, str | None],
    account_source: dict[str, tuple[str, float]],
    picks: dict[str, tuple[str | None, str | None, str, float]],
    speaker_names: dict[str, dict[str, str | None]],
    people: _People,
) -> None:
    """Calls with no account from the manifest, metadata or file name: one account per group
    of calls that share a customer (a full name, or two first names), named by a company
    said in its calls, else by its customers."""
    unknown = [c for c in calls if accounts[c.relative] is None]
    if not unknown:
        return
    customers: dict[str, set[str]] = {}
    for call in unknown:
        seller = picks[call.relative][0]
        customers[call.relative] = {
            people.resolve(name, None)[0]
            for label, name in speaker_names[call.relative].items()
            if name and label != seller
        }
    parent = {c.relative: c.relative for c in unknown}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    shared_by: dict[str, list[str]] = defaultdict(list)
    for relative, names in customers.items():
        for name in names:
            shared_by[name].append(relative)
    for a_index, a in enumerate(unknown):
        for b in unknown[a_index + 1:]:
            shared = customers[a.relative] & customers[b.relative]
            if any(len(n.split()) >= 2 for n in shared) or len(shared) >= 2:
                parent[root(b.relative)] = root(a.relative)
    groups: dict[str, list[CallFacts]] = defaultdict(list)
    for call in unknown:
        groups[root(call.relative)].append(call)
    for members in groups.values():
        companies = Counter(name for c in members for name in c.companies)
        names = sorted({display_name(n) for c in members for n in customers[c.relative]})
        readable = companies.most_common(1)[0][0] if companies else ", ".join(names[:3])
        confidence = 0.8 if len(members) > 1 else 0.5
        for call in members:
            accounts[call.relative] = "participants:" + readable
            account_source[call.relative] = ("participants", confidence)
