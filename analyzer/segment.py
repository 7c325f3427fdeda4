"""Turns -> utterances: sentence-sized pieces with offsets, times, and for each salesperson
utterance the customer utterance it answers.

Sentences shorter than MIN_WORDS join a neighbour in the same turn, so each utterance is a
judgeable unit. Speech-to-text output often has no sentence punctuation, so a 300-word turn would be one
"sentence". No spaCy component segments such text (shared/notes/measurements.md), so pieces
longer than MAX_WORDS are cut again before discourse markers ("so", "but", "what", "do you"
...) once they have MIN_WORDS, and hard-cut at MAX_WORDS when no marker comes."""
from __future__ import annotations

from analyzer import nlp
from analyzer.model import Call, ParsedCall, Role, Utterance

MIN_WORDS = 6
MAX_WORDS = 30              # for turns without sentence punctuation (speech-to-text)
MAX_WORDS_PUNCTUATED = 60   # a long but punctuated sentence is usually a real sentence

_MARKERS = {
    "so", "but", "okay", "ok", "alright", "anyway", "because", "now", "well", "um", "uh",
    "actually", "basically", "honestly", "also", "plus", "yeah", "yep", "listen", "look",
}
_MARKER_PAIRS = {
    ("and", "then"), ("and", "so"), ("you", "know"), ("i", "mean"), ("do", "you"), ("does", "that"),
    ("can", "you"), ("could", "you"), ("would", "you"), ("are", "you"), ("have", "you"), ("is", "there"),
    ("is", "that"), ("did", "you"), ("the", "thing"), ("let", "me"), ("i'll",), ("i", "will"),
    ("we", "can"), ("i", "think"), ("and", "i"), ("and", "we"), ("what's",), ("how's",),
    ("what", "do"), ("what", "does"), ("what", "did"), ("what", "would"), ("what", "is"), ("what", "are"),
    ("how", "do"), ("how", "does"), ("how", "would"), ("how", "many"), ("how", "much"), ("how", "long"),
    ("why", "do"), ("why", "did"), ("when", "do"), ("when", "would"), ("who", "else"), ("where", "do"),
}
_QUESTION_STARTS = {
    "what", "how", "why", "when", "where", "who", "which", "whats", "what's", "how's",
    "do", "does", "did", "can", "could", "would", "will", "is", "are", "have", "has", "should", "shall",
}
BACKCHANNELS = {
    "mm", "mmm", "hmm", "mhm", "mm-hm", "mm-hmm", "uh-huh", "uh", "um", "yeah", "yes", "yep", "yup",
    "right", "okay", "ok", "sure", "got", "it", "i", "see", "cool", "great", "exactly", "totally",
    "oh", "ah", "wow", "nice", "true", "absolutely", "gotcha", "sounds", "good", "perfect", "no",
    "definitely", "fair", "enough", "interesting", "thanks", "thank", "you", "alright", "huh",
}


def _is_marker(words: list[str], i: int) -> bool:
    if words[i] in _MARKERS:
        return True
    pair = tuple(words[i:i + 2])
    return pair in _MARKER_PAIRS or (words[i],) in _MARKER_PAIRS


def _split_long(sentence: nlp.Sentence, limit: int) -> list[nlp.Sentence]:
    words = [t for t in sentence if not t.is_punct]
    if len(words) <= limit:
        return [sentence]
    lowers = [t.lower for t in words]
    cuts: list[int] = []   # word indices where a new piece starts
    start = 0
    for i in range(1, len(words) - MIN_WORDS + 1):  # never leave a tail shorter than MIN_WORDS
        length = i - start
        if (length >= MIN_WORDS and _is_marker(lowers, i)) or length >= limit:
            cuts.append(i)
            start = i
    if not cuts:
        return [sentence]
    boundaries = [words[c].start for c in cuts]
    pieces: list[nlp.Sentence] = [[]]
    for token in sentence:
        if boundaries and token.start >= boundaries[0]:
            boundaries.pop(0)
            pieces.append([])
        pieces[-1].append(token)
    return [p for p in pieces if p]


def _words(piece: nlp.Sentence) -> int:
    return sum(1 for t in piece if not t.is_punct)


def _join_short(pieces: list[nlp.Sentence], limit: int) -> list[nlp.Sentence]:
    """Join pieces under MIN_WORDS to a neighbour in the same turn ("It would. It's tight,
    but it works on paper."): a fragment alone says too little to judge, and the detectors
    were trained on utterances of 4-60 words. A lone short piece (a backchannel) stays."""
    joined: list[nlp.Sentence] = []
    for piece in pieces:
        if joined and (_words(joined[-1]) < MIN_WORDS or _words(piece) < MIN_WORDS) and _words(joined[-1]) + _words(piece) <= limit:
            joined[-1] = joined[-1] + piece
        else:
            joined.append(piece)
    return joined


def is_backchannel_text(text: str) -> bool:
    words = text.lower().replace(".", " ").replace(",", " ").replace("!", " ").replace("?", " ").split()
    return 0 < len(words) <= 3 and all(w in BACKCHANNELS for w in words)


def is_question_text(text: str) -> bool:
    stripped = text.rstrip()
    if "?" in stripped:
        return True
    if stripped.endswith((".", "!")):
        return False
    words = stripped.lower().split()
    # unpunctuated speech: a question starter after optional fillers ("so um what ...")
    for word in words[:4]:
        if word in _QUESTION_STARTS:
            return True
        if word not in {"so", "and", "um", "uh", "okay", "ok", "but", "well", "like", "yeah"}:
            return False
    return False


def segment_calls(calls: list[Call]) -> list[ParsedCall]:
    """Segment many calls with one streamed spaCy pass over all their turns."""
    texts = [turn.text for call in calls for turn in call.turns]
    split = iter(nlp.sentences(texts))
    return [_parse(call, [next(split) for _ in call.turns]) for call in calls]


def segment_with_units(call: Call, units: dict[int, list[str]]) -> ParsedCall:
    """Like segment_call, but the turns in `units` are cut into the given pieces (labelled
    sentences of training data, one text `loyalty classify` scores) instead of by spaCy."""
    split = nlp.sentences([turn.text for turn in call.turns])
    return _parse(call, split, units)


def segment_call(call: Call) -> ParsedCall:
    return segment_calls([call])[0]


def _given_spans(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    spans, cursor = [], 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:
            raise ValueError(f"{piece!r} is not in its turn's text")
        spans.append((start, start + len(piece)))
        cursor = start + len(piece)
    return spans


def _parse(call: Call, turn_sentences: list[list[nlp.Sentence]], units: dict[int, list[str]] | None = None) -> ParsedCall:
    utterances: list[Utterance] = []
    anchor: str | None = None  # the customer utterance a salesperson turn responds to
    for index, (turn, sents) in enumerate(zip(call.turns, turn_sentences)):
        role = call.role_of(turn.speaker)
        if units and index in units:
            spans = _given_spans(turn.text, units[index])
        else:
            punctuated = any(mark in turn.text for mark in (". ", "? ", "! ")) or len(sents) > 1
            limit = MAX_WORDS_PUNCTUATED if punctuated else MAX_WORDS
            pieces = _join_short([piece for sent in sents for piece in _split_long(sent, limit)], limit)
            spans = [(piece[0].start, piece[-1].end) for piece in pieces]
        made: list[Utterance] = []
        for n, (start, end) in enumerate(spans):
            text = turn.text[start:end]
            made.append(
                Utterance(
                    id=f"{call.meta.call_id}#{index}.{n}",
                    turn=index,
                    speaker=turn.speaker,
                    role=role,
                    text=text,
                    char_start=start,
                    char_end=end,
                    start=turn.time_at(start),
                    end=turn.time_at(end),
                    is_question=is_question_text(text),
                    is_backchannel=is_backchannel_text(text),
                    responds_to=anchor if role is Role.SALESPERSON else None,
                )
            )
        if role is Role.CUSTOMER:
            substantive = [u for u in made if not u.is_backchannel]
            questions = [u for u in substantive if u.is_question]
            if substantive:
                anchor = (questions or substantive)[-1].id
        utterances.extend(made)
    return ParsedCall(call, tuple(utterances))
