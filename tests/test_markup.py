"""The authoring format (``[text]{CODE}`` inline spans) <-> JSONL documents, exactly.

Table-driven cases are short news sentences written for this test; a hypothesis
property covers arbitrary text (markup characters, CRLF, emoji, combining
marks) and arbitrary non-overlapping spans; every committed source file must
come back byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conflict_spans.corpus.markup import document_to_markup, format_code, markup_to_document, parse_body, parse_code, read_markup_file
from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABEL_NAMES, STATUS_VALUES

from conftest import REPO_ROOT
from support import spans_from_marks

HEADER = "---\nid: test-001\nconflict: sudan\ncountry: Sudan\ngenre: wire\n---\n"

# (name, body in the authoring format, plain text, [(surface, label, status)])
ROUND_TRIPS = [
    ("plain", "[RSF]{ACT} shelling kills [at least 12]{CAS:killed} in [El Fasher]{LOC}",
     "RSF shelling kills at least 12 in El Fasher",
     [("RSF", "ACTOR", None), ("at least 12", "CASUALTY", "killed"), ("El Fasher", "LOCATION", None)]),
    ("paragraphs", "[Drones]{ACT} hit [Odesa]{LOC}\n\nODESA — The strike wounded [four]{CAS:injured}, [Governor Oleh Kiper]{ATT} said.",
     "Drones hit Odesa\n\nODESA — The strike wounded four, Governor Oleh Kiper said.",
     [("Drones", "ACTOR", None), ("Odesa", "LOCATION", None), ("four", "CASUALTY", "injured"), ("Governor Oleh Kiper", "ATTRIBUTION", None)]),
    ("escaped brackets and braces", "The [army]{ATT} said \\[sic\\] that \\{12\\} died in [Kadugli]{LOC}",
     "The army said [sic] that {12} died in Kadugli", [("army", "ATTRIBUTION", None), ("Kadugli", "LOCATION", None)]),
    ("escaped backslash", "File C:\\\\reports was leaked, [officials]{ATT} said", "File C:\\reports was leaked, officials said",
     [("officials", "ATTRIBUTION", None)]),
    ("escape inside a span", "[Group \\[A\\]]{ACT} fired on [Bunia]{LOC}", "Group [A] fired on Bunia",
     [("Group [A]", "ACTOR", None), ("Bunia", "LOCATION", None)]),
    ("emoji", "🚨 [Drones]{ACT} hit [Kharkiv]{LOC} 🏙️ overnight", "🚨 Drones hit Kharkiv 🏙️ overnight",
     [("Drones", "ACTOR", None), ("Kharkiv", "LOCATION", None)]),
    ("combining marks", "Shelling hit [Bogota\u0301]{LOC}; [Me\u0301decins Sans Frontie\u0300res]{ATT} said",
     "Shelling hit Bogota\u0301; Me\u0301decins Sans Frontie\u0300res said",
     [("Bogota\u0301", "LOCATION", None), ("Me\u0301decins Sans Frontie\u0300res", "ATTRIBUTION", None)]),
    ("CRLF", "[Gunmen]{ACT} kill [9]{CAS:killed}\r\n\r\n[Police]{ATT} said the attack hit [Kaduna]{LOC}.",
     "Gunmen kill 9\r\n\r\nPolice said the attack hit Kaduna.",
     [("Gunmen", "ACTOR", None), ("9", "CASUALTY", "killed"), ("Police", "ATTRIBUTION", None), ("Kaduna", "LOCATION", None)]),
    ("curly quotes", "“[We]{ATT} will not leave [Pokrovsk]{LOC},” the [commander]{ATT} said.",
     "“We will not leave Pokrovsk,” the commander said.",
     [("We", "ATTRIBUTION", None), ("Pokrovsk", "LOCATION", None), ("commander", "ATTRIBUTION", None)]),
    ("abbreviation period inside", "The [U.S.]{ACT} struck [Sanaa]{LOC}.", "The U.S. struck Sanaa.", [("U.S.", "ACTOR", None), ("Sanaa", "LOCATION", None)]),
    ("adjacent spans", "[Ukraine]{ACT}[Poland]{ACT}", "UkrainePoland", [("Ukraine", "ACTOR", None), ("Poland", "ACTOR", None)]),
    ("non-Latin scripts", "[Киев]{LOC} и [الخرطوم]{LOC} و [北京]{LOC} और [दिल्ली]{LOC}", "Киев и الخرطوم و 北京 और दिल्ली",
     [("Киев", "LOCATION", None), ("الخرطوم", "LOCATION", None), ("北京", "LOCATION", None), ("दिल्ली", "LOCATION", None)]),
    ("no spans", "Calm returned to the city on Monday.", "Calm returned to the city on Monday.", []),
]


expected_spans = spans_from_marks


@pytest.mark.parametrize("name, body, text, marks", ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_markup_to_document_and_back(name, body, text, marks):
    source = HEADER + body + "\n"
    doc = markup_to_document(source)
    assert doc.text == text
    assert doc.spans == expected_spans(text, marks)
    assert [doc.text[s.start:s.end] for s in doc.spans] == [m[0] for m in marks]
    assert doc.id == "test-001" and doc.meta == {"conflict": "sudan", "country": "Sudan", "genre": "wire"}
    assert document_to_markup(doc) == source
    assert markup_to_document(document_to_markup(doc)) == doc


def test_full_label_names_are_read_and_written_back_as_codes():
    doc = markup_to_document(HEADER + "[Gunmen]{ACTOR} wounded [30 people]{CASUALTY:injured}, [police]{ATTRIBUTION} said\n")
    text = "Gunmen wounded 30 people, police said"
    assert doc.spans == expected_spans(text, [("Gunmen", "ACTOR", None), ("30 people", "CASUALTY", "injured"), ("police", "ATTRIBUTION", None)])
    assert document_to_markup(doc) == HEADER + "[Gunmen]{ACT} wounded [30 people]{CAS:injured}, [police]{ATT} said\n"


def test_a_crlf_file_keeps_crlf_line_breaks_but_not_the_final_one():
    source = HEADER.replace("\n", "\r\n") + "[Gunmen]{ACT} kill [9]{CAS:killed}\r\n\r\nPolice said.\r\n"
    doc = markup_to_document(source)
    assert doc.text == "Gunmen kill 9\r\n\r\nPolice said."
    assert doc.meta["genre"] == "wire" and doc.id == "test-001"


def test_trailing_blank_lines_are_not_text():
    assert markup_to_document(HEADER + "[Gunmen]{ACT} kill 9\n\n\n").text == "Gunmen kill 9"


def test_header_keys_are_written_in_the_documented_order():
    doc = Document("sudan-001", "Calm.", [], {"group": "g", "zeta": "z", "date": "2024-05-12", "conflict": "sudan", "country": "Sudan", "genre": "wire", "region": "North Darfur"})
    head = document_to_markup(doc).split("---\n")[1].splitlines()
    assert [line.split(":")[0] for line in head] == ["id", "conflict", "country", "region", "genre", "date", "group", "zeta"]


@pytest.mark.parametrize("code, parsed", [("ACT", ("ACTOR", None)), ("CAS:killed", ("CASUALTY", "killed")), ("CASUALTY:injured", ("CASUALTY", "injured")),
                                          ("LOCATION", ("LOCATION", None)), ("XYZ", ("XYZ", None))])
def test_parse_code(code, parsed):
    assert parse_code(code) == parsed


def test_format_code_uses_the_short_code():
    assert format_code(Span(0, 1, "CASUALTY", "injured")) == "CAS:injured"
    assert format_code(Span(0, 1, "ATTRIBUTION")) == "ATT"


# ---- parse errors: one clear problem, with the line ----------------------------------

PARSE_ERRORS = [
    # (name, source, code, fragment, line)
    ("unknown code", HEADER + "Drones hit [Odesa]{PLACE}\n", "markup", "unknown label code 'PLACE'", 7),
    ("nested spans", HEADER + "[Rapid [Support]{ACT} Forces]{ACT}\n", "markup", "spans cannot nest", 7),
    ("stray closing bracket", HEADER + "Drones hit Odesa]\n", "markup", "']' without an open span", 7),
    ("bracket without code", HEADER + "Drones hit [Odesa] at dawn\n", "markup", "followed directly by {CODE}", 7),
    ("space before the code", HEADER + "Drones hit [Odesa] {LOC}\n", "markup", "followed directly by {CODE}", 7),
    ("empty span", HEADER + "Drones hit []{LOC}\n", "markup", "empty span", 7),
    ("unclosed span on an earlier line", HEADER + "Headline\n\n[Drones hit Odesa\nat dawn\n", "markup", "never closed", 9),
    ("stray brace", HEADER + "Drones hit Odesa {sic}\n", "markup", "unexpected '{'", 7),
    ("bare backslash", HEADER + "Drones hit Odesa \\o/\n", "markup", "backslash must escape", 7),
    ("error on a later line", HEADER + "Headline\n\nDrones hit [Odesa]{LCO}\n", "markup", "unknown label code", 9),
    ("BOM", "\ufeff" + HEADER + "Drones hit Odesa\n", "bom", "byte-order mark", 1),
    ("no header", "Drones hit Odesa\n", "header", "must start with a '---' header", 1),
    ("header never closed", "---\nid: x-001\nDrones hit Odesa\n", "header", "never closed", 1),
    ("header line without colon", "---\nid: x-001\nconflict sudan\n---\nDrones\n", "header", "'key: value'", 3),
    ("header without id", "---\nconflict: sudan\n---\nDrones\n", "header", "no id", 1),
    ("empty file", "", "header", "must start with a '---' header", 1),
]


@pytest.mark.parametrize("name, source, code, fragment, line", PARSE_ERRORS, ids=[c[0] for c in PARSE_ERRORS])
def test_parse_errors_name_the_file_line_and_fix(name, source, code, fragment, line):
    with pytest.raises(CorpusError) as err:
        markup_to_document(source, path="corpus/src/ukraine/x-001.txt")
    (problem,) = err.value.problems
    assert problem.code == code
    assert fragment in problem.message
    assert problem.path == "corpus/src/ukraine/x-001.txt" and problem.line == line
    assert problem.fix


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "x-001.txt"
    path.write_bytes((HEADER + "Caf\xe9 bombed\n").encode("latin-1"))
    with pytest.raises(CorpusError, match="not valid UTF-8"):
        read_markup_file(path)


@pytest.mark.parametrize("doc, fragment", [
    (Document("d", "Rapid Support Forces", [Span(0, 13, "ACTOR"), Span(6, 20, "ACTOR")]), "overlapping spans"),
    (Document("d", "Drones hit Odesa\n", []), "newline"),
    (Document("d", "Drones hit Odesa\r", []), "newline"),
    (Document("d", "\nDrones hit Odesa", []), "newline"),
    (Document("d", "Drones", [], {"region": "North\nDarfur"}), "spans several lines"),
])
def test_documents_the_format_cannot_hold_are_refused(doc, fragment):
    with pytest.raises(CorpusError, match=fragment):
        document_to_markup(doc)


def test_parse_body_counts_lines_inside_spans():
    with pytest.raises(CorpusError) as err:
        parse_body("[two\nline]{ACT} and {", first_line=10)
    assert err.value.problems[0].line == 11


# ---- property: any document the format can hold comes back exactly -------------------

TEXT_CHARS = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from(list("[]{}\\ \r\n\t.,“”’-") + ["😀", "\u0301", "\u200d", "\ufeff", "ж", "京", "ب", "न", "\u093f"]),
)
META_VALUE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Zl", "Zp", "Cc")), max_size=12).map(str.strip)
META_KEY = st.sampled_from(["conflict", "country", "region", "genre", "date", "group", "source", "note"])


@st.composite
def holdable_documents(draw) -> Document:
    text = draw(st.text(TEXT_CHARS, max_size=80)).rstrip("\r\n").lstrip("\n")
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=12))))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        label = draw(st.sampled_from(LABEL_NAMES))
        status = draw(st.sampled_from((None,) + STATUS_VALUES))
        spans.append(Span(start, end, label, status))
    meta = draw(st.dictionaries(META_KEY, META_VALUE, max_size=4))
    doc_id = draw(st.from_regex(r"[a-z]{1,8}-[0-9]{3}", fullmatch=True))
    return Document(doc_id, text, spans, meta)


@settings(max_examples=500, deadline=None)
@given(doc=holdable_documents())
def test_any_holdable_document_round_trips_through_markup(doc):
    source = document_to_markup(doc)
    back = markup_to_document(source)
    assert (back.id, back.text, back.spans, back.meta) == (doc.id, doc.text, sorted(doc.spans), doc.meta)
    assert document_to_markup(back) == source


# ---- the committed sources -------------------------------------------------------------

SOURCES = sorted((REPO_ROOT / "corpus" / "src").rglob("*.txt"))


def test_the_bundled_corpus_has_sources():
    assert len(SOURCES) >= 100


def test_every_committed_source_round_trips_byte_for_byte():
    changed = [str(p.relative_to(REPO_ROOT)) for p in SOURCES if document_to_markup(read_markup_file(p)) != p.read_text(encoding="utf-8")]
    assert changed == [], "sources that markup would rewrite (not in canonical form)"
