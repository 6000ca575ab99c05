"""Where two annotations of the same documents differ: model predictions against gold, or two annotators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conflict_spans.corpus.audit.findings import Finding, context_of
from conflict_spans.document import Document
from conflict_spans.problems import CorpusError, Problem


def prediction_findings(gold_docs: Sequence[Document], pred_docs: Sequence[Document]) -> tuple[list[Finding], list[str]]:
    """Where predictions disagree with gold, most confident first; returns findings and the gold ids with no prediction."""
    from conflict_spans.corpus.compare import error_records

    pred_by_id = {d.id: d for d in pred_docs}
    problems = [Problem("text-mismatch", "the prediction's text differs from the gold text", "predict on the corpus documents themselves (same text, same offsets)", record=g.id)
                for g in gold_docs if g.id in pred_by_id and pred_by_id[g.id].text != g.text]
    if problems:
        raise CorpusError(problems)
    pairs = [(g, pred_by_id[g.id]) for g in gold_docs if g.id in pred_by_id]
    missing = sorted(g.id for g in gold_docs if g.id not in pred_by_id)
    out = []
    for rec in error_records([g for g, _ in pairs], [p for _, p in pairs]):
        gold_doc = next(g for g, _ in pairs if g.id == rec.doc_id)
        text = gold_doc.text
        g, p = rec.gold, rec.pred
        show = lambda s: "—" if s is None else f"{s.label} {text[s.start:s.end]!r}"  # noqa: E731
        out.append(Finding(rec.kind, rec.doc_id, rec.start, rec.end, text[rec.start:rec.end], g.label if g else None,
                           f"gold {show(g)}; predicted {show(p)}", context_of(text, rec.start, rec.end),
                           score=p.score if p is not None else None,
                           details={"gold": g.to_dict(text) if g else None, "pred": p.to_dict(text) if p else None}))
    out.sort(key=lambda f: (f.score is None, -(f.score or 0.0), f.doc_id, f.start))
    return out, missing



# ---- inter-annotator agreement -------------------------------------------------------------------

def disagreements(first: Sequence[Document], second: Sequence[Document]) -> list[dict[str, Any]]:
    """Every span on which two annotations of the same documents differ, paired as in errorlist.

    Kinds: ``only-first`` / ``only-second`` (the other side has nothing there),
    ``label``, ``boundary``, ``label-boundary`` and ``status`` (same span, other CASUALTY status).
    """
    from conflict_spans.corpus.compare import classify, pair_spans

    kinds = {"missed": "only-first", "spurious": "only-second", "wrong-label": "label", "boundary": "boundary", "wrong-label-boundary": "label-boundary"}
    second_by_id = {d.id: d for d in second}
    out = []
    for a in sorted(first, key=lambda d: d.id):
        b = second_by_id.get(a.id)
        if b is None:
            continue
        for s1, s2 in pair_spans(a.spans, b.spans):
            kind = classify(s1, s2)
            if kind is None:
                if s1.status != s2.status:
                    kind = "status"
                else:
                    continue
            else:
                kind = kinds[kind]
            start = min(s.start for s in (s1, s2) if s is not None)
            end = max(s.end for s in (s1, s2) if s is not None)
            out.append({"doc_id": a.id, "kind": kind, "start": start, "end": end,
                        "first": s1.to_dict(a.text) if s1 else None, "second": s2.to_dict(a.text) if s2 else None,
                        "context": context_of(a.text, start, end)})
    return out


DISAGREEMENT_KINDS = ("only-first", "only-second", "label", "boundary", "label-boundary", "status")


def agreement_report(first: Sequence[Document], second: Sequence[Document]) -> dict[str, Any]:
    """``pairwise_agreement`` on the documents both sides annotated, plus every disagreement."""
    from conflict_spans.corpus.agreement import pairwise_agreement

    common = {d.id for d in first} & {d.id for d in second}
    a = [d for d in first if d.id in common]
    b = [d for d in second if d.id in common]
    result = pairwise_agreement(a, b)
    items = disagreements(a, b)
    result["first_only_documents"] = len({d.id for d in first} - common)
    result["disagreements"] = {"counts": {k: sum(1 for d in items if d["kind"] == k) for k in DISAGREEMENT_KINDS}, "items": items}
    return result
