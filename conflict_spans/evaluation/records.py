"""Casualty records scored in the evaluation run: links, restatement groups and count normalisation.

- Links, per relation type and micro, with **gold spans** (each linker reads
  the gold CASUALTY/ATTRIBUTION/LOCATION/ACTOR spans) and **end to end** (the
  linker reads our model's predicted spans; a link counts only when both its
  spans match gold exactly and gold links them the same way).
- Links by the linker's score (gold spans): for each cut, how many links reach
  it and their precision, so that an analyst can choose which links to check.
- Restatement groups, B-cubed over the gold CASUALTY spans (gold spans).
- Count normalisation against the hand-written gold figures
  (``corpus/counts_gold.tsv``): best value exact, and range agreement (low and
  high both equal).

Every figure has a percentile interval from the same document resamples and
seed as the span scores (:mod:`conflict_spans.evaluation.bootstrap`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from conflict_spans.document import Document
from conflict_spans.evaluation.bootstrap import DEFAULT_CONFIDENCE, _f1_from_totals, _interval, resample_weights
from conflict_spans.records.counts import normalise
from conflict_spans.records.gold_counts import read_gold_counts
from conflict_spans.records.scoring import bcubed_counts, link_counts, link_key, prf
from conflict_spans.schema import RELATION_NAMES


def _link_table(gold_docs: Sequence[Document], predicted: Sequence[list], weights: np.ndarray, confidence: float) -> dict[str, Any]:
    counts = np.array([[link_counts(g.relations, p)[t] for t in RELATION_NAMES] for g, p in zip(gold_docs, predicted)], dtype=np.int64).reshape(len(gold_docs), len(RELATION_NAMES), 3)
    micro, _, per_type = _f1_from_totals(np.einsum("rd,dlk->rlk", weights, counts))
    totals = counts.sum(axis=0)
    out: dict[str, Any] = {}
    for i, t in enumerate(RELATION_NAMES):
        score = prf(*(int(v) for v in totals[i]))
        score["f1_interval"] = _interval(score["f1"], per_type[:, i], confidence).to_dict()
        out[t] = score
    score = prf(*(int(v) for v in totals.sum(axis=0)))
    score["f1_interval"] = _interval(score["f1"], micro, confidence).to_dict()
    out["micro"] = score
    return out


SCORE_CUTS = (0.5, 0.7, 0.9)


def _by_score(gold_docs: Sequence[Document], predicted: Sequence[list]) -> dict[str, Any]:
    """Per relation type, the links whose score reaches each of ``SCORE_CUTS``: how many, their precision and their recall
    of all gold links of the type (links without a score, the rule linker's, are left out; so are types with none).
    A link is right as ``link_counts`` counts it (``link_key``)."""
    scored: dict[str, list[tuple[bool, float]]] = {t: [] for t in RELATION_NAMES}
    gold: Counter = Counter()
    for doc, links in zip(gold_docs, predicted):
        keys = {link_key(r) for r in doc.relations}
        gold.update(key[3] for key in keys)
        scored_keys = {link_key(r): r.score for r in links if r.score is not None and r.type in scored}
        for key, score in scored_keys.items():
            scored[key[3]].append((key in keys, score))
    out: dict[str, Any] = {}
    for t, pairs in scored.items():
        if not pairs:
            continue
        rows = []
        for cut in (0.0, *SCORE_CUTS):
            kept = [right for right, score in pairs if score >= cut]
            rows.append({"min_score": cut, "links": len(kept), "share": len(kept) / len(pairs), "right": sum(kept),
                         "precision": sum(kept) / len(kept) if kept else None, "recall": sum(kept) / gold[t] if gold[t] else None})
        out[t] = {"gold": gold[t], "scored_links": len(pairs), "cuts": rows}
    return out


def _bcubed(gold_docs: Sequence[Document], predicted: Sequence[list], weights: np.ndarray, confidence: float) -> dict[str, Any]:
    per_doc = np.array([bcubed_counts([s for s in g.spans if s.label == "CASUALTY"], g.relations, p) for g, p in zip(gold_docs, predicted)], dtype=float)
    if per_doc.size == 0:
        per_doc = np.zeros((0, 3))
    totals = weights @ per_doc
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(totals[:, 2] > 0, totals[:, 0] / totals[:, 2], 0.0)
        r = np.where(totals[:, 2] > 0, totals[:, 1] / totals[:, 2], 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    n = per_doc[:, 2].sum()
    point_p = per_doc[:, 0].sum() / n if n else 0.0
    point_r = per_doc[:, 1].sum() / n if n else 0.0
    point_f = 2 * point_p * point_r / (point_p + point_r) if point_p + point_r else 0.0
    return {"precision": point_p, "recall": point_r, "f1": point_f, "mentions": int(n), "f1_interval": _interval(point_f, f, confidence).to_dict()}


def score_counts(gold_docs: Sequence[Document], gold_counts_path: Path, weights: np.ndarray, confidence: float = DEFAULT_CONFIDENCE,
                 all_docs: Sequence[Document] | None = None) -> dict[str, Any]:
    """``counts.normalise`` on every gold CASUALTY span of ``gold_docs`` that has a hand-written gold figure
    (the file is checked against ``all_docs``, the whole corpus, whose spans it must name)."""
    gold = read_gold_counts(gold_counts_path, list(all_docs if all_docs is not None else gold_docs))
    per_doc = np.zeros((len(gold_docs), 3), dtype=np.int64)  # rows, best exact, range agrees
    misses = []
    for d, doc in enumerate(gold_docs):
        for span in sorted(doc.spans):
            row = gold.get((doc.id, span.start, span.end))
            if row is None:
                continue
            count = normalise(span.text_in(doc.text))
            per_doc[d] += (1, int(count.best == row.best), int((count.low, count.high) == (row.low, row.high)))
            if count.best != row.best or (count.low, count.high) != (row.low, row.high):
                misses.append({"doc_id": doc.id, "text": span.text_in(doc.text), "gold": [row.low, row.best, row.high],
                               "normalised": [count.low, count.best, count.high], "rule": count.rule})
    totals = weights @ per_doc
    drawn = totals[:, 0] > 0
    n = int(per_doc[:, 0].sum())
    out: dict[str, Any] = {"spans": n, "gold_file": gold_counts_path.name, "misses": misses}
    for key, column in (("best_exact", 1), ("range_agreement", 2)):
        point = per_doc[:, column].sum() / n if n else None
        out[key] = {"correct": int(per_doc[:, column].sum()), "accuracy": point,
                    "interval": None if point is None else _interval(point, totals[drawn, column] / totals[drawn, 0], confidence).to_dict()}
    return out


def score_records(gold_docs: Sequence[Document], linkers: Mapping[str, Any], *, predicted_docs: Sequence[Document] | None = None,
                  gold_counts_path: Path | None = None, default_linker: str = "rule", n_resamples: int, seed: int,
                  confidence: float = DEFAULT_CONFIDENCE, linker_info: dict[str, Any] | None = None,
                  all_docs: Sequence[Document] | None = None) -> dict[str, Any]:
    weights = resample_weights(len(gold_docs), n_resamples, seed)
    out: dict[str, Any] = {"default_linker": default_linker, "linkers": {}, "documents": len(gold_docs),
                           "gold_links": {t: sum(1 for d in gold_docs for r in d.relations if r.type == t) for t in RELATION_NAMES},
                           "n_resamples": n_resamples, "seed": seed, "confidence": confidence, "unit": "document"}
    for name, linker in linkers.items():
        on_gold = [linker.link(d) for d in gold_docs]
        result = {"gold_spans": _link_table(gold_docs, on_gold, weights, confidence), "groups_bcubed": _bcubed(gold_docs, on_gold, weights, confidence)}
        by_score = _by_score(gold_docs, on_gold)
        if by_score:
            result["by_score"] = by_score
        if predicted_docs is not None:
            result["end_to_end"] = _link_table(gold_docs, [linker.link(d) for d in predicted_docs], weights, confidence)
        out["linkers"][name] = result
    if gold_counts_path is not None and gold_counts_path.is_file():
        out["counts"] = score_counts(gold_docs, gold_counts_path, weights, confidence, all_docs)
        if not out["counts"]["spans"]:
            del out["counts"]  # no gold figures for this split
    if linker_info:
        out["linker_training"] = {k: linker_info[k] for k in ("documents", "default", "default_per_type", "validation_micro_f1", "validation_f1", "thresholds") if k in linker_info}
    return out
