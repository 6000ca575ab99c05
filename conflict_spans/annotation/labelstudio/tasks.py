"""Corpus documents <-> Label Studio tasks, and the policies that pick annotations on pull.

A task carries the document in ``data``: the text under the config's text key,
the document id under ``data.doc_id`` (this keys the task: pushing twice updates
or skips, never duplicates) and the metadata under ``data.meta``.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from conflict_spans import problems as catalogue
from conflict_spans.annotation.labelstudio.config import DOC_ID_DATA_KEY, META_DATA_KEY, ConfigNames
from conflict_spans.annotation.labelstudio.results import results_to_document
from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError, Problem

POLICIES = ("latest", "annotator", "all")


def text_document_id(text: str) -> str:
    """Id of a raw text pushed without one: stable across pushes, so pushing twice does not duplicate."""
    return "text-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def document_to_task_data(doc: Document, names: ConfigNames) -> dict[str, Any]:
    return {names.text_key: doc.text, DOC_ID_DATA_KEY: doc.id, META_DATA_KEY: doc.meta}


def task_doc_id(task: dict) -> str | None:
    value = (task.get("data") or {}).get(DOC_ID_DATA_KEY)
    return value if isinstance(value, str) and value else None


# ---- pull ----------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One annotation (or, when asked for, one draft) of a task."""

    kind: str  # "annotation" | "draft"
    id: int
    annotator: str
    updated_at: str
    result: Any
    cancelled: bool

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id} by {self.annotator}"


@dataclass(frozen=True)
class Pulled:
    annotator: str
    source: str  # e.g. "annotation 12"
    document: Document


@dataclass
class PullCounts:
    tasks: int = 0
    documents: int = 0
    skipped_excluded: int = 0  # was_cancelled annotations left out
    drafts_excluded: int = 0
    superseded: int = 0  # annotations the policy did not take (an older one, or another annotator's)
    unannotated: list[str] = field(default_factory=list)  # doc ids with no usable annotation
    by_others_only: list[str] = field(default_factory=list)  # --annotator: annotated, but not by them
    annotators: Counter = field(default_factory=Counter)
    rejected: list[dict] = field(default_factory=list)  # skip_invalid: one row per problem of an annotation (or task) set aside

    def summary(self, policy: str) -> list[str]:
        lines = [f"{self.tasks} tasks, {self.documents} documents pulled (policy {policy})"]
        if self.rejected:
            annotations = {(r["task"], r["annotation"]) for r in self.rejected}
            lines.append(f"{len(annotations)} annotation(s) or task(s) set aside with {len(self.rejected)} problem(s) (--skip-invalid): "
                         "their documents are not written; the report names each")
        if self.annotators:
            lines.append("annotators: " + ", ".join(f"{who} ({n})" for who, n in sorted(self.annotators.items())))
        if self.skipped_excluded:
            lines.append(f"{self.skipped_excluded} skipped (cancelled) annotation(s) excluded; --include-skipped takes them as annotations")
        if self.drafts_excluded:
            lines.append(f"{self.drafts_excluded} draft(s) excluded; --include-drafts takes them as annotations")
        if self.superseded:
            taken = {"latest": "the latest annotation of each task; --policy all takes every annotator's latest",
                     "annotator": "this annotator's latest annotation of each task",
                     "all": "each annotator's latest annotation of each task"}.get(policy, "one annotation per task")
            lines.append(f"{self.superseded} annotation(s) not taken: the policy takes {taken}")
        if self.unannotated:
            lines.append(f"{len(self.unannotated)} task(s) without a usable annotation, not written: {', '.join(self.unannotated[:10])}{' ...' if len(self.unannotated) > 10 else ''}")
        if self.by_others_only:
            lines.append(f"{len(self.by_others_only)} task(s) annotated only by others, not written: {', '.join(self.by_others_only[:10])}{' ...' if len(self.by_others_only) > 10 else ''}")
        return lines


def _annotator(value: Any, users: dict[int, str]) -> str:
    if isinstance(value, dict):
        return str(value.get("email") or f"user {value.get('id')}")
    if isinstance(value, int):
        return users.get(value, f"user {value}")
    return str(value) if value else "unknown"


def candidates(task: dict, users: dict[int, str], *, include_skipped: bool, include_drafts: bool, counts: PullCounts) -> list[Candidate]:
    out: list[Candidate] = []
    for ann in task.get("annotations") or []:
        cancelled = bool(ann.get("was_cancelled"))
        if cancelled and not include_skipped:
            counts.skipped_excluded += 1
            continue
        out.append(Candidate("annotation", ann.get("id"), _annotator(ann.get("completed_by"), users),
                             str(ann.get("updated_at") or ann.get("created_at") or ""), ann.get("result"), cancelled))
    for draft in task.get("drafts") or []:
        if not isinstance(draft, dict):  # an export without expanded drafts lists ids only
            counts.drafts_excluded += 1
            continue
        if not include_drafts:
            counts.drafts_excluded += 1
            continue
        out.append(Candidate("draft", draft.get("id"), _annotator(draft.get("user") or draft.get("created_by"), users),
                             str(draft.get("updated_at") or draft.get("created_at") or ""), draft.get("result"), False))
    return out


def _latest(cands: list[Candidate]) -> Candidate:
    return max(cands, key=lambda c: (c.updated_at, c.kind == "annotation", c.id or 0))


def pull_documents(
    tasks: list[dict],
    names: ConfigNames,
    users: dict[int, str],
    *,
    policy: str = "latest",
    annotator: str | None = None,
    include_skipped: bool = False,
    include_drafts: bool = False,
    id_prefix: str | None = None,
    skip_invalid: bool = False,
) -> tuple[list[Pulled], PullCounts]:
    """Turn exported tasks into documents, one per task (``latest``, ``annotator``) or per annotation (``all``).

    Raises ``CorpusError`` listing every problem (unknown label, offsets that
    disagree with the text, CASUALTY without status, overlaps, ...) so that
    nothing is written when anything would be lost. With ``skip_invalid`` an
    annotation with a problem is set aside instead, and so is a task with one
    (no text, no document id, a document id two tasks share): each problem
    becomes a row of ``counts.rejected`` (:func:`rejection`), and the policy
    does not fall back to an older annotation of that task, whose content the
    team has replaced. Errors in the request itself (an unknown ``annotator``)
    still raise.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, not {policy!r}")
    if policy == "annotator" and not annotator:
        raise ValueError("policy 'annotator' needs the annotator's email")
    counts = PullCounts(tasks=len(tasks))
    problems: list[Problem] = []
    task_problems: list[tuple[Problem, Any, str | None]] = []  # problems of a whole task: its id (ids, for a shared document id), document id
    out: list[Pulled] = []
    seen: dict[str, list] = defaultdict(list)
    all_annotators: set[str] = set()
    for task in sorted(tasks, key=lambda t: t.get("id") or 0):
        tid = task.get("id")
        data = task.get("data") or {}
        text = data.get(names.text_key)
        if not isinstance(text, str):
            task_problems.append((catalogue.task_without_text(tid, names.text_key), tid, task_doc_id(task)))
            continue
        doc_id = task_doc_id(task)
        if doc_id is None:
            if id_prefix is None:
                task_problems.append((catalogue.task_without_doc_id(tid, DOC_ID_DATA_KEY), tid, None))
                continue
            doc_id = f"{id_prefix}{tid}"
        seen[doc_id].append(tid)
        meta = data.get(META_DATA_KEY)
        meta = dict(meta) if isinstance(meta, dict) else {}
        cands = candidates(task, users, include_skipped=include_skipped, include_drafts=include_drafts, counts=counts)
        all_annotators.update(c.annotator for c in cands)
        offered = len(cands)
        if policy == "annotator":
            mine = [c for c in cands if c.annotator == annotator]
            if not mine and cands:
                counts.by_others_only.append(doc_id)
            cands = mine
        if not cands:
            if policy != "annotator" or doc_id not in counts.by_others_only:
                counts.unannotated.append(doc_id)
            continue
        if policy == "all":
            chosen = sorted(cands, key=lambda c: (c.annotator, c.updated_at, c.id or 0))
            latest_by = {c.annotator: c for c in chosen}  # one per annotator: their latest
            chosen = [latest_by[a] for a in sorted(latest_by)]
        else:
            chosen = [_latest(cands)]
        counts.superseded += offered - len(chosen)
        for cand in chosen:
            spans, relations, found = results_to_document(cand.result, text, names, task_id=tid, record=doc_id, annotation=cand.label)
            if found and skip_invalid:
                counts.rejected += [rejection(p, tid, doc_id, cand) for p in found]
                continue
            problems += found
            if not found:
                out.append(Pulled(cand.annotator, f"{cand.kind} {cand.id}", Document(doc_id, text, spans, dict(meta), relations)))
                counts.annotators[cand.annotator] += 1
    for doc_id, tids in seen.items():
        if len(tids) > 1:
            task_problems.append((catalogue.duplicate_doc_in_export(doc_id, tids), tids, doc_id))
            if skip_invalid:  # which task holds the document is undecidable: none of them is written
                for item in (item for item in out if item.document.id == doc_id):
                    counts.annotators[item.annotator] -= 1
                out = [item for item in out if item.document.id != doc_id]
                counts.annotators = +counts.annotators
    if skip_invalid:
        counts.rejected += [rejection(p, tid, doc_id, None) for p, tid, doc_id in task_problems]
    else:  # in task order, each task's problem where the task stands
        problems = sorted([p for p, _, _ in task_problems] + problems, key=_task_order)
    if policy == "annotator" and annotator not in all_annotators:
        problems.append(catalogue.annotator_unknown(annotator, sorted(all_annotators)))
    if problems:
        raise CorpusError(problems)
    counts.documents = len(out)
    return out, counts


def _task_order(problem: Problem) -> tuple:
    """Problems sorted by the task they name ("task 12"), a shared document id (no task) last; stable within a task."""
    tail = (problem.path or "").split()[-1:] or [""]
    return (0, int(tail[0])) if tail[0].isdigit() else (1, 0)


def rejection(problem: Problem, task_id: Any, doc_id: str | None, cand: Candidate | None) -> dict:
    """One row of the ``--skip-invalid`` report: the task, document, annotator and annotation, and the problem with its fix
    (``region`` is the Label Studio result the problem is about, as the message quotes it, when there is one)."""
    return {"task": task_id, "document": doc_id, "annotator": cand.annotator if cand else None,
            "annotation": f"{cand.kind} {cand.id}" if cand else None, "code": problem.code, "problem": problem.message,
            "region": problem.value, "fix": problem.fix}


def prediction_spans(task: dict, names: ConfigNames, *, model_version: str | None = None) -> list[tuple[str, list[Span]]]:
    """The stored predictions of a task as (model_version, spans); raises on malformed ones."""
    text = (task.get("data") or {}).get(names.text_key, "")
    out: list[tuple[str, list[Span]]] = []
    problems: list[Problem] = []
    for pred in task.get("predictions") or []:
        if not isinstance(pred, dict):
            continue
        version = str(pred.get("model_version") or "")
        if model_version is not None and version != model_version:
            continue
        spans, _, found = results_to_document(pred.get("result"), text, names, task_id=task.get("id"), record=task_doc_id(task) or "",
                                        annotation=f"prediction {pred.get('id')} ({version})", keep_scores=True, require_status=False)
        problems += found
        out.append((version, spans))
    if problems:
        raise CorpusError(problems)
    return out
