"""Character spans <-> tokens <-> IOB2 tags, for any HF fast tokenizer.

Tokens are grouped into words with the tokenizer's ``word_ids()``; a word's
extent is ``[first token start, last token end)`` from the offset mapping.
A span must start at a word start and end at a word end, or it is reported as
misaligned (never turned into ``O`` or dropped silently). The first token of
each word carries the word's tag; the other tokens get ``-100`` (ignored by
the loss), as in transformers' run_ner.

Characters that a tokenizer drops from its offsets (combining marks stripped
by an uncased normaliser) are handled by snapping: a decoded span's end is
extended over the combining marks that follow it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence

from conflict_spans.document import Document, Span
from conflict_spans.schema import OUTSIDE

IGNORE_INDEX = -100


class Word(NamedTuple):
    """A word of the tokenizer's ``word_ids()`` (a named tuple: tens of thousands are made per second at prediction)."""
    index: int  # word id from the tokenizer
    start: int
    end: int
    tokens: tuple[int, ...]  # token positions in the encoding


@dataclass
class Misaligned:
    doc_id: str
    span: Span
    text: str
    reason: str

    def format(self) -> str:
        return (f"record {self.doc_id!r}: {self.span.label} {self.text!r} [{self.span.start}, {self.span.end}) "
                f"does not fall on token boundaries ({self.reason}); debug with "
                f"conflict_spans.align.explain_alignment(tokenizer, text, start, end)")


@dataclass
class AlignmentReport:
    total_spans: int = 0
    misaligned: list[Misaligned] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.misaligned

    def summary(self) -> str:
        ids = sorted({m.doc_id for m in self.misaligned})
        return f"{len(self.misaligned)} of {self.total_spans} spans misaligned in {len(ids)} documents: {', '.join(ids)}"


def words_from_encoding(offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None]) -> list[Word]:
    """Group token positions into words with their character extents."""
    words: dict[int, list[int]] = {}
    for pos, (wid, (s, e)) in enumerate(zip(word_ids, offsets)):
        if wid is not None and e > s:
            if wid in words:
                words[wid].append(pos)
            else:
                words[wid] = [pos]
    out = [Word(wid, offsets[positions[0]][0], max([offsets[p][1] for p in positions]), tuple(positions)) for wid, positions in words.items()]
    out.sort(key=lambda w: (w.start, w.end))
    return out


def _snap_end(text: str, end: int) -> int:
    while end < len(text) and unicodedata.category(text[end]).startswith("M"):
        end += 1
    return end


def spans_to_word_tags(text: str, spans: Sequence[Span], words: Sequence[Word], doc_id: str = "") -> tuple[list[str], list[Misaligned]]:
    """IOB2 tag per word (in ``words`` order); spans that do not fit are returned, not dropped."""
    tags = [OUTSIDE] * len(words)
    starts = {w.start: i for i, w in enumerate(words)}
    ends = {_snap_end(text, w.end): i for i, w in enumerate(words)}
    ends.update({w.end: i for i, w in enumerate(words)})
    misaligned = []
    for span in sorted(spans):
        first = starts.get(span.start)
        last = ends.get(span.end)
        if first is None or last is None or last < first:
            reason = "start is not a token start" if first is None else "end is not a token end"
            misaligned.append(Misaligned(doc_id, span, text[span.start:span.end], reason))
            continue
        if any(tags[i] != OUTSIDE for i in range(first, last + 1)):
            misaligned.append(Misaligned(doc_id, span, text[span.start:span.end], "overlaps another span"))
            continue
        tags[first] = f"B-{span.label}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{span.label}"
    return tags, misaligned


def word_tags_to_spans(text: str, tags: Sequence[str], words: Sequence[Word], scores: Sequence[float] | None = None) -> list[Span]:
    """Decode IOB2 word tags to character spans (an ``I-`` without a ``B-`` opens a span, as conlleval does)."""
    spans: list[Span] = []
    current: tuple[int, int, str] | None = None  # (first word, last word, label)

    def close() -> None:
        if current is None:
            return
        first, last, label = current
        score = None
        if scores is not None:
            score = sum(scores[first:last + 1]) / (last - first + 1)
        spans.append(Span(words[first].start, _snap_end(text, words[last].end), label, None, score))

    for i, tag in enumerate(tags):
        if tag == OUTSIDE or tag is None:
            close()
            current = None
            continue
        prefix, label = tag.split("-", 1)
        if prefix == "B" or current is None or current[2] != label:
            close()
            current = (i, i, label)
        else:
            current = (current[0], i, label)
    close()
    return spans


def align_corpus(tokenizer: Any, docs: Sequence[Document]) -> AlignmentReport:
    report = AlignmentReport()
    for doc in docs:
        enc = tokenizer(doc.text, return_offsets_mapping=True)
        words = words_from_encoding(enc["offset_mapping"], enc.word_ids())
        _, bad = spans_to_word_tags(doc.text, doc.spans, words, doc.id)
        report.total_spans += len(doc.spans)
        report.misaligned += bad
    return report


def explain_alignment(tokenizer: Any, text: str, start: int, end: int) -> str:
    """Show the tokens around ``[start, end)`` with their offsets, to debug a misaligned span."""
    enc = tokenizer(text, return_offsets_mapping=True)
    rows = []
    for tok, (s, e), wid in zip(enc.tokens(), enc["offset_mapping"], enc.word_ids()):
        if e > start - 20 and s < end + 20 and e > s:
            mark = "*" if s < end and e > start else " "
            rows.append(f"{mark} {tok!r:>16} [{s}, {e}) word {wid} {text[s:e]!r}")
    return f"span {text[start:end]!r} [{start}, {end})\n" + "\n".join(rows)
