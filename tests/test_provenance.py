"""Provenance: P1/P2 review cases, the review file that resolves them, and meta.provenance on every built record."""

from __future__ import annotations

import json

import pytest

from conflict_spans.corpus.audit import audit
from conflict_spans.corpus.markup import document_to_markup, parse_body
from conflict_spans.corpus.provenance import PROVENANCE, cases, person_name, read_review
from conflict_spans.document import Document


def doc(markup: str, doc_id: str = "d1", genre: str = "wire") -> Document:
    text, spans = parse_body(markup)
    return Document(doc_id, text, spans, {"conflict": "sudan", "genre": genre, "country": "Sudan"})


@pytest.mark.parametrize("text, name", [
    ("Brig. Gen. Nabil Abdallah", "Nabil Abdallah"),
    ("Dr. Emina Karahasanović", "Emina Karahasanović"),
    ("army spokesman", None),
    ("Ministry of Foreign Affairs", None),
    ("UNAMA", None),
    ("he", None),
    ("Rapid Support Forces", None),
])
def test_person_name(text, name):
    assert person_name(text) == name


def test_a_quotation_by_a_named_person_is_a_case_and_one_by_an_institution_is_not():
    d = doc("“We will hold the bridge,” said [Col. Amir Haddad]{ATT}.\n\n“The road is open,” the [army]{ATT} said.")
    found = cases(d)
    assert [(c.kind, c.name) for c in found] == [("named-speaker", "Amir Haddad")]
    assert "first person" in found[0].note


def test_a_pronoun_speaker_points_back_to_the_named_person():
    d = doc("[Col. Amir Haddad]{ATT} spoke at dawn.\n\n“Nobody passes,” [he]{ATT} said.")
    assert [c.name for c in cases(d)] == ["Amir Haddad"]


def test_an_official_genre_names_its_issuer():
    d = doc("Statement by the [Northern Relief Collective]{ATT}\n\nWe call for access to [Tawila]{LOC}.", genre="statement")
    assert [(c.kind, c.name) for c in cases(d)] == [("official-text", "Northern Relief Collective")]


def test_recorded_verdicts_resolve_cases_in_the_audit(tmp_path):
    d = doc("“We will hold the bridge,” said [Col. Amir Haddad]{ATT}.")
    assert audit([d])["counts"]["provenance-named-speaker"] == 1
    review = tmp_path / "review.tsv"
    review.write_text("doc_id\tkind\tname\tverdict\tnote\nd1\tnamed-speaker\tAmir Haddad\tinvented\tinvented brigade commander\n", encoding="utf-8")
    assert audit([d], provenance_review=read_review(review))["counts"]["provenance-named-speaker"] == 0


def test_an_unknown_verdict_leaves_the_case_open(tmp_path):
    d = doc("“We will hold the bridge,” said [Col. Amir Haddad]{ATT}.")
    review = tmp_path / "review.tsv"
    review.write_text("doc_id\tkind\tname\tverdict\tnote\nd1\tnamed-speaker\tAmir Haddad\tprobably fine\t\n", encoding="utf-8")
    assert audit([d], provenance_review=read_review(review))["counts"]["provenance-named-speaker"] == 1


def test_build_adds_the_provenance_statement_and_markup_leaves_it_out(run_cli, tmp_path):
    src = tmp_path / "src" / "sudan"
    src.mkdir(parents=True)
    (src / "sudan-001.txt").write_text("---\nid: sudan-001\nconflict: sudan\ncountry: Sudan\ngenre: wire\n---\n"
                                       "Shelling hits [El Obeid]{LOC}\n\n[Medics]{ATT} said [nine people]{CAS:killed} died.\n", encoding="utf-8")
    result = run_cli("build", "--src", tmp_path / "src", "--out", tmp_path / "data", "--splits", tmp_path / "splits.json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(l) for p in sorted((tmp_path / "data").glob("*.jsonl")) for l in p.read_text(encoding="utf-8").splitlines()]
    assert [r["meta"]["provenance"] for r in records] == [PROVENANCE]
    built = Document(records[0]["id"], records[0]["text"], [], records[0]["meta"])
    assert "provenance" not in document_to_markup(built)


def test_every_provenance_case_of_the_bundled_corpus_has_a_recorded_verdict():
    from conflict_spans.corpus.build import load_sources
    from conflict_spans.corpus.provenance import unresolved
    from conflict_spans.paths import CORPUS_DIR

    open_cases = unresolved(load_sources(), read_review(CORPUS_DIR / "provenance_review.tsv"))
    assert not open_cases, [(c.doc_id, c.kind, c.name) for c in open_cases[:10]]
