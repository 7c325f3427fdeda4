"""The only module that imports spaCy. Segmentation needs tokens and sentence boundaries,
and on punctuated text `spacy.blank("en")` + sentencizer gives the most accurate boundaries
at ~13,500 sentences/s (shared/notes/measurements.md); the trained pipelines are ~100x
slower and segment unpunctuated speech-to-text text no better, so we load none of them."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Token:
    start: int   # character offsets in the text
    end: int
    lower: str
    is_punct: bool


Sentence = list[Token]


@lru_cache(maxsize=1)
def _pipeline():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def sentences(texts: Iterable[str], batch_size: int = 256) -> list[list[Sentence]]:
    """Tokenise and sentence-split many texts in one streamed pass."""
    result: list[list[Sentence]] = []
    for doc in _pipeline().pipe(texts, batch_size=batch_size):
        result.append(
            [
                [Token(t.idx, t.idx + len(t.text), t.lower_, t.is_punct) for t in sent if not t.is_space]
                for sent in doc.sents
            ]
        )
    return result
