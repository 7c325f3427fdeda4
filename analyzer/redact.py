"""--redact: mask e-mail addresses, phone numbers, payment card numbers (Luhn-checked) and
street addresses. Applied to the turns as they are read, so every export derived from them
(excerpts, context, explanations, annotations, ledger, report) carries only the masks."""
from __future__ import annotations

import dataclasses
import re

from analyzer.model import Call

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
# not inside a longer run of digit groups (a card number that failed Luhn stays as it is)
PHONE = re.compile(
    r"(?<![\w.])(?<!\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?!\w|\.\d)(?![ .-]?\d)"
    r"|(?<![\w.])\+\d{9,14}(?!\w|\.\d)"
)
_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
    r"parkway|pkwy|circle|cir|highway|hwy|square|sq"
)
# a house number, one to three capitalised name words (or "34th"), a street suffix
ADDRESS = re.compile(
    rf"\b\d{{1,6}}(?:\s+[NSEW]\.?)?(?:\s+[A-Z][a-z]+|\s+\d{{1,3}}(?:st|nd|rd|th)){{1,3}}\s+(?i:{_SUFFIX})\b\.?"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def redact(text: str) -> str:
    text = EMAIL.sub("[email]", text)
    text = CARD.sub(_card, text)
    text = PHONE.sub("[phone]", text)
    return ADDRESS.sub("[address]", text)


def redact_call(call: Call) -> Call:
    turns = tuple(dataclasses.replace(t, text=redact(t.text)) for t in call.turns)
    return dataclasses.replace(call, turns=turns)
