"""Strict entity-level P/R/F1 over character spans (the selection metric of training).

A predicted span is correct when its start, end and label all equal a gold
span's (seqeval's strict IOB2 mode, zero_division=0). The full evaluation
(nervaluate schemes, confidence intervals, error lists) lives in ``scoring``.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from .document import Document
from .schema import LABEL_NAMES


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "support": n_gold}


def strict_scores(gold: Sequence[Document], pred: Sequence[Document]) -> dict[str, dict[str, float]]:
    pred_by_id = {d.id: d for d in pred}
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for g in gold:
        p = pred_by_id.get(g.id)
        gset = {(s.start, s.end, s.label) for s in g.spans}
        pset = {(s.start, s.end, s.label) for s in p.spans} if p else set()
        for _, _, label in gset:
            n_gold[label] += 1
        for _, _, label in pset:
            n_pred[label] += 1
        for _, _, label in gset & pset:
            tp[label] += 1
    out = {label: _prf(tp[label], n_pred[label], n_gold[label]) for label in LABEL_NAMES}
    out["micro"] = _prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    macro = {k: sum(out[label][k] for label in LABEL_NAMES) / len(LABEL_NAMES) for k in ("precision", "recall", "f1")}
    out["macro"] = {**macro, "support": out["micro"]["support"]}
    return out
