"""What every audit check returns: finding types, ``Finding``, and the words and sentences of a document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conflict_spans.document import Document, Span
from conflict_spans.words import word_offsets

CONTEXT_CHARS = 60

# ---- finding types ---------------------------------------------------------------------------

# kind -> (family, rule, what it means); the order is the order of every report.
FINDING_TYPES: dict[str, tuple[str, str, str]] = {
    "label-conflict": ("consistency", "G2-T4", "the same string takes different labels between the same neighbouring words"),
    "unlabelled-occurrence": ("consistency", "§11", "the string is a span elsewhere between the same neighbouring words, but plain here"),
    "leading-determiner": ("rules", "G3", "the span starts with an article or possessive (a/an/one count only in CASUALTY)"),
    "leading-quantifier": ("rules", "R18", "both/all/each/every/one before a party or source noun stays outside"),
    "direction-outside": ("rules", "R7", "a direction adjective directly before a place name belongs inside the LOCATION"),
    "trailing-extension": ("rules", "L2-R6", "a lower-case extension or unit noun (area, region, province ...) is inside a LOCATION"),
    "bare-direction": ("rules", "L1", "a bare direction or description (the north-west, the far north) is not a LOCATION"),
    "nationality-alone": ("rules", "A2-L4", "a nationality adjective alone is never a span"),
    "casualty-no-number": ("rules", "C1-C4", "a CASUALTY span has no digit or number word"),
    "casualty-extent": ("rules", "C5-D2-R10-R11", "a CASUALTY span leaves out an approximation, range or victim noun, or takes in the verb or 'of them'"),
    "weapon-agent-unlabelled": ("rules", "A3-R2", "a weapon that is the agent of an attack verb is not marked ACTOR"),
    "attribution-no-cue": ("rules", "T", "no saying cue in the sentence of an ATTRIBUTION span"),
    "sayer-not-attribution": ("rules", "T2-R3", "the subject of a saying verb, or the object of 'according to', is not ATTRIBUTION"),
    "withheld-saying": ("rules", "R3-9.2", "the subject of 'did not respond', 'declined to comment' ... is not ATTRIBUTION"),
    "description-before-name": ("rules", "R19-A4", "a non-title description before a name is inside the span"),
    "apposition-modifier": ("rules", "G9", "a name that only modifies the noun of an apposition is a span"),
    "casualty-quantifier": ("rules", "R18-W8", "all/both/each/the before a count stays outside the CASUALTY span"),
    "weapon-not-agent": ("rules", "A3-W7", "a weapon marked ACTOR is not the subject or 'by'-agent of an attack verb"),
    "negated-mention": ("rules", "B3", "a party or source span right after 'no', 'any' or 'nobody': a negated mention refers to no party"),
    "group-party-unlabelled": ("rules", "A1-B4", "'armed groups', 'rebel groups' ... left plain: a descriptive mention of parties is ACTOR"),
    "provenance-named-speaker": ("provenance", "P1", "a quotation whose source is a personal name: the speaker must be invented or unnamed (record the verdict in corpus/provenance_review.tsv)"),
    "provenance-official-text": ("provenance", "P2", "an official genre or title line: the issuer must be an invented body, or the text a report about a real one (record the verdict)"),
    "missed": ("predictions", "", "gold span that no prediction touches"),
    "spurious": ("predictions", "", "predicted span that touches no gold span"),
    "wrong-label": ("predictions", "", "same offsets, another label"),
    "boundary": ("predictions", "", "same label, other offsets"),
    "wrong-label-boundary": ("predictions", "", "overlapping, other offsets and another label"),
}


@dataclass
class Finding:
    kind: str
    doc_id: str
    start: int
    end: int
    text: str
    label: str | None  # the gold label of the span concerned (None: plain text)
    message: str
    context: str = ""
    score: float | None = None  # model score, for prediction findings
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        family, rule, _ = FINDING_TYPES[self.kind]
        out = {"kind": self.kind, "family": family, "rule": rule, "doc_id": self.doc_id, "start": self.start, "end": self.end,
               "text": self.text, "label": self.label, "message": self.message, "context": self.context}
        if self.score is not None:
            out["score"] = round(float(self.score), 6)
        if self.details:
            out["details"] = self.details
        return out


def context_of(text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> str:
    """The text around ``[start, end)`` on one line, the range itself between ⟦ and ⟧."""
    snippet = f"{text[max(0, start - width):start]}⟦{text[start:end]}⟧{text[end:end + width]}"
    return " ".join(snippet.split())


# ---- words and sentences ----------------------------------------------------------------------

class Words:
    """The words of one document (conflict_spans.words) with lookups by character offset."""

    def __init__(self, text: str):
        self.text = text
        self.offsets = word_offsets(text)
        self.lower = [text[s:e].lower() for s, e in self.offsets]
        self.index_at_start = {s: i for i, (s, _) in enumerate(self.offsets)}
        self.index_at_end = {e: i for i, (_, e) in enumerate(self.offsets)}

    def span_words(self, span: Span) -> tuple[int, int] | None:
        """Word indices ``[first, last]`` of a span that starts and ends on word edges."""
        first, last = self.index_at_start.get(span.start), self.index_at_end.get(span.end)
        return None if first is None or last is None else (first, last)

    def word(self, i: int) -> str:
        return self.text[slice(*self.offsets[i])] if 0 <= i < len(self.offsets) else ""

    def lower_at(self, i: int) -> str:
        return self.lower[i] if 0 <= i < len(self.lower) else ""

    def before(self, start: int) -> str:
        """The word (or punctuation mark) just before offset ``start``; '' at the start."""
        i = self.index_at_start.get(start)
        return self.lower_at(i - 1) if i is not None and i > 0 else ""

    def after(self, end: int) -> str:
        i = self.index_at_end.get(end)
        return self.lower_at(i + 1) if i is not None else ""


_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s)|\n")
_NOT_SENTENCE_END = re.compile(r"(?:\b(?:[A-Za-z]\.){2,}|\b(?:Gen|Lt|Col|Brig|Maj|Capt|Sgt|Cpl|Adm|Cmdr|Mr|Mrs|Ms|Dr|St|Gov|Sen|Rep|Pres|No|Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec|Mt|approx|vs|etc|[A-Z])\.)[\"'”’)]*$")


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Sentences as ``[start, end)``: split at line breaks and at . ! ? before a space.

    A full stop after an abbreviation (U.S., Gen.) or inside “curly quotes” does
    not end a sentence, so a quoted first-person sayer stays with its “he said”.
    """
    bounds: list[tuple[int, int]] = []
    start = 0
    depth = 0
    quote_at = {i: (1 if ch == "“" else -1) for i, ch in enumerate(text) if ch in "“”"}
    cursor = 0
    for m in _SENTENCE_END.finditer(text):
        for i in range(cursor, m.start()):
            depth = max(0, depth + quote_at.get(i, 0))
        cursor = m.start()
        if m.group() != "\n":
            if depth > 0 or _NOT_SENTENCE_END.search(text[max(start, m.start() - 12):m.end()]):
                continue
        else:
            depth = 0
        bounds.append((start, m.end()))
        start = m.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return [(s, e) for s, e in bounds if text[s:e].strip()]


def sentence_of(bounds: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for s, e in bounds:
        if s <= pos < e:
            return s, e
    return 0, 0



def covered(spans: Sequence[Span]) -> list[tuple[int, int]]:
    return sorted((s.start, s.end) for s in spans)


def inside_any(start: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in ranges)



def in_apposition(doc: Document, words: Words, first: int) -> bool:
    """True when word ``first`` opens (after an article) an apposition to a span: "<span>, a spokesman"."""
    k = first - 1
    if words.lower_at(k) in ("a", "an", "the"):
        k -= 1
    if words.lower_at(k) != "," or k < 1:
        return False
    return any(s.end == words.offsets[k - 1][1] for s in doc.spans)
