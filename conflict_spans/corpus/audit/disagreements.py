"""Where two annotations of the same documents differ: model predictions against gold, or two annotators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conflict_spans import problems as catalogue
from conflict_spans.corpus.audit.findings import Finding, context_of
from conflict_spans.corpus.io import Located, duplicate_ids
from conflict_spans.document import Document
from conflict_spans.problems import CorpusError, Problem


def _unplaced(docs: Sequence[Document], name: str) -> list[Located]:
    """Documents handed over without a file: each is named by its position (``predictions #3``)."""
    return [(f"{name} #{i}", None, d) for i, d in enumerate(docs, start=1)]


def prediction_problems(gold: Sequence[Located], predictions: Sequence[Located], *, gold_source: str, source: str) -> list[Problem]:
    """Why predictions cannot be paired with gold by id; empty when they can.

    A duplicated id on either side (pairing by id would keep one of them), and
    a prediction for a document gold lacks, are errors: the two inputs do not
    belong together (when no prediction id matches, one problem says so instead
    of one per record). Gold documents without a prediction are not: the audit
    lists them. ``gold`` and ``predictions`` are (file, line, document) as the
    checked loader (``conflict_spans.corpus.io.load_documents``) returns them.
    """
    problems = duplicate_ids(gold) + duplicate_ids(predictions)
    gold_text = {d.id: d.text for _, _, d in gold}
    foreign = [(file, line, d) for file, line, d in predictions if d.id not in gold_text]
    if foreign and len(foreign) == len(predictions):
        return problems + [catalogue.predictions_unmatched(source, list(dict.fromkeys(d.id for _, _, d in foreign)), gold_source)]
    problems += [catalogue.prediction_not_in_gold(file, line, d.id, gold_source) for file, line, d in foreign]
    problems += [catalogue.prediction_text_mismatch(file, line, d.id, gold_source)
                 for file, line, d in predictions if d.id in gold_text and d.text != gold_text[d.id]]
    return problems


def prediction_findings(gold_docs: Sequence[Document], pred_docs: Sequence[Document]) -> tuple[list[Finding], list[str]]:
    """Where predictions disagree with gold, most confident first; returns findings and the gold ids with no prediction.

    Raises ``CorpusError`` when the predictions do not pair with gold (``prediction_problems``).
    """
    from conflict_spans.corpus.compare import error_records

    problems = prediction_problems(_unplaced(gold_docs, "gold"), _unplaced(pred_docs, "predictions"), gold_source="documents", source="predictions")
    if problems:
        raise CorpusError(problems)
    pred_by_id = {d.id: d for d in pred_docs}
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


def agreement_report(first: Sequence[Document], second: Sequence[Document], *, first_source: str = "first", second_source: str = "second") -> dict[str, Any]:
    """``pairwise_agreement`` on the documents both sides annotated, plus every disagreement.

    Documents on one side only are listed (``only_a``, ``only_b``); two sides
    with no document in common raise ``CorpusError``: there is nothing to compare.
    """
    from conflict_spans.corpus.agreement import pairwise_agreement

    common = {d.id for d in first} & {d.id for d in second}
    if not common:
        raise CorpusError(catalogue.agreement_unmatched(first_source, second_source, sorted({d.id for d in first}), sorted({d.id for d in second})))
    result = pairwise_agreement(list(first), list(second))
    a = [d for d in first if d.id in common]
    b = [d for d in second if d.id in common]
    items = disagreements(a, b)
    result["first_only_documents"] = len({d.id for d in first} - common)
    result["disagreements"] = {"counts": {k: sum(1 for d in items if d["kind"] == k) for k in DISAGREEMENT_KINDS}, "items": items}
    return result
