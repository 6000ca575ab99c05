"""Entity-level scores over character spans: pure functions, two views (STYLE 8).

Every function takes documents as parallel sequences of span lists (gold and
predicted, one list per document); a span is anything with ``start``, ``end``
(half-open character offsets) and ``label``, such as
:class:`conflict_spans.document.Span`.

- :func:`strict_scores`: precision, recall and F1 per label, micro and macro.
  A prediction counts only when its offsets and its label both equal a gold
  span's. On flat spans that start and end on words this equals seqeval's
  strict IOB2 entity score; ``zero_division`` is 0 throughout (a ratio with an empty
  denominator is 0, never a warning or NaN). The macro average runs over the
  labels that occur in gold or predictions, as seqeval and scikit-learn do.
- :func:`nervaluate_scores`: the four schemes of nervaluate 1.2.1 (strict,
  exact, partial, ent_type) with counts of correct, incorrect, partial,
  missed and spurious spans and the position of each. The greedy matching is
  nervaluate's, applied to each document's spans in (start, end, label) order;
  nervaluate counts inclusive ends, these functions take half-open ones.
- :func:`document_scores`: :func:`strict_scores` over documents matched by id,
  the selection metric of training (``metrics.json``) and k-fold runs.
- :func:`word_confusion`: gold against predicted label per word
  (:func:`conflict_spans.words.word_offsets`), ``O`` outside spans.

Both span views are checked against the reference libraries on generated
documents in ``tests/test_scoring.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from conflict_spans.document import Document
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import LABEL_NAMES, OUTSIDE
from conflict_spans.words import word_offsets


class SpanLike(Protocol):
    start: int
    end: int
    label: str


DocSpans = Sequence[SpanLike]
SCHEMES: tuple[str, ...] = ("strict", "exact", "partial", "ent_type")
CATEGORIES: tuple[str, ...] = ("correct", "incorrect", "partial", "missed", "spurious")


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or 0 when the denominator is 0 (zero_division=0)."""
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def _check_lengths(gold_docs: Sequence, pred_docs: Sequence) -> None:
    if len(gold_docs) != len(pred_docs):
        raise ValueError(f"{len(gold_docs)} gold documents but {len(pred_docs)} predicted ones; score parallel lists")


def _check_labels(docs: Sequence[DocSpans], labels: Sequence[str], side: str) -> None:
    known = set(labels)
    for i, spans in enumerate(docs):
        for span in spans:
            if span.label not in known:
                raise CorpusError(Problem("unknown-label", f"{side} span [{span.start}, {span.end}) has a label that is not scored",
                                          f"score with labels {', '.join(labels)} or map the label first (scoring.relabel); unknown labels are never dropped",
                                          record=f"{side} document #{i}", value=span.label))


def _key(span: SpanLike) -> tuple[int, int, str]:
    return (span.start, span.end, span.label)


# ---- strict P/R/F1 (seqeval view) ---------------------------------------------------

@dataclass(frozen=True)
class PRF:
    """Counts of one label (or of all, micro) and the ratios derived from them."""

    tp: int
    n_pred: int
    n_gold: int

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.n_pred)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.n_gold)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def to_dict(self) -> dict[str, float | int]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "support": self.n_gold, "predicted": self.n_pred, "tp": self.tp,
                "fp": self.n_pred - self.tp, "fn": self.n_gold - self.tp}


@dataclass(frozen=True)
class StrictReport:
    labels: tuple[str, ...]
    per_label: dict[str, PRF]
    micro: PRF

    @property
    def labels_in_use(self) -> tuple[str, ...]:
        """Labels with gold or predicted spans: the ones the macro average runs over."""
        return tuple(l for l in self.labels if self.per_label[l].n_gold or self.per_label[l].n_pred)

    def macro(self) -> dict[str, float]:
        used = [self.per_label[l] for l in self.labels_in_use]
        if not used:
            return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        return {"precision": sum(p.precision for p in used) / len(used),
                "recall": sum(p.recall for p in used) / len(used),
                "f1": sum(p.f1 for p in used) / len(used)}

    def to_dict(self) -> dict:
        return {"per_label": {l: self.per_label[l].to_dict() for l in self.labels},
                "micro": self.micro.to_dict(), "macro": self.macro(),
                "macro_over": list(self.labels_in_use), "zero_division": 0}


def strict_counts(gold_docs: Sequence[DocSpans], pred_docs: Sequence[DocSpans], labels: Sequence[str]) -> np.ndarray:
    """Per-document strict counts: an int array ``[document, label, (tp, n_pred, n_gold)]``.

    Spans are compared as sets of (start, end, label) per document, as seqeval
    compares its chunks; a repeated identical span counts once.
    """
    _check_lengths(gold_docs, pred_docs)
    _check_labels(gold_docs, labels, "gold")
    _check_labels(pred_docs, labels, "predicted")
    index = {label: i for i, label in enumerate(labels)}
    out = np.zeros((len(gold_docs), len(labels), 3), dtype=np.int64)
    for d, (gold, pred) in enumerate(zip(gold_docs, pred_docs)):
        gold_keys = {_key(s) for s in gold}
        pred_keys = {_key(s) for s in pred}
        for key in gold_keys & pred_keys:
            out[d, index[key[2]], 0] += 1
        for key in pred_keys:
            out[d, index[key[2]], 1] += 1
        for key in gold_keys:
            out[d, index[key[2]], 2] += 1
    return out


def report_from_counts(counts: np.ndarray, labels: Sequence[str]) -> StrictReport:
    """Sum per-document counts (as returned by :func:`strict_counts`) into a report."""
    totals = counts.sum(axis=0) if counts.ndim == 3 else counts
    per_label = {label: PRF(*(int(v) for v in totals[i])) for i, label in enumerate(labels)}
    micro = PRF(*(int(v) for v in totals.sum(axis=0)))
    return StrictReport(tuple(labels), per_label, micro)


def strict_scores(gold_docs: Sequence[DocSpans], pred_docs: Sequence[DocSpans], labels: Sequence[str]) -> StrictReport:
    return report_from_counts(strict_counts(gold_docs, pred_docs, labels), labels)


# ---- nervaluate's schemes --------------------------------------------------------------

@dataclass
class SchemeCounts:
    scheme: str
    correct: int = 0
    incorrect: int = 0
    partial: int = 0
    missed: int = 0
    spurious: int = 0

    @property
    def actual(self) -> int:
        return self.correct + self.incorrect + self.partial + self.spurious

    @property
    def possible(self) -> int:
        return self.correct + self.incorrect + self.partial + self.missed

    @property
    def _credit(self) -> float:
        # nervaluate gives half credit to partial matches in the partial and ent_type schemes.
        if self.scheme in ("partial", "ent_type"):
            return self.correct + 0.5 * self.partial
        return float(self.correct)

    @property
    def precision(self) -> float:
        return _ratio(self._credit, self.actual)

    @property
    def recall(self) -> float:
        return _ratio(self._credit, self.possible)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def add(self, other: SchemeCounts) -> None:
        for name in CATEGORIES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {name: getattr(self, name) for name in CATEGORIES}
        out.update(actual=self.actual, possible=self.possible, precision=self.precision, recall=self.recall, f1=self.f1)
        return out


@dataclass(frozen=True)
class Outcome:
    """One span's fate under a scheme: ``span`` is the predicted span, or the gold one when missed."""

    doc: int
    category: str
    span: SpanLike
    gold: SpanLike | None = None  # the gold span a correct/incorrect/partial prediction was matched to


@dataclass
class SchemeReport:
    scheme: str
    overall: SchemeCounts
    per_label: dict[str, SchemeCounts]
    outcomes: list[Outcome] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"overall": self.overall.to_dict(), "per_label": {l: c.to_dict() for l, c in self.per_label.items()}}


def overlap_percentage(pred: SpanLike, true: SpanLike) -> float:
    """How much of ``true`` (in %) ``pred`` covers; nervaluate's formula on half-open offsets."""
    if pred.start >= true.end or pred.end <= true.start:
        return 0.0
    # nervaluate computes (min(end) - max(start) + 1) / (end - start + 1) on inclusive ends: the same numbers.
    overlap_span = min(pred.end, true.end) - max(pred.start, true.start)
    true_span = true.end - true.start
    return (overlap_span / true_span) * 100.0


def _boundary_distance(pred: SpanLike, true: SpanLike) -> int:
    return abs(pred.start - true.start) + abs(pred.end - true.end)


def match_document(gold: Sequence[SpanLike], pred: Sequence[SpanLike], scheme: str, *,
                   min_overlap_percentage: float = 1.0, doc: int = 0) -> tuple[SchemeCounts, list[Outcome]]:
    """One document under one scheme, with nervaluate's greedy matching (predictions in list order)."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    counts = SchemeCounts(scheme)
    outcomes: list[Outcome] = []
    matched: set[int] = set()

    def enough(p: SpanLike, t: SpanLike) -> bool:
        return overlap_percentage(p, t) >= min_overlap_percentage

    for p in pred:
        hit: int | None = None  # gold index of a full match
        near: int | None = None  # first gold index of an overlap that is not a full match
        if scheme == "ent_type":
            best_distance: int | None = None
            for i, t in enumerate(gold):
                if i in matched or not enough(p, t):
                    continue
                if p.label == t.label:
                    distance = _boundary_distance(p, t)
                    if best_distance is None or distance < best_distance:
                        hit, best_distance = i, distance
                elif near is None:
                    near = i
        else:
            for i, t in enumerate(gold):
                if i in matched:
                    continue
                same_offsets = p.start == t.start and p.end == t.end
                if same_offsets and (scheme != "strict" or p.label == t.label):
                    hit = i
                    break
                if near is None and enough(p, t):
                    near = i
        if hit is not None:
            counts.correct += 1
            matched.add(hit)
            outcomes.append(Outcome(doc, "correct", p, gold[hit]))
        elif near is not None:
            category = "partial" if scheme == "partial" else "incorrect"
            setattr(counts, category, getattr(counts, category) + 1)
            matched.add(near)
            outcomes.append(Outcome(doc, category, p, gold[near]))
        else:
            counts.spurious += 1
            outcomes.append(Outcome(doc, "spurious", p))
    for i, t in enumerate(gold):
        if i not in matched:
            counts.missed += 1
            outcomes.append(Outcome(doc, "missed", t))
    return counts, outcomes


def _ordered(spans: Sequence[SpanLike]) -> list[SpanLike]:
    return sorted(spans, key=_key)


def nervaluate_scores(gold_docs: Sequence[DocSpans], pred_docs: Sequence[DocSpans], labels: Sequence[str], *,
                      min_overlap_percentage: float = 1.0, schemes: Sequence[str] = SCHEMES) -> dict[str, SchemeReport]:
    """nervaluate's overall and per-label counts for each scheme.

    Per-label counts come from matching each label's spans on their own, as
    nervaluate does, so a wrong-label prediction is spurious for its label and
    the gold span missed for its own. Every label in ``labels`` gets a row.
    """
    _check_lengths(gold_docs, pred_docs)
    _check_labels(gold_docs, labels, "gold")
    _check_labels(pred_docs, labels, "predicted")
    reports = {s: SchemeReport(s, SchemeCounts(s), {l: SchemeCounts(s) for l in labels}) for s in schemes}
    for d, (gold, pred) in enumerate(zip(gold_docs, pred_docs)):
        gold, pred = _ordered(gold), _ordered(pred)
        for scheme, report in reports.items():
            counts, outcomes = match_document(gold, pred, scheme, min_overlap_percentage=min_overlap_percentage, doc=d)
            report.overall.add(counts)
            report.outcomes += outcomes
            for label in labels:
                label_counts, _ = match_document([s for s in gold if s.label == label], [s for s in pred if s.label == label],
                                                 scheme, min_overlap_percentage=min_overlap_percentage, doc=d)
                report.per_label[label].add(label_counts)
    return reports


# ---- word-level confusion ------------------------------------------------------------

def word_labels(text: str, spans: Sequence[SpanLike]) -> list[str]:
    """The label of each word of ``text``: that of the first span it overlaps, else ``O``."""
    ordered = _ordered(spans)
    out = []
    for start, end in word_offsets(text):
        label = OUTSIDE
        for span in ordered:
            if span.start >= end:
                break
            if span.end > start:
                label = span.label
                break
        out.append(label)
    return out


def word_confusion(texts: Sequence[str], gold_docs: Sequence[DocSpans], pred_docs: Sequence[DocSpans],
                   labels: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Counts of words by (gold label, predicted label); axes are ``labels`` then ``O``."""
    _check_lengths(gold_docs, pred_docs)
    _check_lengths(texts, gold_docs)
    axis = (*labels, OUTSIDE)
    index = {label: i for i, label in enumerate(axis)}
    matrix = np.zeros((len(axis), len(axis)), dtype=np.int64)
    for text, gold, pred in zip(texts, gold_docs, pred_docs):
        for g, p in zip(word_labels(text, gold), word_labels(text, pred)):
            matrix[index[g], index[p]] += 1
    return matrix, axis


# ---- label views -----------------------------------------------------------------------

def relabel(docs: Sequence[DocSpans], mapping: Mapping[str, str | None]) -> list[list[SpanLike]]:
    """Spans with their labels mapped; a label mapped to ``None`` is left out on purpose.

    A label that ``mapping`` does not name is an error: a mapping file must
    decide about every label it may meet.
    """
    out: list[list[SpanLike]] = []
    for i, spans in enumerate(docs):
        mapped = []
        for span in spans:
            if span.label not in mapping:
                raise CorpusError(Problem("unknown-label", "the label mapping does not name this label",
                                          f"add it to the mapping file (to a label, or to null to leave it out on purpose); it names {', '.join(mapping)}",
                                          record=f"document #{i}", value=span.label))
            target = mapping[span.label]
            if target is not None:
                mapped.append(replace(span, label=target))
        out.append(mapped)
    return out


def document_scores(gold: Sequence[Document], pred: Sequence[Document]) -> dict[str, dict[str, float]]:
    """The selection metric of training and k-fold runs: :func:`strict_scores` over documents matched by id, shaped as
    ``{label: {precision, recall, f1, support}, "micro": ..., "macro": ...}`` (a document with no prediction has no spans)."""
    pred_by_id = {d.id: d for d in pred}
    report = strict_scores([g.spans for g in gold], [pred_by_id[g.id].spans if g.id in pred_by_id else [] for g in gold], LABEL_NAMES)
    keep = ("precision", "recall", "f1", "support")
    out = {label: {k: v for k, v in report.per_label[label].to_dict().items() if k in keep} for label in LABEL_NAMES}
    out["micro"] = {k: v for k, v in report.micro.to_dict().items() if k in keep}
    out["macro"] = {**report.macro(), "support": report.micro.n_gold}
    return out
