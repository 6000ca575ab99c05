"""Documents, spans and the span rules of spec G1/G2/C5 (conflict_spans.document).

Each case is a short news sentence written for this test; spans are given by
their surface text so that no one counts offsets by hand.
"""

from __future__ import annotations

import pytest

from conflict_spans.document import Document, Span, check_spans, document_from_dict, ends_with_abbreviation, is_word_char, span_from_dict

from support import spans_from_marks


def doc(text: str, *marks: tuple, doc_id: str = "t-1") -> Document:
    """Spans as (surface, label[, status]) at each surface's first occurrence: in any order, overlapping or repeated."""
    return Document(doc_id, text, spans_from_marks(text, marks, in_order=False))


def codes(document: Document) -> list[str]:
    return [p.code for p in check_spans(document)]


# ---- the span convention -------------------------------------------------------------

def test_offsets_are_half_open_python_string_indices():
    text = "Drone strike on Kharkiv 🏙️ kills 3 people, Governor Oleh Syniehubov said."
    (s,) = spans_from_marks(text, [("3 people", "CASUALTY", "killed")])
    assert text[s.start:s.end] == s.text_in(text) == "3 people"
    assert s.end - s.start == len("3 people")


def test_span_to_dict_writes_status_and_text_only_when_present():
    text = "Gunmen killed 12 villagers in Zamfara."
    casualty, location = spans_from_marks(text, [("12 villagers", "CASUALTY", "killed"), ("Zamfara", "LOCATION")])
    assert location.to_dict(text) == {"start": 30, "end": 37, "label": "LOCATION", "text": "Zamfara"}
    assert casualty.to_dict() == {"start": 14, "end": 26, "label": "CASUALTY", "status": "killed"}


def test_document_to_dict_sorts_spans_and_keeps_meta():
    d = doc("Gunmen killed 12 villagers in Zamfara.", ("Zamfara", "LOCATION"), ("Gunmen", "ACTOR"))
    d.meta = {"conflict": "nigeria"}
    out = d.to_dict()
    assert list(out) == ["id", "text", "spans", "relations", "meta"]
    assert out["relations"] == []
    assert [s["text"] for s in out["spans"]] == ["Gunmen", "Zamfara"]
    assert "text" not in d.to_dict(with_span_text=False)["spans"][0]


def test_spans_sort_by_position_even_when_only_the_status_differs():
    a, b = Span(0, 9, "CASUALTY", None), Span(0, 9, "CASUALTY", "killed")
    assert sorted([b, a]) == [a, b]
    assert Span(0, 3, "ACTOR") < Span(0, 4, "ACTOR") < Span(1, 2, "ACTOR")


def test_score_does_not_take_part_in_equality():
    assert Span(0, 4, "LOCATION", score=0.5) == Span(0, 4, "LOCATION", score=0.9)


@pytest.mark.parametrize("ch, word", [("a", True), ("É", True), ("7", True), ("٣", True), ("ж", True), ("京", True),
                                      ("\u0301", True), ("\u093f", True), (" ", False), (".", False), ("’", False),
                                      ("😀", False), ("\u00ad", False), ("-", False)])
def test_word_characters_are_letters_digits_and_combining_marks(ch, word):
    assert is_word_char(ch) is word


@pytest.mark.parametrize("surface, abbreviation", [
    ("U.S.", True), ("U.N.", True), ("D.C.", True), ("Bogotá D.C.", True), ("Lt.", True), ("Gen.", True),
    ("President Ferdinand Marcos Jr.", True), ("Fla.", True), ("George W.", True), ("St.", True), ("pro-U.S.", True),
    ("Gaza.", False), ("Goma.", False), ("Kyiv.", False), ("army.", False), ("Mali.", False), ("Sudan.", False), ("12.", False),
])
def test_only_an_abbreviation_keeps_its_final_period(surface, abbreviation):
    assert ends_with_abbreviation(surface) is abbreviation


# ---- check_spans: every rule code can check ------------------------------------------

VALID = [
    ("plain", "Houthi drones struck a tanker off Hodeidah, the U.S. military said.",
     [("Houthi drones", "ACTOR"), ("Hodeidah", "LOCATION"), ("U.S. military", "ATTRIBUTION")]),
    ("abbreviation at the end", "The strike was confirmed by the U.S.", [("U.S.", "ATTRIBUTION")]),
    ("title abbreviation", "Lt. Gen. Abdel Fattah al-Burhan visited Port Sudan.", [("Lt. Gen. Abdel Fattah al-Burhan", "ACTOR"), ("Port Sudan", "LOCATION")]),
    ("curly quotes outside", "“We will hold Pokrovsk,” the brigade said.", [("We", "ATTRIBUTION"), ("Pokrovsk", "LOCATION"), ("brigade", "ATTRIBUTION")]),
    ("possessive outside", "Ethiopia’s decision angered Eritrea.", [("Ethiopia", "ACTOR"), ("Eritrea", "ACTOR")]),
    ("combining mark inside", "Shelling hit Bogota\u0301 overnight.", [("Bogota\u0301", "LOCATION")]),
    ("emoji next to a span", "Drones hit Odesa 🚨 at dawn.", [("Odesa", "LOCATION")]),
    ("CRLF between spans", "Gunmen killed 12 people\r\nin Goma, police said.", [("Gunmen", "ACTOR"), ("12 people", "CASUALTY", "killed"), ("Goma", "LOCATION"), ("police", "ATTRIBUTION")]),
    ("adjacent spans", "Ukraine, Poland and Lithuania signed.", [("Ukraine", "ACTOR"), ("Poland", "ACTOR"), ("Lithuania", "ACTOR")]),
    ("non-Latin script", "Протестующие собрались в Киеве.", [("Киеве", "LOCATION")]),
    ("injured", "Dozens were wounded in Kassala.", [("Dozens", "CASUALTY", "injured"), ("Kassala", "LOCATION")]),
]


@pytest.mark.parametrize("name, text, spans", VALID, ids=[v[0] for v in VALID])
def test_valid_spans_raise_no_problem(name, text, spans):
    assert check_spans(doc(text, *spans)) == []


INVALID = [
    # (name, text, (surface, label[, status]), problem code, fragment of the message)
    ("leading space", "Shelling hit  Kherson overnight.", (" Kherson", "LOCATION"), "edge-space", "whitespace"),
    ("trailing space", "Shelling hit Kherson overnight.", ("Kherson ", "LOCATION"), "edge-space", "whitespace"),
    ("trailing newline", "Shelling hit Kherson\novernight.", ("Kherson\n", "LOCATION"), "edge-space", "whitespace"),
    ("leading quote", "The “Wagner Group” withdrew.", ("“Wagner Group", "ACTOR"), "edge-punct", "starts with punctuation"),
    ("trailing comma", "Drones hit Odesa, officials said.", ("Odesa,", "LOCATION"), "edge-punct", "ends with punctuation"),
    ("sentence period", "Israeli jets struck Gaza.", ("Gaza.", "LOCATION"), "edge-punct", "period that is not an abbreviation's"),
    ("closing bracket", "Rapid Support Forces (RSF) attacked.", ("RSF)", "ACTOR"), "edge-punct", "ends with punctuation"),
    ("emoji inside at the edge", "Drones hit Odesa🚨 at dawn.", ("Odesa🚨", "LOCATION"), "edge-punct", "symbol"),
    ("starts mid-word", "Militants attacked Maiduguri.", ("tants", "ACTOR"), "word-boundary", "starts inside a word"),
    ("ends mid-word", "Militants attacked Maiduguri.", ("Maidug", "LOCATION"), "word-boundary", "ends inside a word"),
    ("ends before a combining mark", "Shelling hit Bogota\u0301 overnight.", ("Bogota", "LOCATION"), "word-boundary", "ends inside a word"),
    ("starts with a combining mark", "Shelling hit Bogota\u0301 overnight.", ("\u0301 overnight", "LOCATION"), ["edge-punct", "word-boundary"], "starts with"),
    ("unknown label", "Drones hit Odesa at dawn.", ("Odesa", "PLACE"), "unknown-label", "unknown label on span PLACE 'Odesa'"),
    ("lower-case label", "Drones hit Odesa at dawn.", ("Odesa", "location"), "unknown-label", "unknown label"),
    ("casualty without status", "Gunmen killed 12 people.", ("12 people", "CASUALTY"), "status", "needs a status"),
    ("casualty with unknown status", "Gunmen killed 12 people.", ("12 people", "CASUALTY", "dead"), "status", "unknown status"),
    ("status on a location", "Gunmen killed 12 people in Goma.", ("Goma", "LOCATION", "killed"), "status", "only allowed on CASUALTY"),
]


@pytest.mark.parametrize("name, text, bad, code, fragment", INVALID, ids=[c[0] for c in INVALID])
def test_each_broken_span_is_one_problem_naming_record_span_and_fix(name, text, bad, code, fragment):
    document = doc(text, bad, doc_id="news-7")
    problems = check_spans(document, path="news.jsonl", line=7)
    assert [p.code for p in problems] == ([code] if isinstance(code, str) else code)
    problem = problems[0]
    code = problem.code
    assert fragment in problem.message
    assert problem.fix and problem.record == "news-7" and (problem.path, problem.line) == ("news.jsonl", 7)
    shown = problem.format()
    assert shown.startswith(f"ERROR [{code}] news.jsonl:7 record 'news-7'")
    assert repr(bad[0]) in shown or bad[0] in shown, "the span text is named"
    assert "Fix: " in shown


def test_overlapping_spans_name_both():
    text = "The Rapid Support Forces attacked El Fasher."
    problems = check_spans(doc(text, ("Rapid Support", "ACTOR"), ("Support Forces", "ACTOR")))
    assert [p.code for p in problems] == ["overlap"]
    assert "'Rapid Support'" in problems[0].message and "'Support Forces'" in problems[0].message


def test_a_span_covering_two_others_overlaps_each_of_them():
    text = "The Rapid Support Forces attacked El Fasher."
    problems = check_spans(doc(text, ("Rapid Support Forces", "ACTOR"), ("Rapid", "ACTOR"), ("Forces", "ACTOR")))
    assert [p.code for p in problems] == ["overlap", "overlap"]
    named = [p.message for p in problems]
    assert all("'Rapid Support Forces'" in m for m in named)
    assert any("'Rapid' [4, 9)" in m for m in named) and any("'Forces' [18, 24)" in m for m in named)


def test_a_duplicated_span_is_an_overlap():
    text = "Gunmen killed 12 people."
    problems = check_spans(Document("d", text, spans_from_marks(text, [("12 people", "CASUALTY", "killed")]) * 2))
    assert [p.code for p in problems] == ["overlap"]


# ---- document_from_dict: one JSONL record ---------------------------------------------

TEXT = "Drones hit Odesa at dawn."
BAD_RECORDS = [
    ("not an object", ["a", "list"], "record", "not a JSON object"),
    ("missing id", {"text": TEXT, "spans": []}, "missing-key", "no 'id' key"),
    ("missing text", {"id": "r", "spans": []}, "missing-key", "no 'text' key"),
    ("missing spans", {"id": "r", "text": TEXT}, "missing-key", "no 'spans' key"),
    ("empty id", {"id": "", "text": TEXT, "spans": []}, "id", "non-empty string"),
    ("text not a string", {"id": "r", "text": 5, "spans": []}, "text", "must be a string"),
    ("spans not a list", {"id": "r", "text": TEXT, "spans": {}}, "spans", "must be a list"),
    ("meta not an object", {"id": "r", "text": TEXT, "spans": [], "meta": []}, "meta", "must be an object"),
    ("BOM in the text", {"id": "r", "text": "\ufeff" + TEXT, "spans": []}, "bom", "byte-order mark"),
    ("span not an object", {"id": "r", "text": TEXT, "spans": [[11, 16, "LOCATION"]]}, "span", "not an object"),
    ("span without label", {"id": "r", "text": TEXT, "spans": [{"start": 11, "end": 16}]}, "missing-key", "lacks label"),
    ("offsets not integers", {"id": "r", "text": TEXT, "spans": [{"start": "11", "end": 16, "label": "LOCATION"}]}, "offsets", "must be integers"),
    ("boolean offsets", {"id": "r", "text": TEXT, "spans": [{"start": True, "end": 16, "label": "LOCATION"}]}, "offsets", "must be integers"),
    ("offsets past the text", {"id": "r", "text": TEXT, "spans": [{"start": 11, "end": 99, "label": "LOCATION"}]}, "offsets", "fall outside the text (length 25)"),
    ("negative start", {"id": "r", "text": TEXT, "spans": [{"start": -1, "end": 5, "label": "ACTOR"}]}, "offsets", "fall outside"),
    ("reversed span", {"id": "r", "text": TEXT, "spans": [{"start": 16, "end": 11, "label": "LOCATION"}]}, "offsets", "empty or reversed"),
    ("empty span", {"id": "r", "text": TEXT, "spans": [{"start": 11, "end": 11, "label": "LOCATION"}]}, "offsets", "empty or reversed"),
    ("span text disagrees", {"id": "r", "text": TEXT, "spans": [{"start": 11, "end": 16, "label": "LOCATION", "text": "Kyiv"}]}, "span-text", "'Kyiv' disagrees with text[start:end] 'Odesa'"),
    ("status not a string", {"id": "r", "text": TEXT, "spans": [{"start": 0, "end": 6, "label": "CASUALTY", "status": 1}]}, "status", "must be a string"),
    ("label not a string", {"id": "r", "text": TEXT, "spans": [{"start": 11, "end": 16, "label": ["LOCATION"]}]}, "unknown-label", "'Odesa'"),
]


@pytest.mark.parametrize("name, raw, code, fragment", BAD_RECORDS, ids=[c[0] for c in BAD_RECORDS])
def test_bad_records_are_problems_not_exceptions(name, raw, code, fragment):
    document, problems = document_from_dict(raw, path="in.jsonl", line=3)
    assert [p.code for p in problems] == [code]
    assert fragment in problems[0].message
    assert (problems[0].path, problems[0].line) == ("in.jsonl", 3)
    if code not in ("bom", "id", "meta"):
        assert document is None, "a record with a broken span is not half-read"


def test_a_good_record_reads_back_to_the_same_dict():
    raw = {"id": "r-1", "text": TEXT, "spans": [{"start": 11, "end": 16, "label": "LOCATION", "text": "Odesa"}], "relations": [], "meta": {"conflict": "ukraine"}}
    document, problems = document_from_dict(raw)
    assert problems == []
    assert document.to_dict() == raw


def test_span_from_dict_keeps_status_and_score():
    s, problems = span_from_dict({"start": 0, "end": 6, "label": "CASUALTY", "status": "killed", "score": 0.75}, "Twelve died.", index=0)
    assert problems == [] and (s.status, s.score) == ("killed", 0.75)
