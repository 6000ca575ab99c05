"""Sentences and paragraphs of a document, as character ranges.

A rule-based splitter, transparent and dependency-free: a sentence ends at
``.``, ``!`` or ``?`` (with any closing quotes or brackets) followed by
whitespace, unless the word before the period is an abbreviation the corpus
knows (``Lt.``, ``U.S.``); a line break always ends a sentence, and a blank
line ends a paragraph. Headlines, datelines and list items are lines, so they
are sentences of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conflict_spans.document import ends_with_abbreviation

_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int
    paragraph: int


def sentences(text: str) -> list[Sentence]:
    """Every sentence of ``text`` in order; together they cover every non-space character."""
    out: list[Sentence] = []
    paragraph = 0
    pos = 0
    for line in text.split("\n"):
        if not line.strip():
            paragraph += 1 if out and out[-1].paragraph == paragraph else 0
        else:
            start = 0
            for match in _END.finditer(line):
                if line[match.start()] == "." and match.end() - match.start() == 1 and ends_with_abbreviation(line[:match.start() + 1]):
                    continue
                _add(out, text, pos + start, pos + match.end(), paragraph)
                start = match.end()
            _add(out, text, pos + start, pos + len(line), paragraph)
        pos += len(line) + 1
    return out


def _add(out: list[Sentence], text: str, start: int, end: int, paragraph: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        out.append(Sentence(len(out), start, end, paragraph))


def sentence_index(sents: list[Sentence], offset: int) -> int:
    """The sentence that holds ``offset`` (the nearest one before it when it falls between sentences)."""
    lo, hi = 0, len(sents) - 1
    best = 0
    while lo <= hi:
        mid = (lo + hi) // 2
        if sents[mid].start <= offset:
            best = mid
            lo = mid + 1
        else:
            hi = mid - 1
    return best
