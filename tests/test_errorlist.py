"""Error lists: every span accounted for once, each error kind, the writers and the Label Studio tasks."""

from __future__ import annotations

import json

import pytest

from conflict_spans.document import Document, Span
from conflict_spans.evaluation.errorlist import (KINDS, classify, error_records, error_tasks, kind_counts, pair_spans, records_to_jsonl,
                                                 records_to_markdown)

from support import spans_from_marks

TEXT = "Rebels shelled Kadugli on Sunday, killing 12 civilians, the army said."


GOLD_MARKS = [("Rebels", "ACTOR", None), ("Kadugli", "LOCATION", None), ("12 civilians", "CASUALTY", "killed"), ("army", "ATTRIBUTION", None)]
REBELS, KADUGLI, CIVILIANS, ARMY = GOLD_MARKS
GOLD = spans_from_marks(TEXT, GOLD_MARKS)

# (name, predicted spans as (surface, label, status) in text order, expected kinds in text order)
CASES = [
    ("perfect", GOLD_MARKS, []),
    ("missed", GOLD_MARKS[:3], ["missed"]),
    ("spurious", [REBELS, KADUGLI, ("Sunday", "ACTOR", None), CIVILIANS, ARMY], ["spurious"]),
    ("wrong label", [REBELS, KADUGLI, CIVILIANS, ("army", "ACTOR", None)], ["wrong-label"]),
    ("boundary", [REBELS, KADUGLI, ("civilians", "CASUALTY", None), ARMY], ["boundary"]),
    ("wrong label and boundary", [REBELS, ("Kadugli on Sunday", "ACTOR", None), CIVILIANS, ARMY], ["wrong-label-boundary"]),
    ("nothing predicted", [], ["missed"] * 4),
]


@pytest.mark.parametrize("name,pred,kinds", CASES, ids=[c[0] for c in CASES])
def test_error_kinds(name, pred, kinds):
    records = error_records([Document("d1", TEXT, GOLD)], [Document("d1", TEXT, spans_from_marks(TEXT, pred))])
    assert [r.kind for r in records] == kinds
    assert all(r.doc_id == "d1" for r in records)


def test_every_span_is_paired_exactly_once():
    pred = spans_from_marks(TEXT, [("Rebels shelled", "ACTOR", None), ("Kadugli", "ACTOR", None), ("Sunday", "LOCATION", None), ARMY])
    pairs = pair_spans(GOLD, pred)
    assert sorted(g for g, _ in pairs if g) == sorted(GOLD)
    assert sorted(p for _, p in pairs if p) == sorted(pred)
    assert [classify(g, p) for g, p in pairs] == ["boundary", "wrong-label", "spurious", "missed", None]


def test_overlap_prefers_the_largest():
    gold = [Span(0, 6, "ACTOR"), Span(7, 14, "ACTOR")]
    pairs = pair_spans(gold, [Span(3, 14, "ACTOR")])
    assert (gold[1], Span(3, 14, "ACTOR")) in pairs and (gold[0], None) in pairs


def test_record_fields_and_context():
    pred = spans_from_marks(TEXT, [REBELS, KADUGLI, CIVILIANS, ("army", "ACTOR", None)])
    records = error_records([Document("d1", TEXT, GOLD)], [Document("d1", TEXT, pred)], context=10)
    (r,) = records
    d = r.to_dict(TEXT)
    assert d["gold"] == {"start": r.start, "end": r.end, "label": "ATTRIBUTION", "text": "army"}
    assert d["pred_label"] == "ACTOR" and d["gold_label"] == "ATTRIBUTION"
    assert "⟦army⟧" in d["context"] and d["context"].startswith("ians, the")


def test_writers():
    doc = Document("sudan|7", "A | B\nC", [Span(0, 1, "ACTOR")])
    records = error_records([doc], [Document(doc.id, doc.text, [])])
    lines = records_to_jsonl(records, {doc.id: doc.text}).splitlines()
    assert [json.loads(l)["kind"] for l in lines] == ["missed"]
    md = records_to_markdown(records, {doc.id: doc.text})
    assert "sudan\\|7" in md and "missed 1" in md
    assert kind_counts(records) == {k: (1 if k == "missed" else 0) for k in KINDS}


def test_label_studio_tasks_round_trip():
    from conflict_spans.annotation.labelstudio.config import schema_names
    from conflict_spans.annotation.labelstudio.results import results_to_spans

    pred = [Span(GOLD[0].start, GOLD[0].end, "ACTOR", None, 0.9), GOLD[1], *spans_from_marks(TEXT, [CIVILIANS, ("army", "ACTOR", None)])]
    docs = [Document("d1", TEXT, GOLD), Document("d2", "No error here.", [])]
    preds = [Document("d1", TEXT, pred), Document("d2", "No error here.", [])]
    records = error_records(docs, preds)
    tasks = error_tasks(docs, preds, records, model_version="spacy-pretrained")
    assert len(tasks) == 1  # only documents with errors
    (task,) = tasks
    assert task["data"]["doc_id"] == "d1" and task["data"]["errors"] == 1
    assert task["predictions"][0]["model_version"] == "spacy-pretrained"
    first = task["annotations"][0]["result"][0]
    assert {"from_name", "to_name", "type", "value"} <= set(first)
    assert set(first["value"]) == {"start", "end", "text", "labels"}
    names = schema_names()
    gold_back, problems = results_to_spans(task["annotations"][0]["result"], TEXT, names, task_id=1, record="d1")
    assert not problems and gold_back == sorted(GOLD)
    pred_back, problems = results_to_spans(task["predictions"][0]["result"], TEXT, names, task_id=1, record="d1", keep_scores=True, require_status=False)
    assert not problems and pred_back == sorted(pred)
