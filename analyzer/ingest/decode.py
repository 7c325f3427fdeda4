"""Bytes to text: the encodings exports actually come in, and binary files refused early."""
from __future__ import annotations

import codecs

from analyzer.errors import InputError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_TEXT_CONTROLS = {9, 10, 12, 13}


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KB: no transcript looks like that."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    return controls > max(8, len(head) // 20)


def decode(path: str, data: bytes) -> tuple[str, list[InputError]]:
    """Decode `data`; returns the text and any warnings. Raises InputError for empty/binary."""
    if not data.strip():
        raise InputError(path, "E101")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _normalise(data.decode(encoding)), []
            except UnicodeDecodeError as err:
                raise InputError(path, "E105", f"{encoding} text ({err.reason})") from None
    if looks_binary(data):
        raise InputError(path, "E102")
    try:
        return _normalise(data.decode("utf-8")), []
    except UnicodeDecodeError:
        pass
    # Windows-1252 leaves five bytes undefined; latin-1 maps them so nothing is lost.
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return _normalise(text), [InputError(path, "W201")]


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
