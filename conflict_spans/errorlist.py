"""The list of a system's errors, for a person to review.

Each gold span is paired with at most one predicted span: first the one with
the same offsets, then the one that overlaps it most. A pair or a lone span
that is not a strict match is one error record:

- ``missed``: a gold span that no prediction touches;
- ``spurious``: a prediction that touches no gold span;
- ``wrong-label``: same offsets, another label;
- ``boundary``: same label, overlapping but other offsets;
- ``wrong-label-boundary``: overlapping, other offsets and another label.

Under strict scoring a ``boundary`` pair costs one missed and one spurious
span; it is listed once here because a reviewer fixes it once. Records carry
the document id, the offsets and text of both spans, and the context around
them. They are written as JSON Lines and Markdown, and as Label Studio tasks
(gold as the annotation, the system's output as the prediction).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .document import Document, Span

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


# ---- writers -------------------------------------------------------------------------

def records_to_jsonl(records: Sequence[ErrorRecord], texts: dict[str, str]) -> str:
    return "".join(json.dumps(r.to_dict(texts[r.doc_id]), ensure_ascii=False) + "\n" for r in records)


def _cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def records_to_markdown(records: Sequence[ErrorRecord], texts: dict[str, str], *, title: str = "Errors") -> str:
    counts = kind_counts(records)
    lines = [f"# {title}", "", f"{len(records)} errors: " + ", ".join(f"{k} {v}" for k, v in counts.items()), "",
             "Gold and predicted spans are given as `label [start, end) \"text\"`; the context marks the covered text with ⟦ ⟧.", ""]
    for kind in KINDS:
        rows = [r for r in records if r.kind == kind]
        if not rows:
            continue
        lines += [f"## {kind} ({len(rows)})", "", "| document | offsets | gold | predicted | context |", "|---|---|---|---|---|"]
        for r in rows:
            text = texts[r.doc_id]

            def show(span: Span | None) -> str:
                return "—" if span is None else _cell(f'{span.label} [{span.start}, {span.end}) "{text[span.start:span.end]}"')

            lines.append(f"| {_cell(r.doc_id)} | {r.start}–{r.end} | {show(r.gold)} | {show(r.pred)} | {_cell(r.context)} |")
        lines.append("")
    return "\n".join(lines)


# ---- Label Studio -------------------------------------------------------------------

def error_tasks(gold_docs: Sequence[Document], pred_docs: Sequence[Document], records: Sequence[ErrorRecord], *,
                model_version: str, labeling_config: str | None = None) -> list[dict[str, Any]]:
    """One Label Studio task per document with errors: gold as the annotation, the system's spans as the prediction.

    Results are shaped by :mod:`conflict_spans.labelstudio.results` with the tag
    names of ``labeling_config`` (XML; default: the config generated from the
    schema). ``data`` carries the document as the project's tasks do, plus the
    number and kinds of errors for filtering in Label Studio.
    """
    from .labelstudio.config import config_names, schema_names
    from .labelstudio.results import spans_to_annotation, spans_to_prediction
    from .labelstudio.tasks import document_to_task_data

    names = schema_names() if labeling_config is None else config_names(labeling_config)
    by_doc = Counter(r.doc_id for r in records)
    tasks = []
    for gold_doc, pred_doc in zip(gold_docs, pred_docs, strict=True):
        if gold_doc.id not in by_doc:
            continue
        kinds = kind_counts([r for r in records if r.doc_id == gold_doc.id])
        data = document_to_task_data(gold_doc, names)
        data.update(errors=by_doc[gold_doc.id], error_kinds=", ".join(f"{k} {v}" for k, v in kinds.items() if v))
        tasks.append({"data": data,
                      "annotations": [spans_to_annotation(gold_doc.spans, gold_doc.text, names)],
                      "predictions": [spans_to_prediction(pred_doc.spans, gold_doc.text, names, model_version)]})
    return tasks
