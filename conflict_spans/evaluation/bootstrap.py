"""Bootstrap confidence intervals for strict F1, resampling documents.

Documents, not spans, are the unit of resampling: spans in one story are not
independent. Every system scored on the same documents with the same seed sees
the same resamples, so intervals are paired and the difference between two
systems gets an interval of its own (:func:`paired_difference`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conflict_spans.evaluation.scoring import DocSpans, strict_counts

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
