"""The audit itself (every finding of a corpus) and its reports: counts, Markdown, JSON, the agreement report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from conflict_spans.corpus.audit.consistency import consistency_findings
from conflict_spans.corpus.audit.disagreements import prediction_findings
from conflict_spans.corpus.audit.findings import FINDING_TYPES, Finding, Words, context_of
from conflict_spans.corpus.audit.rules import rule_findings
from conflict_spans.document import Document
from conflict_spans.schema import LABEL_NAMES

# ---- the report ----------------------------------------------------------------------------------

def provenance_findings(docs: Sequence[Document], review: dict[tuple[str, str, str], str]) -> list[Finding]:
    """P1/P2 cases with no verdict in the provenance review (conflict_spans.corpus.provenance)."""
    from conflict_spans.corpus.provenance import unresolved

    text_of = {d.id: d.text for d in docs}
    out = []
    for case in unresolved(list(docs), review):
        text = text_of[case.doc_id]
        out.append(Finding(f"provenance-{case.kind}", case.doc_id, case.start, case.end, case.name,
                           "ATTRIBUTION" if case.kind == "named-speaker" else None,
                           f"{case.note}; record a verdict (doc_id, kind, name, verdict, note) in corpus/provenance_review.tsv",
                           context_of(text, case.start, case.end)))
    return out


def audit(docs: Sequence[Document], predictions: Sequence[Document] | None = None,
          provenance_review: dict[tuple[str, str, str], str] | None = None) -> dict[str, Any]:
    """Every finding for ``docs``; with ``predictions``, also where they disagree with gold.

    ``provenance_review`` holds the verdicts already recorded for P1/P2 cases;
    cases without one are listed.
    """
    docs = sorted(docs, key=lambda d: d.id)
    # the checks read spans word by word; one off word edges escapes all of them, so it is listed instead
    not_checked = []
    for doc in docs:
        words = Words(doc.text)
        not_checked += [{"doc_id": doc.id, "start": s.start, "end": s.end, "label": s.label, "text": doc.text[s.start:s.end]}
                        for s in sorted(doc.spans) if words.span_words(s) is None]
    findings = consistency_findings(docs)
    for doc in docs:
        findings += rule_findings(doc)
    findings += provenance_findings(docs, provenance_review or {})
    order = {kind: i for i, kind in enumerate(FINDING_TYPES)}
    findings.sort(key=lambda f: (order[f.kind], f.doc_id, f.start))
    no_prediction: list[str] = []
    if predictions is not None:
        pred_findings, no_prediction = prediction_findings(docs, predictions)
        findings += pred_findings
    counts = Counter(f.kind for f in findings)
    kinds = [k for k in FINDING_TYPES if FINDING_TYPES[k][0] != "predictions" or predictions is not None]
    return {
        "documents": len(docs),
        "spans": sum(len(d.spans) for d in docs),
        "counts": {k: counts.get(k, 0) for k in kinds},
        "findings": findings,
        "documents_without_predictions": no_prediction,
        "spans_not_checked": not_checked,
    }


def _cell(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _not_checked_line(result: dict[str, Any]) -> str:
    spans = result.get("spans_not_checked") or []
    return (f"{len(spans)} span(s) do not start and end on word edges, so no check covers them (conflict-spans validate names the fix): "
            + ", ".join(f"{s['doc_id']} [{s['start']}, {s['end']}) {s['label']} {s['text']!r}" for s in spans))


def _ids(ids: list[str], shown: int = 10) -> str:
    return ", ".join(ids[:shown]) + (f", ... ({len(ids)} in all; the report lists every one)" if len(ids) > shown else "")


def format_counts(result: dict[str, Any]) -> str:
    width = max(len(k) for k in result["counts"])
    lines = [f"{result['documents']} documents, {result['spans']} spans: {sum(result['counts'].values())} findings to review"]
    lines += [f"  {kind:<{width}} {n:>5}   {FINDING_TYPES[kind][1]:<7} {FINDING_TYPES[kind][2]}" for kind, n in result["counts"].items()]
    if result["documents_without_predictions"]:
        lines.append(f"no prediction for {len(result['documents_without_predictions'])} document(s): {_ids(result['documents_without_predictions'])}")
    if result.get("spans_not_checked"):
        lines.append(_not_checked_line(result))
    return "\n".join(lines) + "\n"


def to_markdown(result: dict[str, Any]) -> str:
    lines = ["# Annotation audit", "",
             "A review list, not a verdict: check each item against the spec and annotation/GUIDELINES.md, fix the wrong side, leave correct ones.", "",
             f"{result['documents']} documents, {result['spans']} spans.", "",
             "| finding | family | rule | count | what it means |", "|---|---|---|---|---|"]
    for kind, n in result["counts"].items():
        family, rule, meaning = FINDING_TYPES[kind]
        lines.append(f"| {kind} | {family} | {rule} | {n} | {meaning} |")
    if result["documents_without_predictions"]:
        lines += ["", f"No prediction for {len(result['documents_without_predictions'])} document(s): " + ", ".join(result["documents_without_predictions"])]
    if result.get("spans_not_checked"):
        lines += ["", _cell(_not_checked_line(result)) + "."]
    for kind in result["counts"]:
        rows = [f for f in result["findings"] if f.kind == kind]
        if not rows:
            continue
        score_col = FINDING_TYPES[kind][0] == "predictions"
        lines += ["", f"## {kind} ({len(rows)})", "", FINDING_TYPES[kind][2] + ".", ""]
        lines += ["| document | offsets | label | text | " + ("score | " if score_col else "") + "note | context |",
                  "|---|---|---|---|" + ("---|" if score_col else "") + "---|---|"]
        for f in rows:
            score = (f"{f.score:.3f} | " if f.score is not None else "— | ") if score_col else ""
            lines.append(f"| {_cell(f.doc_id)} | {f.start}–{f.end} | {f.label or '—'} | {_cell(f.text)} | {score}{_cell(f.message)} | {_cell(f.context)} |")
    return "\n".join(lines) + "\n"


def to_json(result: dict[str, Any]) -> str:
    data = dict(result, findings=[f.to_dict() for f in result["findings"]])
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"



def agreement_markdown(result: dict[str, Any], *, first: str, second: str) -> str:
    from conflict_spans.corpus.agreement import format_agreement

    lines = ["# Inter-annotator agreement", "",
             f"First annotation: `{first}`; second annotation: `{second}`; {result['documents']} documents annotated by both.", "",
             f"Made with `conflict-spans audit {first} --agreement {second}` (`--format json` gives the same figures as JSON).", "",
             *([f"Not compared: {len(result['only_a'])} document(s) only in `{first}` ({', '.join(result['only_a']) or 'none'}); "
                f"{len(result['only_b'])} only in `{second}` ({', '.join(result['only_b']) or 'none'}).", ""] if result["only_a"] or result["only_b"] else []),
             "Strict: same label and the same `[start, end)`. Overlap: same label, at least one character in common. "
             "P is read from the first annotation, R from the second (the second as reference); F1 is symmetric.", "",
             "| label | spans (first) | spans (second) | strict P | strict R | strict F1 | overlap P | overlap R | overlap F1 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, views in [(label, result["labels"][label]) for label in LABEL_NAMES] + [("micro", result["micro"])]:
        s, o = views["strict"], views["overlap"]
        lines.append(f"| {name} | {s['n_a']} | {s['n_b']} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {o['precision']:.3f} | {o['recall']:.3f} | {o['f1']:.3f} |")
    st = result["status"]
    lines += ["", f"CASUALTY status: {st['agree']} of {st['compared']} strictly matching CASUALTY spans have the same status ({st['agreement']:.3f}).", ""]
    links = result.get("links")
    if links and (links["micro"]["all"]["n_a"] or links["micro"]["all"]["n_b"]):
        lines += ["## Links", "",
                  "A link agrees when the other side has a link of the same type between the same two spans (strict). "
                  "*All*: every link. *Shared spans*: only links whose two ends both annotators marked as spans, "
                  "which measures the linking decision apart from span disagreement.", "",
                  "| type | links (first) | links (second) | all P | all R | all F1 | shared P | shared R | shared F1 |", "|---|---|---|---|---|---|---|---|---|"]
        for name, views in [(t, links["types"][t]) for t in links["types"]] + [("micro", links["micro"])]:
            a, o = views["all"], views["shared_spans"]
            lines.append(f"| {name} | {a['n_a']} | {a['n_b']} | {a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} | {o['precision']:.3f} | {o['recall']:.3f} | {o['f1']:.3f} |")
        lines.append("")
    lines += ["## Disagreements", "", "| kind | count |", "|---|---|"]
    lines += [f"| {k} | {n} |" for k, n in result["disagreements"]["counts"].items()]
    lines += ["", "| document | kind | first | second | context |", "|---|---|---|---|---|"]

    def show(s):
        return "—" if s is None else _cell(f"{s['label']}{':' + s['status'] if s.get('status') else ''} {s['text']!r}")

    for d in result["disagreements"]["items"]:
        lines.append(f"| {d['doc_id']} | {d['kind']} | {show(d['first'])} | {show(d['second'])} | {_cell(d['context'])} |")
    lines += ["", "```", format_agreement(result).rstrip(), "```"]
    return "\n".join(lines) + "\n"
