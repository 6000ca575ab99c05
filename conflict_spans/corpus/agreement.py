"""Pairwise span agreement between two annotations of the same documents.

Two views per label and micro-averaged over labels:

- ``strict``: a span agrees when the other side has a span with the same
  label and the same ``[start, end)``.
- ``overlap``: a span agrees when the other side has a span with the same
  label whose range overlaps it by at least one character.

Precision is read from side A (agreeing A spans / A spans), recall from side B
(agreeing B spans / B spans); F1 is their harmonic mean. With B taken as the
reference these are the usual P/R/F1; swapping the sides swaps P and R, and F1
is symmetric. For strict matching both counts are the same number. A ratio with
a zero denominator is ``zero_division`` (0.0 by default, as in seqeval), and the
raw counts are always returned beside it.

Among strict matches of labels with a status (CASUALTY), ``status`` reports how
often the two sides chose the same status.

``links`` compares the relations (annotation/LINKS.md) per type, in two views:
``all`` counts every link, and a link agrees when the other side has a link of
the same type whose two ends are the same spans (strict: label and offsets);
``shared_spans`` counts only the links whose two ends both sides marked as
spans, so it measures the linking decision apart from span disagreement.
"""

from __future__ import annotations

from collections.abc import Iterable

from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import LABEL_NAMES, LABELS_WITH_STATUS, RELATION_NAMES, is_known_label

VIEWS = ("strict", "overlap")


def _ratio(num: int, den: int, zero_division: float) -> float:
    return num / den if den else zero_division


def _scores(agree_a: int, n_a: int, agree_b: int, n_b: int, zero_division: float) -> dict:
    p = _ratio(agree_a, n_a, zero_division)
    r = _ratio(agree_b, n_b, zero_division)
    if p + r:
        f1 = 2 * p * r / (p + r)
    else:
        f1 = zero_division if not (n_a or n_b) else 0.0
    return {"agree_a": agree_a, "n_a": n_a, "agree_b": agree_b, "n_b": n_b, "precision": p, "recall": r, "f1": f1}


def _overlapping(span: Span, others: Iterable[Span]) -> bool:
    return any(o.label == span.label and o.start < span.end and span.start < o.end for o in others)


def _by_id(docs: list[Document], side: str) -> dict[str, Document]:
    out: dict[str, Document] = {}
    problems: list[Problem] = []
    for doc in docs:
        if doc.id in out:
            problems.append(Problem("duplicate-id", f"document id occurs twice on side {side}", "give each side one annotation per document", record=doc.id, value=doc.id))
        out[doc.id] = doc
        for span in doc.spans:
            if not is_known_label(span.label):
                problems.append(Problem("unknown-label", f"unknown label on side {side}", f"use one of {', '.join(LABEL_NAMES)}; unknown labels are never dropped", record=doc.id, value=span.label))
    if problems:
        raise CorpusError(problems)
    return out


def pairwise_agreement(docs_a: list[Document], docs_b: list[Document], *, zero_division: float = 0.0) -> dict:
    """Per-label and micro strict/overlap P/R/F1 between two annotations of the same documents.

    Documents are paired by id; those on one side only are listed under
    ``only_a`` / ``only_b`` and left out of the counts. A pair whose texts differ
    raises ``CorpusError`` (the offsets would not be comparable).
    """
    a_by_id, b_by_id = _by_id(docs_a, "A"), _by_id(docs_b, "B")
    common = sorted(a_by_id.keys() & b_by_id.keys())
    mismatched = [doc_id for doc_id in common if a_by_id[doc_id].text != b_by_id[doc_id].text]
    if mismatched:
        raise CorpusError([Problem("text-mismatch", "the two sides have different texts for this document", "compare annotations of the same text", record=doc_id) for doc_id in mismatched])
    counts = {label: {view: [0, 0, 0, 0] for view in VIEWS} for label in LABEL_NAMES}  # agree_a, n_a, agree_b, n_b
    status_compared = status_agree = 0
    for doc_id in common:
        spans_a, spans_b = a_by_id[doc_id].spans, b_by_id[doc_id].spans
        keys_b = {(s.start, s.end, s.label): s for s in spans_b}
        keys_a = {(s.start, s.end, s.label) for s in spans_a}
        for s in spans_a:
            c = counts[s.label]
            c["strict"][1] += 1
            c["overlap"][1] += 1
            match = keys_b.get((s.start, s.end, s.label))
            if match is not None:
                c["strict"][0] += 1
                if s.label in LABELS_WITH_STATUS:
                    status_compared += 1
                    status_agree += int(s.status == match.status)
            if _overlapping(s, spans_b):
                c["overlap"][0] += 1
        for s in spans_b:
            c = counts[s.label]
            c["strict"][3] += 1
            c["overlap"][3] += 1
            c["strict"][2] += int((s.start, s.end, s.label) in keys_a)
            c["overlap"][2] += int(_overlapping(s, spans_a))
    links = _link_agreement([(a_by_id[d], b_by_id[d]) for d in common], zero_division)
    labels = {label: {view: _scores(*counts[label][view], zero_division) for view in VIEWS} for label in LABEL_NAMES}
    micro = {view: _scores(*(sum(counts[label][view][k] for label in LABEL_NAMES) for k in range(4)), zero_division) for view in VIEWS}
    return {
        "documents": len(common),
        "only_a": sorted(a_by_id.keys() - b_by_id.keys()),
        "only_b": sorted(b_by_id.keys() - a_by_id.keys()),
        "labels": labels,
        "micro": micro,
        "status": {"compared": status_compared, "agree": status_agree, "agreement": _ratio(status_agree, status_compared, zero_division)},
        # only when a side has links: a span-only study reads as it always has
        **({"links": links} if links["micro"]["all"]["n_a"] or links["micro"]["all"]["n_b"] else {}),
    }


LINK_VIEWS = ("all", "shared_spans")


def _link_key(rel) -> tuple:
    return (rel.head.start, rel.head.end, rel.head.label, rel.type, rel.tail.start, rel.tail.end, rel.tail.label)


def _link_agreement(pairs: list[tuple[Document, Document]], zero_division: float) -> dict:
    counts = {t: {view: [0, 0, 0, 0] for view in LINK_VIEWS} for t in RELATION_NAMES}
    for a, b in pairs:
        keys = {side: {_link_key(r) for r in doc.relations} for side, doc in (("a", a), ("b", b))}
        spans = {side: {(s.start, s.end, s.label) for s in doc.spans} for side, doc in (("a", a), ("b", b))}
        shared = spans["a"] & spans["b"]
        for side, other, agree_i, n_i in (("a", "b", 0, 1), ("b", "a", 2, 3)):
            for key in keys[side]:
                if key[3] not in counts:
                    continue
                c = counts[key[3]]
                hit = int(key in keys[other])
                c["all"][n_i] += 1
                c["all"][agree_i] += hit
                if key[:3] in shared and key[4:] in shared:
                    c["shared_spans"][n_i] += 1
                    c["shared_spans"][agree_i] += hit
    types = {t: {view: _scores(*counts[t][view], zero_division) for view in LINK_VIEWS} for t in RELATION_NAMES}
    micro = {view: _scores(*(sum(counts[t][view][k] for t in RELATION_NAMES) for k in range(4)), zero_division) for view in LINK_VIEWS}
    return {"types": types, "micro": micro}


def format_agreement(result: dict, *, title: str = "") -> str:
    """A plain-text table: one row per label and a micro row, strict and overlap P/R/F1."""
    head = f"{'label':<12} {'n_a':>5} {'n_b':>5} | {'strict P':>8} {'R':>6} {'F1':>6} | {'overlap P':>9} {'R':>6} {'F1':>6}"
    lines = [title] if title else []
    lines += [f"{result['documents']} documents compared", head, "-" * len(head)]
    rows = [(label, result["labels"][label]) for label in LABEL_NAMES] + [("micro", result["micro"])]
    for name, views in rows:
        s, o = views["strict"], views["overlap"]
        lines.append(f"{name:<12} {s['n_a']:>5} {s['n_b']:>5} | {s['precision']:>8.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} | {o['precision']:>9.3f} {o['recall']:>6.3f} {o['f1']:>6.3f}")
    st = result["status"]
    lines.append(f"CASUALTY status: {st['agree']}/{st['compared']} strict matches agree ({st['agreement']:.3f})")
    links = result.get("links")
    if links and (links["micro"]["all"]["n_a"] or links["micro"]["all"]["n_b"]):
        head = f"{'link type':<12} {'n_a':>5} {'n_b':>5} | {'all P':>8} {'R':>6} {'F1':>6} | {'shared P':>9} {'R':>6} {'F1':>6}"
        lines += ["", head, "-" * len(head)]
        for name, views in [(t, links["types"][t]) for t in RELATION_NAMES] + [("micro", links["micro"])]:
            s, o = views["all"], views["shared_spans"]
            lines.append(f"{name:<12} {s['n_a']:>5} {s['n_b']:>5} | {s['precision']:>8.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} | {o['precision']:>9.3f} {o['recall']:>6.3f} {o['f1']:>6.3f}")
        lines.append("shared = links whose two ends both sides marked as spans")
    if result["only_a"] or result["only_b"]:
        lines.append(f"not compared: {len(result['only_a'])} document(s) only in A, {len(result['only_b'])} only in B")
    return "\n".join(lines) + "\n"
