"""A tokenizer-independent word segmentation for datasets and CoNLL files.

A word is a maximal run of letters, digits and combining marks; every other
non-space character is a word of its own. Spans that pass ``validate`` always
start and end on these words.
"""

from __future__ import annotations

from conflict_spans.document import is_word_char


def word_offsets(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        j = i + 1
        if is_word_char(ch):
            while j < n and is_word_char(text[j]):
                j += 1
        out.append((i, j))
        i = j
    return out
