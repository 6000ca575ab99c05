"""Word-shape features that give an uncased encoder its capitalisation back.

Each token gets one id: the shape of the *word* it belongs to (from the
original, un-normalised text via the offset mapping), combined with whether
the token is the word's first piece and whether the word opens a line
(headlines and sentence starts are capitalised for other reasons).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Sequence

SHAPES = ("pad", "lower", "title", "upper", "single-upper", "mixed", "digits", "alnum", "punct", "uncased")
N_FLAGS = 4  # (first piece of word) x (word opens a line or sentence)
N_CASING_IDS = len(SHAPES) * N_FLAGS
PAD_CASING_ID = 0


def word_shape(word: str) -> int:
    letters = [c for c in word if c.isalpha()]
    if not word:
        return SHAPES.index("pad")
    if not letters:
        if any(c.isdigit() for c in word):
            return SHAPES.index("digits")
        return SHAPES.index("punct")
    cased = [c for c in letters if c.isupper() or c.islower()]
    if not cased:
        return SHAPES.index("uncased")
    if any(c.isdigit() for c in word):
        return SHAPES.index("alnum")
    if all(c.islower() for c in cased):
        return SHAPES.index("lower")
    if all(c.isupper() for c in cased):
        return SHAPES.index("single-upper" if len(cased) == 1 else "upper")
    if cased[0].isupper() and all(c.islower() for c in cased[1:]):
        return SHAPES.index("title")
    return SHAPES.index("mixed")


def _opens_sentence(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\"'“‘(—–-":
        i -= 1
    return i < 0 or text[i] in "\n\r.!?:"


def casing_ids(text: str, offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None]) -> list[int]:
    """One casing id per token (``PAD_CASING_ID`` for special tokens)."""
    extent: dict[int, tuple[int, int]] = {}
    for (s, e), wid in zip(offsets, word_ids):
        if wid is None or e <= s:
            continue
        if wid in extent:
            extent[wid] = (min(extent[wid][0], s), max(extent[wid][1], e))
        else:
            extent[wid] = (s, e)
    out = []
    previous = None
    word_id: dict[int, int] = {}  # wid -> shape * N_FLAGS + the line flag, worked out once per word
    for (s, e), wid in zip(offsets, word_ids):
        if wid is None or wid not in extent:
            out.append(PAD_CASING_ID)
            previous = wid
            continue
        if wid not in word_id:
            ws, we = extent[wid]
            word_id[wid] = _shape(text[ws:we]) * N_FLAGS + (2 if _opens_sentence(text, ws) else 0)
        out.append(word_id[wid] + (1 if wid != previous else 0))  # + first piece of its word
        previous = wid
    return out


@lru_cache(maxsize=1 << 16)
def _shape(word: str) -> int:
    return word_shape(unicodedata.normalize("NFC", word))
