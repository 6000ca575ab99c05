"""Spans <-> Label Studio results.

``region_results`` is the one function that shapes Label Studio results
(``from_name``, ``to_name``, ``type``, ``value{start,end,text,labels}``,
``score``); predictions add ``model_version``. The names come from the labeling
config (``ConfigNames``), never from literals here.

A CASUALTY span's ``status`` is stored the way Label Studio stores a per-region
choice: a separate ``choices`` result with the same ``id`` as the region.

A relation (annotation/LINKS.md) is a ``relation`` result between two region
ids, ``from_id`` the CASUALTY region, ``direction`` ``right`` and the type as
its one label, as Label Studio's ``<Relations>`` tag stores it.

Offsets need no conversion: Label Studio's ``value.start/end`` for a ``<Text>``
tag are the corpus convention (half-open, Python ``str`` indices).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from conflict_spans import problems as catalogue
from conflict_spans.annotation.labelstudio.config import ConfigNames
from conflict_spans.document import Document, Relation, Span, check_line_breaks, check_relations, check_schema
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import LABEL_NAMES, LABELS_WITH_STATUS, RELATION_NAMES, STATUS_VALUES

LABELS_TYPE = "labels"
CHOICES_TYPE = "choices"
RELATION_TYPE = "relation"


def region_id(index: int) -> str:
    """Stable region ids (``cs0``, ``cs1``, ...): pushing twice yields identical results."""
    return f"cs{index}"


def region_results(span: Span, text: str, names: ConfigNames, *, rid: str) -> list[dict[str, Any]]:
    """The Label Studio results for one span: its ``labels`` region and, with a status, its ``choices``."""
    value = {"start": span.start, "end": span.end, "text": text[span.start:span.end]}
    label = {"id": rid, "from_name": names.labels_from, "to_name": names.to_name, "type": LABELS_TYPE,
             "value": {**value, "labels": [span.label]}}
    if span.score is not None:
        label["score"] = round(float(span.score), 6)
    out = [label]
    if span.status is not None:
        if names.status_from is None:
            raise CorpusError(catalogue.config_tag_missing(f"per-region <Choices name=\"status\"> (needed for the status of {span.label} {value['text']!r})"))
        out.append({"id": rid, "from_name": names.status_from, "to_name": names.to_name, "type": CHOICES_TYPE,
                    "value": {**value, "choices": [span.status]}})
    return out


def spans_to_results(spans: Iterable[Span], text: str, names: ConfigNames, relations: Iterable[Relation] = ()) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ids: dict[Span, str] = {}
    for i, span in enumerate(sorted(spans)):
        ids[span] = region_id(i)
        out += region_results(span, text, names, rid=ids[span])
    relations = sorted(relations)
    if relations and not names.relation_values:
        raise CorpusError(catalogue.config_tag_missing("<Relations> tag (needed for the document's links; regenerate the config with `conflict-spans ls config`)"))
    for rel in relations:
        if rel.head not in ids or rel.tail not in ids:
            raise CorpusError(catalogue.relation_end_not_span(f"{rel.type} {rel.head.text_in(text)!r} -> {rel.tail.text_in(text)!r}"))
        item: dict[str, Any] = {"type": RELATION_TYPE, "from_id": ids[rel.head], "to_id": ids[rel.tail], "direction": "right", "labels": [rel.type]}
        if rel.score is not None:
            item["score"] = round(float(rel.score), 6)
        out.append(item)
    return out


def spans_to_prediction(spans: Iterable[Span], text: str, names: ConfigNames, model_version: str, relations: Iterable[Relation] = ()) -> dict[str, Any]:
    """A prediction (pre-annotation): results plus ``model_version`` and the mean span score."""
    spans = list(spans)
    scores = [s.score for s in spans if s.score is not None]
    out: dict[str, Any] = {"model_version": model_version, "result": spans_to_results(spans, text, names, relations)}
    if scores:
        out["score"] = round(sum(scores) / len(scores), 6)
    return out


def spans_to_annotation(spans: Iterable[Span], text: str, names: ConfigNames, relations: Iterable[Relation] = ()) -> dict[str, Any]:
    return {"result": spans_to_results(spans, text, names, relations), "was_cancelled": False}


def results_to_spans(results: Any, text: str, names: ConfigNames, **kwargs) -> tuple[list[Span], list[Problem]]:
    """``results_to_document``'s spans and problems (its relations are read and checked all the same)."""
    spans, _, problems = results_to_document(results, text, names, **kwargs)
    return spans, problems


def results_to_document(results: Any, text: str, names: ConfigNames, *, task_id: Any, record: str, annotation: str = "annotation", keep_scores: bool = False,
                        require_status: bool = True) -> tuple[list[Span], list[Relation], list[Problem]]:
    """Read spans and relations back from a result list. Every result becomes a span, a status, a relation or a problem; none is dropped.

    ``annotation`` names the result list in messages (``annotation 7 by a@b.org``).
    Scores are kept only with ``keep_scores`` (predictions): a person's annotation
    that started from a prediction still carries the model's scores, which are
    not part of the corpus. Predictions (``require_status=False``) may leave a
    CASUALTY's status open; an annotation may not.
    """
    problems: list[Problem] = []
    ctx = (task_id, record, annotation)
    if not isinstance(results, list):
        return [], [], [catalogue.result_malformed(*ctx, "result is not a list", {"result": results})]
    links: list[dict] = []
    regions: dict[str, tuple[int, int, str, float | None]] = {}
    region_order: list[str] = []
    bad_regions: set[str] = set()  # regions already reported: their status choices are not orphans
    ambiguous: set[str] = set()  # regions with two status choices (reported): neither is taken
    statuses: dict[str, tuple[Any, dict]] = {}
    for res in results:
        if not isinstance(res, dict):
            problems.append(catalogue.result_malformed(*ctx, "result is not an object", {"result": res}))
            continue
        kind = (res.get("from_name"), res.get("type"))
        if kind == (names.labels_from, LABELS_TYPE):
            parsed = _region(res, text, ctx, problems)
            rid = str(res.get("id"))
            if parsed is None:
                bad_regions.add(rid)
            elif rid in regions:
                problems.append(catalogue.result_malformed(*ctx, f"two regions share the id {rid!r}", res))
            else:
                regions[rid] = parsed
                region_order.append(rid)
        elif names.status_from is not None and kind == (names.status_from, CHOICES_TYPE):
            choices = (res.get("value") or {}).get("choices")
            if not isinstance(choices, list) or len(choices) != 1:
                problems.append(catalogue.result_malformed(*ctx, f"a status choice needs exactly one value, found {choices!r}", res))
                continue
            rid = str(res.get("id"))
            if rid in statuses:  # which one holds is undecidable: the region is reported, not given either
                problems.append(catalogue.result_malformed(*ctx, f"two status choices for region id {rid!r}", res))
                ambiguous.add(rid)
                continue
            statuses[rid] = (choices[0], res)
        elif res.get("type") == RELATION_TYPE:
            links.append(res)
        else:
            problems.append(catalogue.result_unknown_kind(*ctx, res))
    spans: list[Span] = []
    span_of: dict[str, Span] = {}
    for rid in region_order:
        start, end, label, score = regions[rid]
        desc = f"{label} {text[start:end]!r} [{start}, {end})"
        status, _ = statuses.pop(rid, (None, None))
        if rid in ambiguous:
            continue
        if label in LABELS_WITH_STATUS and status is None and require_status:
            problems.append(catalogue.result_status_missing(*ctx, desc, STATUS_VALUES))
            continue
        if status is not None and (label not in LABELS_WITH_STATUS or status not in STATUS_VALUES):
            problems.append(catalogue.result_status_bad(*ctx, desc, status, STATUS_VALUES))
            continue
        span_of[rid] = Span(start, end, label, status, score if keep_scores else None)
        spans.append(span_of[rid])
    for rid in statuses:
        if rid not in bad_regions:
            problems.append(catalogue.result_status_orphan(*ctx, rid))
    ordered = sorted(spans)
    # every overlapping pair, also when one region covers several others (not only neighbours in order)
    open_spans: list[Span] = []
    for b in ordered:
        open_spans = [a for a in open_spans if a.end > b.start]
        for a in open_spans:
            problems.append(catalogue.result_overlap(*ctx, f"{a.label} {text[a.start:a.end]!r} [{a.start}, {a.end})", f"{b.label} {text[b.start:b.end]!r} [{b.start}, {b.end})"))
        open_spans.append(b)
    # spec G10, the corpus readers' own check: a region never spans a line break
    problems += [replace(p, message=f"{annotation}: {p.message}") for p in check_line_breaks(Document(record, text, ordered), path=catalogue.where(task_id)["path"])]
    relations = [rel for res in links if (rel := _relation(res, span_of, regions.keys() | bad_regions, ctx, problems, keep_scores)) is not None]
    if relations:
        doc = Document(record, text, ordered, relations=relations)
        where = catalogue.where(task_id)["path"]
        problems += [replace(p, message=f"{annotation}: {p.message}") for p in check_schema(doc, path=where) + check_relations(doc, path=where)
                     if p.code.startswith("relation")]
    return ordered, relations, problems


def _relation(res: dict, span_of: dict[str, Span], known: set[str], ctx: tuple, problems: list[Problem], keep_scores: bool) -> Relation | None:
    """One ``relation`` result as a Relation; a problem when it names no region, no type or both directions."""
    labels = res.get("labels")
    head, tail = str(res.get("from_id")), str(res.get("to_id"))
    if head not in known or tail not in known:
        problems.append(catalogue.result_relation_region(*ctx, res))
        return None
    if head not in span_of or tail not in span_of:
        return None  # a region already reported: its link goes with it, and the problem names the region
    if not isinstance(labels, list) or len(labels) != 1 or labels[0] not in RELATION_NAMES:
        problems.append(catalogue.result_relation_type(*ctx, res, RELATION_NAMES))
        return None
    direction = res.get("direction", "right")
    if direction not in ("right", "left"):
        problems.append(catalogue.result_relation_direction(*ctx, res))
        return None
    if direction == "left":
        head, tail = tail, head
    score = res.get("score") if keep_scores else None
    return Relation(span_of[head], span_of[tail], labels[0], float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None)


def _region(res: dict, text: str, ctx: tuple, problems: list[Problem]) -> tuple[int, int, str, float | None] | None:
    value = res.get("value")
    if not isinstance(value, dict):
        problems.append(catalogue.result_malformed(*ctx, "region has no value object", res))
        return None
    start, end, labels = value.get("start"), value.get("end"), value.get("labels")
    if not (type(start) is int and type(end) is int):
        problems.append(catalogue.result_malformed(*ctx, f"region offsets must be integers, found {start!r}:{end!r}", res))
        return None
    if not (0 <= start < end <= len(text)):
        problems.append(catalogue.result_offsets(*ctx, start, end, len(text)))
        return None
    if "text" in value and value["text"] != text[start:end]:
        problems.append(catalogue.result_text_mismatch(*ctx, start, end, value["text"], text[start:end]))
        return None
    if not isinstance(labels, list) or len(labels) != 1:
        problems.append(catalogue.result_label_count(*ctx, labels if isinstance(labels, list) else [labels]))
        return None
    label = labels[0]
    if label not in LABEL_NAMES:
        problems.append(catalogue.result_unknown_label(*ctx, str(label), LABEL_NAMES))
        return None
    score = res.get("score")
    return start, end, label, (float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None)
