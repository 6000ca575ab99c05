"""Bootstrap confidence intervals for strict F1 and CASUALTY status accuracy, resampling documents.

Documents, not spans, are the unit of resampling: spans in one story are not
independent. Every system scored on the same documents with the same seed sees
the same resamples, so intervals are paired and the difference between two
systems gets an interval of its own (:func:`paired_difference`).
:func:`bootstrap_status_accuracy` draws the same resamples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conflict_spans.evaluation.scoring import DocSpans, strict_counts
from conflict_spans.schema import LABELS_WITH_STATUS

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 13
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    point: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"point": self.point, "low": self.low, "high": self.high}


def resample_weights(n_docs: int, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> np.ndarray:
    """How often each document is drawn in each resample: ``[resample, document]``."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_docs, size=(n_resamples, n_docs)) if n_docs else np.zeros((n_resamples, 0), dtype=np.int64)
    weights = np.zeros((n_resamples, n_docs), dtype=np.int64)
    rows = np.repeat(np.arange(n_resamples), n_docs)
    np.add.at(weights, (rows, draws.ravel()), 1)
    return weights


def _f1_from_totals(totals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Micro, macro and per-label F1 per resample from totals ``[resample, label, (tp, n_pred, n_gold)]`` (zero_division=0)."""
    tp, n_pred, n_gold = totals[..., 0].astype(float), totals[..., 1].astype(float), totals[..., 2].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # F1 = 2 tp / (n_pred + n_gold), which equals 2PR/(P+R) and is 0 when tp is 0.
        per_label = np.where(n_pred + n_gold > 0, 2 * tp / (n_pred + n_gold), 0.0)
        micro_den = n_pred.sum(-1) + n_gold.sum(-1)
        micro = np.where(micro_den > 0, 2 * tp.sum(-1) / micro_den, 0.0)
        in_use = (n_pred + n_gold) > 0
        n_used = in_use.sum(-1)
        macro = np.where(n_used > 0, (per_label * in_use).sum(-1) / np.maximum(n_used, 1), 0.0)
    return micro, macro, per_label


def _interval(point: float, samples: np.ndarray, confidence: float) -> Interval:
    alpha = (1 - confidence) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha]) if samples.size else (point, point)
    return Interval(float(point), float(low), float(high))


def bootstrap_f1(gold_docs: Sequence[DocSpans], pred_docs: Sequence[DocSpans], labels: Sequence[str], *,
                 n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                 confidence: float = DEFAULT_CONFIDENCE) -> dict:
    """Percentile intervals for strict micro F1, macro F1 and each label's F1."""
    counts = strict_counts(gold_docs, pred_docs, labels)
    weights = resample_weights(len(gold_docs), n_resamples, seed)
    totals = np.einsum("rd,dlk->rlk", weights, counts)
    micro, macro, per_label = _f1_from_totals(totals)
    p_micro, p_macro, p_label = _f1_from_totals(counts.sum(axis=0)[None])
    return {
        "micro_f1": _interval(p_micro[0], micro, confidence).to_dict(),
        "macro_f1": _interval(p_macro[0], macro, confidence).to_dict(),
        "per_label_f1": {label: _interval(p_label[0, i], per_label[:, i], confidence).to_dict() for i, label in enumerate(labels)},
        "n_resamples": n_resamples, "seed": seed, "confidence": confidence, "unit": "document", "n_documents": len(gold_docs),
    }


def paired_difference(gold_docs: Sequence[DocSpans], pred_a: Sequence[DocSpans], pred_b: Sequence[DocSpans],
                      labels: Sequence[str], *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                      confidence: float = DEFAULT_CONFIDENCE) -> dict:
    """Micro F1 of system A minus system B on the same resamples, and how often A does not beat B."""
    weights = resample_weights(len(gold_docs), n_resamples, seed)
    micro = []
    for pred in (pred_a, pred_b):
        counts = strict_counts(gold_docs, pred, labels)
        m, _, _ = _f1_from_totals(np.einsum("rd,dlk->rlk", weights, counts))
        p, _, _ = _f1_from_totals(counts.sum(axis=0)[None])
        micro.append((p[0], m))
    diff = micro[0][1] - micro[1][1]
    out = _interval(micro[0][0] - micro[1][0], diff, confidence).to_dict()
    out["share_a_not_better"] = float((diff <= 0).mean()) if diff.size else 1.0
    return out


STATUS_NOT_PREDICTED = "no predicted span of a label with a status (CASUALTY) carries a status"


def status_predicted(pred_docs: Sequence[DocSpans]) -> bool:
    """Whether a system predicts the status attribute: some predicted CASUALTY span carries one."""
    return any(getattr(s, "status", None) is not None for spans in pred_docs for s in spans if s.label in LABELS_WITH_STATUS)


def status_counts(gold_docs: Sequence[DocSpans], pred_docs: Sequence[DocSpans]) -> np.ndarray:
    """Per-document ``[document, (matched, same status)]`` over spans of a label with a status (CASUALTY).

    A gold span is matched when a predicted span has its offsets and label; it
    has the same status when every predicted span at those offsets carries the
    gold status (a span predicted twice with two statuses counts as wrong).
    """
    if len(gold_docs) != len(pred_docs):
        raise ValueError(f"{len(gold_docs)} gold documents but {len(pred_docs)} predicted")
    out = np.zeros((len(gold_docs), 2), dtype=np.int64)
    for d, (gold, pred) in enumerate(zip(gold_docs, pred_docs)):
        predicted: dict[tuple[int, int, str], set[str | None]] = {}
        for s in pred:
            if s.label in LABELS_WITH_STATUS:
                predicted.setdefault((s.start, s.end, s.label), set()).add(getattr(s, "status", None))
        for key, status in {(s.start, s.end, s.label): getattr(s, "status", None) for s in gold if s.label in LABELS_WITH_STATUS}.items():
            if key in predicted:
                out[d, 0] += 1
                out[d, 1] += int(predicted[key] == {status})
    return out


def bootstrap_status_accuracy(gold_docs: Sequence[DocSpans], pred_docs: Sequence[DocSpans], *,
                              n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                              confidence: float = DEFAULT_CONFIDENCE) -> dict:
    """Status accuracy on matched CASUALTY spans, with a percentile interval over the resamples of :func:`bootstrap_f1`.

    ``{"predicted": False, "note": ...}`` for a system whose spans carry no
    status. Otherwise the counts, ``accuracy`` (None when no span matched) and
    its ``interval``; a resample that draws no matched span has no accuracy
    and is left out of the interval (``resamples_without_match`` counts them).
    """
    if not status_predicted(pred_docs):
        return {"predicted": False, "note": STATUS_NOT_PREDICTED}
    counts = status_counts(gold_docs, pred_docs)
    matched, same = (int(v) for v in counts.sum(axis=0))
    totals = resample_weights(len(gold_docs), n_resamples, seed) @ counts
    drawn = totals[:, 0] > 0
    point = same / matched if matched else None
    return {
        "predicted": True, "labels": sorted(LABELS_WITH_STATUS), "matched": matched, "same_status": same, "accuracy": point,
        "interval": None if point is None else _interval(point, totals[drawn, 1] / totals[drawn, 0], confidence).to_dict(),
        "resamples_without_match": int((~drawn).sum()),
        "n_resamples": n_resamples, "seed": seed, "confidence": confidence, "unit": "document", "n_documents": len(gold_docs),
    }
