"""The selection metric of training and k-fold runs: strict entity-level P/R/F1.

A thin view of :func:`conflict_spans.scoring.strict_scores` (the evaluation's
scorer, tested against seqeval), keyed by document id and shaped as
``{label: {precision, recall, f1, support}, "micro": ..., "macro": ...}``.
"""

from __future__ import annotations

from typing import Sequence

from .document import Document
from .schema import LABEL_NAMES
from .scoring import strict_scores as _strict


def strict_scores(gold: Sequence[Document], pred: Sequence[Document]) -> dict[str, dict[str, float]]:
    pred_by_id = {d.id: d for d in pred}
    report = _strict([g.spans for g in gold], [pred_by_id[g.id].spans if g.id in pred_by_id else [] for g in gold], LABEL_NAMES)
    keep = ("precision", "recall", "f1", "support")
    out = {label: {k: v for k, v in report.per_label[label].to_dict().items() if k in keep} for label in LABEL_NAMES}
    out["micro"] = {k: v for k, v in report.micro.to_dict().items() if k in keep}
    out["macro"] = {**report.macro(), "support": report.micro.n_gold}
    return out
