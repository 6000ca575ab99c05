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
from typing import Any

from conflict_spans.corpus.compare import CONTEXT_CHARS, KINDS, ErrorRecord, classify, context_of, error_records, extent, kind_counts, pair_spans
from conflict_spans.document import Document, Span

__all__ = ["CONTEXT_CHARS", "KINDS", "ErrorRecord", "classify", "context_of", "error_records", "error_tasks", "extent", "kind_counts",
           "pair_spans", "records_to_jsonl", "records_to_markdown"]


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

    Results are shaped by :mod:`conflict_spans.annotation.labelstudio.results` with the tag
    names of ``labeling_config`` (XML; default: the config generated from the
    schema). ``data`` carries the document as the project's tasks do, plus the
    number and kinds of errors for filtering in Label Studio.
    """
    from conflict_spans.annotation.labelstudio.config import config_names, schema_names
    from conflict_spans.annotation.labelstudio.results import spans_to_annotation, spans_to_prediction
    from conflict_spans.annotation.labelstudio.tasks import document_to_task_data

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
