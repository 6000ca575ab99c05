"""Spans <-> Label Studio results: shape, round trip, and every way a result can be wrong."""

from __future__ import annotations

import copy

import pytest

from conflict_spans.annotation.labelstudio.config import config_names, schema_names
from conflict_spans.annotation.labelstudio.results import region_results, results_to_spans, spans_to_annotation, spans_to_prediction, spans_to_results
from conflict_spans.document import Span
from conflict_spans.problems import CorpusError

NAMES = schema_names()
TEXT = "Gunmen killed 12 people in Goma, officials said."


def test_region_results_shape():
    label, status = region_results(Span(14, 23, "CASUALTY", "killed", 0.87654321), TEXT, NAMES, rid="r1")
    assert label == {"id": "r1", "from_name": "label", "to_name": "text", "type": "labels", "score": 0.876543,
                     "value": {"start": 14, "end": 23, "text": "12 people", "labels": ["CASUALTY"]}}
    assert status == {"id": "r1", "from_name": "status", "to_name": "text", "type": "choices",
                      "value": {"start": 14, "end": 23, "text": "12 people", "choices": ["killed"]}}


def test_names_come_from_the_config_not_literals():
    names = config_names("""<View><Labels name="ents" toName="doc"><Label value="ACTOR"/></Labels>
        <Text name="doc" value="$body"/><Choices name="status" toName="doc" perRegion="true"><Choice value="killed"/></Choices></View>""")
    label, status = region_results(Span(14, 23, "CASUALTY", "killed"), TEXT, names, rid="x")
    assert (label["from_name"], label["to_name"], status["from_name"], status["to_name"]) == ("ents", "doc", "status", "doc")


def test_prediction_carries_model_version_and_mean_score():
    pred = spans_to_prediction([Span(0, 6, "ACTOR", None, 0.5), Span(27, 31, "LOCATION", None, 1.0)], TEXT, NAMES, "m-1")
    assert pred["model_version"] == "m-1" and pred["score"] == 0.75
    assert [r["value"]["text"] for r in pred["result"]] == ["Gunmen", "Goma"]
    assert "score" not in spans_to_prediction([Span(0, 6, "ACTOR")], TEXT, NAMES, "m")


def test_annotation_has_no_scores_and_is_not_cancelled():
    ann = spans_to_annotation([Span(0, 6, "ACTOR")], TEXT, NAMES)
    assert ann["was_cancelled"] is False and "score" not in ann["result"][0]


ROUND_TRIP = [
    ("plain", TEXT, [Span(0, 6, "ACTOR"), Span(14, 23, "CASUALTY", "killed"), Span(27, 31, "LOCATION"), Span(33, 42, "ATTRIBUTION")]),
    ("emoji before the span", "🇺🇦 👩‍👩‍👧 Kyiv said 3 people died", [Span(9, 13, "ATTRIBUTION"), Span(19, 27, "CASUALTY", "killed")]),
    ("combining marks inside", "Cafe\u0301 owner in Tigra\u0301y", [Span(15, 22, "LOCATION")]),
    ("CRLF line breaks", "Headline in Goma\r\n\r\nThe army said 2 were hurt.", [Span(12, 16, "LOCATION"), Span(24, 28, "ATTRIBUTION"), Span(34, 35, "CASUALTY", "injured")]),
    ("no spans", "Nothing happened.", []),
]


@pytest.mark.parametrize("case, text, spans", ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_round_trip(case, text, spans):
    assert [text[s.start:s.end].strip() for s in spans] == [text[s.start:s.end] for s in spans]
    results = spans_to_results(spans, text, NAMES)
    for r in results:
        assert r["value"]["text"] == text[r["value"]["start"]:r["value"]["end"]]
    back, problems = results_to_spans(results, text, NAMES, task_id=1, record="d")
    assert problems == [] and back == sorted(spans)
    assert [s.status for s in back] == [s.status for s in sorted(spans)]


def test_offsets_are_code_points():
    text = "🇺🇦 👩‍👩‍👧 Kyiv"
    (res,) = spans_to_results([Span(text.index("Kyiv"), len(text), "LOCATION")], text, NAMES)
    assert res["value"]["start"] == 9 and res["value"]["text"] == "Kyiv"  # UTF-16 code units would give 14


def test_scores_only_kept_when_asked():
    results = spans_to_results([Span(0, 6, "ACTOR", None, 0.9)], TEXT, NAMES)
    assert results_to_spans(results, TEXT, NAMES, task_id=1, record="d")[0][0].score is None
    assert results_to_spans(results, TEXT, NAMES, task_id=1, record="d", keep_scores=True)[0][0].score == 0.9


def _base():
    return spans_to_results([Span(0, 6, "ACTOR"), Span(14, 23, "CASUALTY", "killed")], TEXT, NAMES)


def _set(path, value):
    def edit(results):
        target = results
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return results
    return edit


BAD = [
    ("unknown label", _set((0, "value", "labels"), ["PERSON"]), "unknown-label", "'PERSON'"),
    ("two labels", _set((0, "value", "labels"), ["ACTOR", "LOCATION"]), "ls-result", "exactly one label"),
    ("text disagrees", _set((0, "value", "text"), "Gunman"), "span-text", "'Gunman'"),
    ("offsets shifted", _set((0, "value", "start"), 1), "span-text", "'unmen'"),
    ("offsets outside", _set((0, "value", "end"), 999), "offsets", "outside the text"),
    ("offsets not integers", _set((0, "value", "start"), "0"), "ls-result", "integers"),
    ("casualty without status", lambda r: r[:2], "status", "no status"),
    ("status on actor", lambda r: [r[0], {**r[2], "id": r[0]["id"]}, r[1], r[2]], "status", "status 'killed'"),
    ("status value unknown", _set((2, "value", "choices"), ["maimed"]), "status", "'maimed'"),
    ("status without region", _set((2, "id"), "ghost"), "status", "'ghost'"),
    ("foreign tag", lambda r: r + [{"id": "z", "from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["x"]}}], "ls-result", "'sentiment'"),
    ("overlap", lambda r: r + [{**copy.deepcopy(r[0]), "id": "o", "value": {"start": 0, "end": 13, "text": TEXT[0:13], "labels": ["ACTOR"]}}], "overlap", "overlap"),
    ("result not a list", lambda r: {"oops": 1}, "ls-result", "not a list"),
]


@pytest.mark.parametrize("case, edit, code, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_results_are_errors_naming_the_task(case, edit, code, fragment):
    results = edit(copy.deepcopy(_base()))
    spans, problems = results_to_spans(results, TEXT, NAMES, task_id=42, record="sudan-007", annotation="annotation 9 by a@b.org")
    assert problems, "a bad result must be reported"
    codes = [p.code for p in problems]
    assert code in codes
    messages = [p.format() for p in problems if p.code == code]
    assert any(fragment in m for m in messages), messages
    for message in messages:
        assert message.startswith(f"ERROR [{code}] task 42 record 'sudan-007'")
        assert "annotation 9 by a@b.org" in message and "Fix:" in message


def test_nothing_is_dropped_silently():
    """Every labels result ends up as a span or as a problem."""
    results = _base() + [{"id": "u", "from_name": "label", "to_name": "text", "type": "labels",
                          "value": {"start": 27, "end": 31, "text": "Goma", "labels": ["PLACE"]}}]
    spans, problems = results_to_spans(results, TEXT, NAMES, task_id=1, record="d")
    assert len(spans) + len(problems) == 3


def test_missing_status_tag_in_config_is_an_error():
    names = config_names("<View><Labels name='l' toName='t'><Label value='CASUALTY'/></Labels><Text name='t' value='$text'/></View>")
    with pytest.raises(CorpusError, match="per-region"):
        region_results(Span(14, 23, "CASUALTY", "killed"), TEXT, names, rid="r")
