"""Two annotations of the same texts, span by span: pairing, error kinds and records.

Each gold span is paired with at most one predicted span: first the one with
the same offsets, then the one that overlaps it most. A pair or a lone span
that is not a strict match is one record of kind ``missed``, ``spurious``,
``wrong-label``, ``boundary`` or ``wrong-label-boundary``. The evaluation's error
list (:mod:`conflict_spans.evaluation.errorlist`) and the audit's disagreements
(:mod:`conflict_spans.corpus.audit.disagreements`) both read them from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conflict_spans.document import Document, Span

KINDS: tuple[str, ...] = ("missed", "spurious", "wrong-label", "boundary", "wrong-label-boundary")
CONTEXT_CHARS = 60


@dataclass(frozen=True)
class ErrorRecord:
    doc_id: str
    kind: str
    gold: Span | None
    pred: Span | None
    context: str  # the text around the spans, with the part they cover between ⟦ and ⟧
    context_start: int  # offset of the context's first character in the document

    @property
    def start(self) -> int:
        return extent(self.gold, self.pred)[0]

    @property
    def end(self) -> int:
        return extent(self.gold, self.pred)[1]

    def to_dict(self, text: str) -> dict[str, Any]:
        def side(span: Span | None) -> dict[str, Any] | None:
            return None if span is None else span.to_dict(text)

        return {"doc_id": self.doc_id, "kind": self.kind, "start": self.start, "end": self.end,
                "gold": side(self.gold), "pred": side(self.pred),
                "gold_label": self.gold.label if self.gold else None, "pred_label": self.pred.label if self.pred else None,
                "context": self.context, "context_start": self.context_start}


def extent(gold: Span | None, pred: Span | None) -> tuple[int, int]:
    """The character range that a gold span, a predicted span or both cover."""
    spans = [s for s in (gold, pred) if s is not None]
    return min(s.start for s in spans), max(s.end for s in spans)


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def pair_spans(gold: Sequence[Span], pred: Sequence[Span]) -> list[tuple[Span | None, Span | None]]:
    """Every gold and predicted span exactly once: as a (gold, pred) pair or alone."""
    gold, pred = sorted(gold), sorted(pred)
    partner: dict[int, int] = {}  # pred index -> gold index
    used: set[int] = set()
    for p_i, p in enumerate(pred):
        for g_i, g in enumerate(gold):
            if g_i not in used and (g.start, g.end) == (p.start, p.end):
                partner[p_i] = g_i
                used.add(g_i)
                break
    for p_i, p in enumerate(pred):
        if p_i in partner:
            continue
        best = max((g_i for g_i, g in enumerate(gold) if g_i not in used and _overlap(g, p)),
                   key=lambda g_i: (_overlap(gold[g_i], p), -g_i), default=None)
        if best is not None:
            partner[p_i] = best
            used.add(best)
    pairs: list[tuple[Span | None, Span | None]] = [(gold[g_i], pred[p_i]) for p_i, g_i in partner.items()]
    pairs += [(None, p) for p_i, p in enumerate(pred) if p_i not in partner]
    pairs += [(g, None) for g_i, g in enumerate(gold) if g_i not in used]
    return sorted(pairs, key=lambda pair: extent(*pair))


def classify(gold: Span | None, pred: Span | None) -> str | None:
    """The error kind of a pair, or None for a strict match."""
    if pred is None:
        return "missed"
    if gold is None:
        return "spurious"
    same_offsets = (gold.start, gold.end) == (pred.start, pred.end)
    same_label = gold.label == pred.label
    if same_offsets:
        return None if same_label else "wrong-label"
    return "boundary" if same_label else "wrong-label-boundary"


def context_of(text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> tuple[str, int]:
    left = max(0, start - width)
    right = min(len(text), end + width)
    snippet = f"{text[left:start]}⟦{text[start:end]}⟧{text[end:right]}"
    return " ".join(snippet.split()), left


def error_records(gold_docs: Sequence[Document], pred_docs: Sequence[Document], *, context: int = CONTEXT_CHARS) -> list[ErrorRecord]:
    """Every error of ``pred_docs`` against ``gold_docs`` (parallel lists of the same documents)."""
    out: list[ErrorRecord] = []
    for gold_doc, pred_doc in zip(gold_docs, pred_docs, strict=True):
        for gold, pred in pair_spans(gold_doc.spans, pred_doc.spans):
            kind = classify(gold, pred)
            if kind is None:
                continue
            snippet, left = context_of(gold_doc.text, *extent(gold, pred), width=context)
            out.append(ErrorRecord(gold_doc.id, kind, gold, pred, snippet, left))
    return out


def kind_counts(records: Sequence[ErrorRecord]) -> dict[str, int]:
    counts = Counter(r.kind for r in records)
    return {kind: counts.get(kind, 0) for kind in KINDS}
