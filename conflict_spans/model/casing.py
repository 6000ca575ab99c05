"""Word-shape features that give an uncased encoder its capitalisation back.

Each token gets one id: the shape of the *word* it belongs to (from the
original, un-normalised text via the offset mapping), combined with whether
the token is the word's first piece and whether the word opens a line
(headlines and sentence starts are capitalised for other reasons).
"""

from __future__ import annotations

import unicodedata
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
    for (s, e), wid in zip(offsets, word_ids):
        if wid is None or wid not in extent:
            out.append(PAD_CASING_ID)
            previous = wid
            continue
        ws, we = extent[wid]
        shape = word_shape(unicodedata.normalize("NFC", text[ws:we]))
        first_piece = wid != previous
        flags = (1 if first_piece else 0) + (2 if _opens_sentence(text, ws) else 0)
        out.append(shape * N_FLAGS + flags)
        previous = wid
    return out
