"""Cross-schema evaluation on re3d (Dstl): real conflict reporting no one on the project wrote.

EVALUATION ONLY: nothing here trains, tunes or selects on re3d, and nothing
writes its text anywhere; the report gets scores and counts only.

re3d is read straight from its folders (``<root>/<source>/documents.json`` and
``entities.json``, newline-delimited JSON from mongoexport, perhaps with a
UTF-8 byte-order mark). Entity offsets are half-open character offsets into
the document text, as ours are. Annotations below the map's ``min_confidence``
are not gold. Both label sets are mapped onto shared classes by
``conflict_spans/resources/re3d_label_map.json``; scores are exact (nervaluate strict: offsets and
class) and overlap (nervaluate ent_type: any overlap, same class).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conflict_spans.document import Document, Span
from conflict_spans.evaluation.predictors import Predictor, predict_checked
from conflict_spans.evaluation.scoring import nervaluate_scores, relabel, strict_scores
from conflict_spans.paths import CHECKOUT
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.resources import resource_path
from conflict_spans.schema import LABEL_NAMES

RE3D_DIR = CHECKOUT.parent / "shared" / "data" / "re3d" if CHECKOUT else None  # the workplace copy beside a checkout; else --re3d
RE3D_LABEL_MAP = resource_path("re3d_label_map.json")
DOCUMENTS, ENTITIES = "documents.json", "entities.json"


@dataclass(frozen=True)
class Re3dMap:
    path: str
    min_confidence: float
    classes: tuple[str, ...]
    re3d: dict[str, str | None]
    ours: dict[str, str | None]


def load_re3d_map(path: Path = RE3D_LABEL_MAP) -> Re3dMap:
    raw = json.loads(path.read_text(encoding="utf-8"))
    classes = tuple(raw.get("classes", ()))
    problems = []
    for side in ("re3d", "ours"):
        bad = {k: v for k, v in raw.get(side, {}).items() if v is not None and v not in classes}
        if bad:
            problems.append(Problem("label-map", f"the {side!r} map sends labels to classes not listed in \"classes\"",
                                    f"map to one of {', '.join(classes)} or to null", path=str(path), value=", ".join(f"{k} -> {v}" for k, v in bad.items())))
    missing = [label for label in LABEL_NAMES if label not in raw.get("ours", {})]
    if missing:
        problems.append(Problem("label-map", "the \"ours\" map does not name every label of the schema",
                                "name each (map it to a class or to null)", path=str(path), value=", ".join(missing)))
    if problems:
        raise CorpusError(problems)
    return Re3dMap(str(path), float(raw.get("min_confidence", 0.5)), classes, dict(raw["re3d"]), dict(raw["ours"]))


def _read_ndjson(path: Path) -> list[tuple[int, dict[str, Any]]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise CorpusError(Problem("json", f"malformed JSON ({exc.msg})", "re3d files hold one JSON object per line (mongoexport)", path=str(path), line=number)) from exc
    return records


def source_folders(root: Path) -> list[Path]:
    if (root / DOCUMENTS).exists():
        return [root]
    folders = sorted(p for p in root.iterdir() if (p / DOCUMENTS).exists() and (p / ENTITIES).exists()) if root.is_dir() else []
    if not folders:
        raise CorpusError(Problem("re3d", "no re3d source folders found", f"pass the re3d folder: it holds one folder per source, each with {DOCUMENTS} and {ENTITIES}", path=str(root)))
    return folders


@dataclass
class Re3dCorpus:
    docs: list[Document]  # spans carry re3d's entity types
    low_confidence: int = 0
    value_mismatches: int = 0  # records whose `value` differs from text[begin:end] (quotes, line breaks); offsets are used
    warnings: list[Problem] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"documents": len(self.docs), "sources": dict(Counter(str(d.meta.get("source")) for d in self.docs)),
                "gold_by_type": dict(Counter(s.label for d in self.docs for s in d.spans)),
                "below_min_confidence": self.low_confidence, "value_mismatches": self.value_mismatches}


def read_re3d(root: Path, *, min_confidence: float = 0.5) -> Re3dCorpus:
    """Every document of every source folder under ``root`` with its entities of confidence >= ``min_confidence``."""
    corpus = Re3dCorpus([])
    by_id: dict[str, Document] = {}
    problems: list[Problem] = []
    for folder in source_folders(root):
        for line, record in _read_ndjson(folder / DOCUMENTS):
            doc_id, text = record.get("_id"), record.get("text")
            if not isinstance(doc_id, str) or not isinstance(text, str):
                problems.append(Problem("re3d", "document record lacks a string _id or text", "check the file", path=str(folder / DOCUMENTS), line=line))
                continue
            if doc_id in by_id:
                problems.append(Problem("re3d", "document id occurs twice", "remove the duplicate document", path=str(folder / DOCUMENTS), line=line, record=doc_id))
                continue
            by_id[doc_id] = Document(doc_id, text, [], {"source": folder.name})
        for line, record in _read_ndjson(folder / ENTITIES):
            doc = by_id.get(record.get("documentId"))
            where = {"path": str(folder / ENTITIES), "line": line, "record": record.get("documentId")}
            if doc is None:
                problems.append(Problem("re3d", "entity of an unknown document", f"check that {DOCUMENTS} holds the document", **where))
                continue
            begin, end, kind = record.get("begin"), record.get("end"), record.get("type")
            if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin < end <= len(doc.text)) or not isinstance(kind, str):
                problems.append(Problem("re3d", f"entity offsets [{begin}, {end}) or type {kind!r} unusable (text length {len(doc.text)})", "check the record", **where))
                continue
            if float(record.get("confidence", 0.0)) < min_confidence:
                corpus.low_confidence += 1
                continue
            if record.get("value") != doc.text[begin:end]:
                corpus.value_mismatches += 1
            doc.spans.append(Span(begin, end, kind))
    if problems:
        raise CorpusError(problems)
    corpus.docs = list(by_id.values())
    return corpus


def _scores(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]], classes: Sequence[str]) -> dict[str, Any]:
    strict = strict_scores(gold, pred, classes)
    schemes = nervaluate_scores(gold, pred, classes, schemes=("strict", "ent_type", "partial"))
    overlap = schemes["ent_type"]
    return {
        "exact": {"precision": strict.micro.precision, "recall": strict.micro.recall, "f1": strict.micro.f1},
        "overlap": {"precision": overlap.overall.precision, "recall": overlap.overall.recall, "f1": overlap.overall.f1},
        "per_class": {c: {"exact_f1": strict.per_label[c].f1, "overlap_f1": overlap.per_label[c].f1,
                          "support": strict.per_label[c].n_gold, "predicted": strict.per_label[c].n_pred} for c in classes},
        "nervaluate": {name: report.overall.to_dict() for name, report in schemes.items()},
    }


def evaluate_re3d(systems: Mapping[str, Predictor], root: Path, *, map_path: Path = RE3D_LABEL_MAP) -> dict[str, Any]:
    """Exact and overlap scores of each system on re3d, under the shared classes of the label map."""
    label_map = load_re3d_map(map_path)
    corpus = read_re3d(root, min_confidence=label_map.min_confidence)
    gold = relabel([d.spans for d in corpus.docs], label_map.re3d)
    out: dict[str, Any] = {"data": {**corpus.summary(), "root": str(root), "label_map": label_map.path,
                                    "gold_by_class": dict(Counter(s.label for spans in gold for s in spans))},
                           "classes": list(label_map.classes), "systems": {}}
    for name, predictor in systems.items():
        predictions = predict_checked(name, predictor, corpus.docs, LABEL_NAMES)
        pred = relabel([d.spans for d in predictions.docs], label_map.ours)
        out["systems"][name] = {**_scores(gold, pred, label_map.classes), "seconds": round(predictions.seconds, 1)}
    return out
