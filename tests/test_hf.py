"""Hugging Face DatasetDict and CoNLL views of the corpus (conflict_spans.corpus.formats): both
convert back to the JSONL spans exactly."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from test_align_property import documents

from conflict_spans.cli import main
from conflict_spans.corpus.build import load_splits
from conflict_spans.corpus.formats import (conll_to_spans, document_to_word_tags, documents_to_conll, documents_to_rows, row_to_document,
                                           to_dataset_dict)
from conflict_spans.corpus.io import read_documents, write_jsonl
from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError
from conflict_spans.schema import SPLITS, TAGS

from conftest import REPO_ROOT


@pytest.fixture(scope="module")
def bundled() -> dict[str, list[Document]]:
    return load_splits(REPO_ROOT / "corpus" / "data")


@pytest.fixture(scope="module")
def dataset(bundled):
    return to_dataset_dict(bundled)


def triples(spans) -> list[tuple[int, int, str]]:
    return sorted((s.start, s.end, s.label) for s in spans)


SMALL = [
    Document("t-1", "Gunmen killed 12 people in Goma, police said.",
             [Span(0, 6, "ACTOR"), Span(14, 23, "CASUALTY", "killed"), Span(27, 31, "LOCATION"), Span(33, 39, "ATTRIBUTION")], {"conflict": "drc"}),
    Document("t-2", "🚨 Drones hit Kharkiv\r\n\r\n[Six]{people} were wounded in Bogota\u0301, the U.S. said.",
             [Span(2, 8, "ACTOR"), Span(13, 20, "LOCATION"), Span(25, 28, "CASUALTY", "injured"), Span(54, 61, "LOCATION"), Span(67, 71, "ATTRIBUTION")], {"conflict": "ukraine"}),
    Document("t-3", "Calm returned on Monday.", [], {}),
]


def test_small_documents_have_the_intended_span_texts():
    assert [SMALL[1].text[s.start:s.end] for s in SMALL[1].spans] == ["Drones", "Kharkiv", "Six", "Bogota\u0301", "U.S."]


# ---- DatasetDict -------------------------------------------------------------------------

def test_dataset_dict_has_one_dataset_per_split_with_class_label_tags(bundled, dataset):
    assert list(dataset) == list(SPLITS)
    for split in SPLITS:
        assert dataset[split].num_rows == len(bundled[split])
        assert dataset[split].features["ner_tags"].feature.names == list(TAGS)
        assert dataset[split]["id"] == [d.id for d in bundled[split]]


def test_dataset_rows_convert_back_to_the_documents_exactly(bundled, dataset):
    for split in SPLITS:
        for row, doc in zip(dataset[split], bundled[split]):
            back = row_to_document(row)
            assert (back.id, back.text) == (doc.id, doc.text)
            assert back.spans == sorted(doc.spans), doc.id  # offsets, labels and CASUALTY status
            assert back.meta == {"conflict": doc.meta["conflict"]}


def test_dataset_tokens_are_the_text_at_their_offsets(dataset):
    row = dataset["test"][0]
    assert row["tokens"] == [row["text"][s:e] for s, e in zip(row["token_starts"], row["token_ends"])]
    assert len(row["ner_tags"]) == len(row["tokens"])


def test_rows_of_hand_written_documents_round_trip():
    rows = documents_to_rows(SMALL)
    for i, doc in enumerate(SMALL):
        row = {key: values[i] for key, values in rows.items()}
        assert row_to_document(row) == Document(doc.id, doc.text, sorted(doc.spans), {"conflict": doc.meta["conflict"]} if doc.meta else {})


def test_word_tags_follow_iob2():
    _, tags = document_to_word_tags(SMALL[0])
    assert tags == ["B-ACTOR", "O", "B-CASUALTY", "I-CASUALTY", "O", "B-LOCATION", "O", "B-ATTRIBUTION", "O", "O"]


def test_a_span_off_word_boundaries_cannot_be_exported_and_is_named():
    doc = Document("bad-1", "Militants attacked Maiduguri.", [Span(19, 25, "LOCATION")])
    with pytest.raises(CorpusError) as err:
        document_to_word_tags(doc)
    (problem,) = err.value.problems
    assert problem.record == "bad-1" and problem.value == "Maidug" and "conflict-spans validate" in problem.fix


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(max_words=30))
def test_random_multilingual_documents_round_trip_through_rows_and_conll(doc):
    rows = documents_to_rows([doc])
    back = row_to_document({key: values[0] for key, values in rows.items()})
    assert back.spans == sorted(doc.spans)
    assert triples(conll_to_spans(documents_to_conll([doc]), {doc.id: doc.text})[doc.id]) == triples(doc.spans)


# ---- CoNLL -----------------------------------------------------------------------------------

def test_conll_round_trips_exactly_on_the_bundled_corpus(bundled):
    for split, docs in bundled.items():
        back = conll_to_spans(documents_to_conll(docs), {d.id: d.text for d in docs})
        assert list(back) == [d.id for d in docs]
        for doc in docs:
            assert triples(back[doc.id]) == triples(doc.spans), doc.id


def test_conll_layout_is_docstart_id_comment_then_word_tab_tag_and_a_blank_line_per_document():
    lines = documents_to_conll(SMALL[:2]).split("\n")
    assert lines[:5] == ["-DOCSTART- -X- -X- O", "# id = t-1", "Gunmen\tB-ACTOR", "killed\tO", "12\tB-CASUALTY"]
    assert lines[12:15] == ["", "-DOCSTART- -X- -X- O", "# id = t-2"]


CONLL_ERRORS = [
    ("unknown tag", "-DOCSTART- -X- -X- O\n# id = t-1\n\nGunmen\tB-PERSON\n", "unknown tag", "B-PERSON"),
    ("no tab", "-DOCSTART- -X- -X- O\n# id = t-1\n\nGunmen B-ACTOR\n", "separated by a tab", "Gunmen B-ACTOR"),
    ("unknown document", "-DOCSTART- -X- -X- O\n# id = t-9\n\nGunmen\tB-ACTOR\n", "not among the given texts", None),
    ("word not in the text", "-DOCSTART- -X- -X- O\n# id = t-1\n\nRebels\tB-ACTOR\n", "not found in the text", "Rebels"),
    ("no id line", "Gunmen\tB-ACTOR\nkilled\tO\n", "before any '# id = ' line", "Gunmen"),
]


@pytest.mark.parametrize("name, conll, fragment, value", CONLL_ERRORS, ids=[c[0] for c in CONLL_ERRORS])
def test_broken_conll_is_a_clear_error(name, conll, fragment, value):
    with pytest.raises(CorpusError) as err:
        conll_to_spans(conll, {"t-1": SMALL[0].text})
    (problem,) = err.value.problems
    assert fragment in problem.message and problem.fix
    if value is not None:
        assert problem.value == value


def test_conll_command_writes_a_file_that_reads_back(tmp_path, capsys):
    source = tmp_path / "small.jsonl"
    write_jsonl(source, SMALL)
    out = tmp_path / "small.conll"
    assert main(["conll", str(source), str(out)]) == 0
    texts = {d.id: d.text for d in read_documents(source)}
    back = conll_to_spans(out.read_text(encoding="utf-8"), texts)
    assert {k: triples(v) for k, v in back.items()} == {d.id: triples(d.spans) for d in SMALL}


def test_conll_command_writes_nothing_for_a_span_it_cannot_carry(tmp_path, capsys):
    source = tmp_path / "bad.jsonl"
    write_jsonl(source, [SMALL[0], Document("bad-1", "Militants attacked Maiduguri.", [Span(19, 25, "LOCATION")])])
    out = tmp_path / "bad.conll"
    assert main(["conll", str(source), str(out)]) == 1
    assert not out.exists()
    assert "'bad-1'" in capsys.readouterr().err
