"""Exported tasks -> documents: the policies for several annotations, skipped ones and drafts."""

from __future__ import annotations

import pytest

from conflict_spans.annotation.labelstudio.config import schema_names
from conflict_spans.annotation.labelstudio.results import spans_to_results
from conflict_spans.annotation.labelstudio.tasks import document_to_task_data, pull_documents, text_document_id
from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError

NAMES = schema_names()
TEXT = "Gunmen killed 12 people in Goma, officials said."
GUNMEN, TWELVE, GOMA = Span(0, 6, "ACTOR"), Span(14, 23, "CASUALTY", "killed"), Span(27, 31, "LOCATION")
USERS = {1: "ann@example.com", 2: "bob@example.com"}


def annotation(ann_id, user, spans, updated, cancelled=False):
    return {"id": ann_id, "completed_by": user, "result": spans_to_results(spans, TEXT, NAMES),
            "was_cancelled": cancelled, "updated_at": updated, "created_at": updated}


def draft(draft_id, email, spans, updated):
    return {"id": draft_id, "user": email, "result": spans_to_results(spans, TEXT, NAMES), "updated_at": updated, "annotation": None}


def task(tid, doc_id, annotations=(), drafts=(), meta=None):
    data = document_to_task_data(Document(doc_id, TEXT, [], meta or {"conflict": "drc"}), NAMES)
    return {"id": tid, "data": data, "annotations": list(annotations), "drafts": list(drafts), "predictions": [7]}


A1 = annotation(1, 1, [GUNMEN], "2025-01-01T10:00:00Z")
B1 = annotation(2, 2, [GUNMEN, GOMA], "2025-01-02T10:00:00Z")
A2 = annotation(3, 1, [GUNMEN, TWELVE, GOMA], "2025-01-03T10:00:00Z")
SKIP = annotation(4, 2, [], "2025-01-04T10:00:00Z", cancelled=True)


def spans_of(pulled):
    return {(p.annotator, p.document.id): p.document.spans for p in pulled}


def test_latest_takes_the_most_recently_updated_annotation():
    pulled, counts = pull_documents([task(10, "drc-001", [A1, A2, B1])], NAMES, USERS)
    (only,) = pulled
    assert only.annotator == "ann@example.com" and only.source == "annotation 3"
    assert only.document == Document("drc-001", TEXT, [GUNMEN, TWELVE, GOMA], {"conflict": "drc"})
    assert counts.documents == 1 and counts.annotators == {"ann@example.com": 1}


def test_annotator_policy_takes_that_persons_latest():
    pulled, counts = pull_documents([task(10, "drc-001", [A1, A2, B1]), task(11, "drc-002", [B1])], NAMES, USERS,
                                    policy="annotator", annotator="bob@example.com")
    assert spans_of(pulled) == {("bob@example.com", "drc-001"): [GUNMEN, GOMA], ("bob@example.com", "drc-002"): [GUNMEN, GOMA]}
    pulled, counts = pull_documents([task(10, "drc-001", [A1]), task(11, "drc-002", [B1])], NAMES, USERS,
                                    policy="annotator", annotator="ann@example.com")
    assert [p.document.id for p in pulled] == ["drc-001"] and counts.by_others_only == ["drc-002"]
    assert any("annotated only by others" in line for line in counts.summary("annotator"))


def test_unknown_annotator_is_an_error_listing_the_known_ones():
    with pytest.raises(CorpusError) as err:
        pull_documents([task(10, "drc-001", [A1])], NAMES, USERS, policy="annotator", annotator="eve@example.com")
    assert "eve@example.com" in str(err.value) and "ann@example.com" in str(err.value)


def test_all_gives_each_annotators_latest():
    pulled, _ = pull_documents([task(10, "drc-001", [A1, B1, A2])], NAMES, USERS, policy="all")
    assert spans_of(pulled) == {("ann@example.com", "drc-001"): [GUNMEN, TWELVE, GOMA], ("bob@example.com", "drc-001"): [GUNMEN, GOMA]}


def test_skipped_annotations_are_excluded_and_counted():
    pulled, counts = pull_documents([task(10, "drc-001", [A1, SKIP]), task(11, "drc-002", [SKIP])], NAMES, USERS)
    assert [p.document.id for p in pulled] == ["drc-001"]  # the later skip does not hide A1
    assert counts.skipped_excluded == 2 and counts.unannotated == ["drc-002"]
    summary = "\n".join(counts.summary("latest"))
    assert "2 skipped (cancelled) annotation(s) excluded" in summary and "drc-002" in summary


def test_skipped_annotations_can_be_included():
    pulled, counts = pull_documents([task(11, "drc-002", [SKIP])], NAMES, USERS, include_skipped=True)
    assert [p.document.spans for p in pulled] == [[]] and counts.skipped_excluded == 0


def test_drafts_are_excluded_and_counted_unless_asked_for():
    t = task(10, "drc-001", [A1], [draft(5, "bob@example.com", [GOMA], "2025-02-01T00:00:00Z")])
    pulled, counts = pull_documents([t], NAMES, USERS)
    assert pulled[0].source == "annotation 1" and counts.drafts_excluded == 1
    assert any("1 draft(s) excluded" in line for line in counts.summary("latest"))
    pulled, counts = pull_documents([t], NAMES, USERS, include_drafts=True)
    assert pulled[0].source == "draft 5" and pulled[0].annotator == "bob@example.com" and counts.drafts_excluded == 0


def test_tasks_without_annotations_are_counted_not_written():
    pulled, counts = pull_documents([task(10, "drc-001", [A1]), task(11, "drc-002")], NAMES, USERS)
    assert [p.document.id for p in pulled] == ["drc-001"] and counts.unannotated == ["drc-002"]


def test_a_bad_region_stops_the_pull_naming_the_task():
    bad = annotation(9, 1, [GUNMEN], "2025-01-01T00:00:00Z")
    bad["result"][0]["value"]["text"] = "Gunman"
    with pytest.raises(CorpusError) as err:
        pull_documents([task(10, "drc-001", [A1]), task(11, "drc-002", [bad])], NAMES, USERS)
    (problem,) = err.value.problems
    assert problem.path == "task 11" and problem.record == "drc-002" and "annotation 9 by ann@example.com" in problem.message


def test_task_without_doc_id_needs_a_prefix():
    t = task(12, "x", [A1])
    del t["data"]["doc_id"]
    with pytest.raises(CorpusError, match="--id-prefix"):
        pull_documents([t], NAMES, USERS)
    pulled, _ = pull_documents([t], NAMES, USERS, id_prefix="ls-")
    assert pulled[0].document.id == "ls-12" and pulled[0].document.meta == {"conflict": "drc"}


def test_duplicate_document_ids_are_an_error():
    with pytest.raises(CorpusError, match="occurs in tasks 10, 11"):
        pull_documents([task(10, "drc-001", [A1]), task(11, "drc-001", [A1])], NAMES, USERS)


def test_task_without_text_is_an_error():
    t = task(13, "drc-003", [A1])
    t["data"]["text"] = None
    with pytest.raises(CorpusError, match="task 13"):
        pull_documents([t], NAMES, USERS)


def test_annotator_names_fall_back_to_ids_and_expanded_users():
    expanded = {**A1, "completed_by": {"id": 3, "email": "cy@example.com"}}
    unknown = {**B1, "completed_by": 99}
    pulled, _ = pull_documents([task(10, "drc-001", [expanded, unknown])], NAMES, USERS, policy="all")
    assert sorted(p.annotator for p in pulled) == ["cy@example.com", "user 99"]


def test_text_ids_are_stable():
    assert text_document_id("Some text") == text_document_id("Some text") != text_document_id("Some text.")


# ---- --skip-invalid: the bad annotations set aside with a report, the rest pulled ----------------------------------

def _bad(ann_id, user, updated):
    """An annotation whose region text disagrees with the task text (a drag across a line wrap reads the same way)."""
    bad = annotation(ann_id, user, [GUNMEN], updated)
    bad["result"][0]["value"]["text"] = "Gunman"
    return bad


def test_skip_invalid_sets_a_bad_annotation_aside_and_pulls_the_rest():
    tasks = [task(10, "drc-001", [A1]), task(11, "drc-002", [_bad(9, 1, "2025-01-01T00:00:00Z")]), task(12, "drc-003", [B1])]
    pulled, counts = pull_documents(tasks, NAMES, USERS, skip_invalid=True)
    assert [p.document.id for p in pulled] == ["drc-001", "drc-003"] and counts.documents == 2
    (row,) = counts.rejected
    assert row == {"task": 11, "document": "drc-002", "annotator": "ann@example.com", "annotation": "annotation 9", "code": "span-text",
                   "problem": row["problem"], "region": "Gunman", "fix": row["fix"]}
    assert "annotation 9 by ann@example.com" in row["problem"] and "redraw" in row["fix"]
    assert any("1 annotation(s) or task(s) set aside with 1 problem(s)" in line for line in counts.summary("latest"))


def test_skip_invalid_does_not_fall_back_to_an_older_annotation():
    """The latest annotation replaced the older one: when it is bad, the older one is not taken in its place."""
    pulled, counts = pull_documents([task(10, "drc-001", [A1, _bad(9, 2, "2025-03-01T00:00:00Z")])], NAMES, USERS, skip_invalid=True)
    assert pulled == [] and [r["annotation"] for r in counts.rejected] == ["annotation 9"]


def test_skip_invalid_with_policy_all_keeps_the_other_annotators_versions():
    pulled, counts = pull_documents([task(10, "drc-001", [A1, _bad(9, 2, "2025-03-01T00:00:00Z")])], NAMES, USERS, policy="all", skip_invalid=True)
    assert spans_of(pulled) == {("ann@example.com", "drc-001"): [GUNMEN]}
    assert [(r["annotator"], r["annotation"]) for r in counts.rejected] == [("bob@example.com", "annotation 9")]


def test_skip_invalid_sets_aside_a_task_without_text():
    t = task(13, "drc-003", [A1])
    t["data"]["text"] = None
    pulled, counts = pull_documents([t, task(10, "drc-001", [A1])], NAMES, USERS, skip_invalid=True)
    assert [p.document.id for p in pulled] == ["drc-001"]
    assert [(r["task"], r["annotation"], r["code"]) for r in counts.rejected] == [(13, None, "ls-task")]


def test_skip_invalid_sets_aside_every_task_of_a_shared_document_id():
    pulled, counts = pull_documents([task(10, "drc-001", [A1]), task(11, "drc-001", [B1]), task(12, "drc-002", [A1])], NAMES, USERS,
                                    skip_invalid=True)
    assert [p.document.id for p in pulled] == ["drc-002"] and counts.annotators == {"ann@example.com": 1}
    assert [(r["task"], r["document"]) for r in counts.rejected] == [([10, 11], "drc-001")]


def test_skip_invalid_still_refuses_an_unknown_annotator():
    with pytest.raises(CorpusError, match="eve@example.com"):
        pull_documents([task(10, "drc-001", [A1])], NAMES, USERS, policy="annotator", annotator="eve@example.com", skip_invalid=True)


def test_without_skip_invalid_problems_come_in_task_order():
    t = task(13, "drc-003", [A1])
    t["data"]["text"] = None
    with pytest.raises(CorpusError) as err:
        pull_documents([task(11, "drc-002", [_bad(9, 1, "2025-01-01T00:00:00Z")]), t, task(14, "drc-002", [A1])], NAMES, USERS)
    assert [p.path for p in err.value.problems] == ["task 11", "task 13", None]
