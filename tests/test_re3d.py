"""re3d reading and cross-schema scoring, on a tiny re3d-format sample written here (no re3d text)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conflict_spans.document import Document, Span
from conflict_spans.evaluation.re3d import RE3D_LABEL_MAP, evaluate_re3d, load_re3d_map, read_re3d
from conflict_spans.problems import CorpusError

from support import spans_from_marks

TEXT_A = "The coalition said its aircraft struck positions near Raqqa on Tuesday."
TEXT_B = "General Amir Haddad met the mayor of Mosul."


def entity(doc_id: str, text: str, surface: str, kind: str, confidence: float = 1.0, value: str | None = None) -> dict:
    begin = text.index(surface)
    return {"_id": f"{doc_id}-{begin}-{kind}", "begin": begin, "end": begin + len(surface), "type": kind,
            "value": surface if value is None else value, "documentId": doc_id, "confidence": confidence}


def write_ndjson(path: Path, records: list[dict], bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    content = "".join(json.dumps(r) + "\n" for r in records)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + content.encode("utf-8"))


@pytest.fixture
def re3d_root(tmp_path: Path) -> Path:
    root = tmp_path / "re3d"
    write_ndjson(root / "Source_One" / "documents.json", [{"_id": "A", "title": "t", "text": TEXT_A, "sourceName": "one"}], bom=True)
    write_ndjson(root / "Source_One" / "entities.json", [
        entity("A", TEXT_A, "The coalition", "Organisation"),
        entity("A", TEXT_A, "aircraft", "MilitaryPlatform"),
        entity("A", TEXT_A, "Raqqa", "Location", value="Raqqa "),  # value differs from the text: offsets win
        entity("A", TEXT_A, "Tuesday", "Temporal"),
        entity("A", TEXT_A, "positions", "Location", confidence=0.3),  # below the threshold: not gold
    ])
    write_ndjson(root / "Source_Two" / "documents.json", [{"_id": "B", "title": "t", "text": TEXT_B, "sourceName": "two"}])
    write_ndjson(root / "Source_Two" / "entities.json", [
        entity("B", TEXT_B, "General Amir Haddad", "Person"),
        entity("B", TEXT_B, "mayor", "Person", confidence=0.5),
        entity("B", TEXT_B, "Mosul", "Location"),
    ])
    return root


def test_read_re3d(re3d_root):
    corpus = read_re3d(re3d_root, min_confidence=0.5)
    assert [d.id for d in corpus.docs] == ["A", "B"]
    assert [d.meta["source"] for d in corpus.docs] == ["Source_One", "Source_Two"]
    assert [(s.label, corpus.docs[0].text[s.start:s.end]) for s in corpus.docs[0].spans] == [
        ("Organisation", "The coalition"), ("MilitaryPlatform", "aircraft"), ("Location", "Raqqa"), ("Temporal", "Tuesday")]
    assert corpus.low_confidence == 1 and corpus.value_mismatches == 1
    assert len(corpus.docs[1].spans) == 3  # confidence 0.5 is kept


def test_bad_offsets_are_errors(tmp_path):
    root = tmp_path / "re3d" / "S"
    write_ndjson(root / "documents.json", [{"_id": "A", "text": "short"}])
    write_ndjson(root / "entities.json", [{"_id": "x", "documentId": "A", "begin": 2, "end": 40, "type": "Location", "value": "?", "confidence": 1}])
    with pytest.raises(CorpusError, match=r"\[2, 40\)"):
        read_re3d(root.parent)


def test_no_source_folders(tmp_path):
    with pytest.raises(CorpusError, match="no re3d source folders"):
        read_re3d(tmp_path)


def test_committed_map_names_every_label():
    label_map = load_re3d_map(RE3D_LABEL_MAP)
    assert label_map.classes == ("PARTY", "LOCATION")
    assert label_map.ours == {"ACTOR": "PARTY", "ATTRIBUTION": "PARTY", "LOCATION": "LOCATION", "CASUALTY": None}
    assert label_map.min_confidence == 0.5


class Fixed:
    """Predicts given spans per document id."""

    def __init__(self, spans: dict[str, list[Span]]):
        self.spans = spans

    def predict_documents(self, docs):
        return [Document(d.id, d.text, self.spans.get(d.id, []), d.meta) for d in docs]


def test_evaluate_re3d_exact_and_overlap(re3d_root):
    predictor = Fixed({
        "A": spans_from_marks(TEXT_A, [("coalition", "ATTRIBUTION"), ("Raqqa", "LOCATION")]),  # overlap only, then exact
        "B": [*spans_from_marks(TEXT_B, [("General Amir Haddad", "ACTOR"), ("Mosul", "LOCATION")]),
              Span(0, 7, "CASUALTY", "killed")],  # CASUALTY is left out by the map
    })
    result = evaluate_re3d({"fixed": predictor}, re3d_root)
    scores = result["systems"]["fixed"]
    # gold: PARTY {The coalition, General Amir Haddad, mayor}, LOCATION {Raqqa, Mosul}; predicted: 4 mapped spans
    assert scores["exact"]["precision"] == pytest.approx(3 / 4)
    assert scores["exact"]["recall"] == pytest.approx(3 / 5)
    assert scores["overlap"]["precision"] == pytest.approx(4 / 4)
    assert scores["overlap"]["recall"] == pytest.approx(4 / 5)
    assert scores["per_class"]["PARTY"]["support"] == 3
    assert result["data"]["gold_by_class"] == {"PARTY": 3, "LOCATION": 2}
    dumped = json.dumps(result)
    assert "coalition" not in dumped and "Haddad" not in dumped  # scores and counts only, never re3d text
