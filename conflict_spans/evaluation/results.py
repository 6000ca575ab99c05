"""What an evaluation holds once it has run: one ``SystemResult`` per system and the ``Evaluation`` around them.

The report, the model card and the README table read these; ``run`` fills them in.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conflict_spans.corpus.compare import ErrorRecord, kind_counts
from conflict_spans.corpus.io import dumps_jsonl
from conflict_spans.document import Document
from conflict_spans.evaluation.predictors import Predictions
from conflict_spans.evaluation.scoring import SchemeReport, StrictReport


@dataclass
class SystemResult:
    name: str
    description: str
    split: str
    predictions: Predictions
    strict: StrictReport
    schemes: dict[str, SchemeReport]
    bootstrap: dict[str, Any]
    coarse: dict[str, Any]
    confusion: tuple[np.ndarray, tuple[str, ...]]
    errors: list[ErrorRecord]
    status: dict[str, Any]  # CASUALTY status accuracy on matched spans (bootstrap.bootstrap_status_accuracy)
    info: dict[str, Any] = field(default_factory=dict)

    def notes(self) -> list[tuple[str, str]]:
        """Facts a reader needs beside the scores (what a baseline cannot predict, how it was trained)."""
        out = []
        for label, why in self.info.get("not_predictable", {}).items():
            out.append((f"cannot predict {label}", why))
        if "train_seconds" in self.info:
            cached = " (reused from the cache)" if self.info.get("cached") else ""
            out.append(("training", f"{self.info['train_seconds']:.0f} s on CPU{cached}; {self.info['train_documents']} train / "
                                    f"{self.info['validation_documents']} validation documents; checkpoint chosen on validation "
                                    f"(validation ents_f {100 * self.info['validation_scores'].get('ents_f', 0):.1f}); {self.info['folder']}"))
            out.append(("spans not on spaCy tokens", str(len(self.info.get("misaligned_spans", [])))))
        if "label_map" in self.info:
            out.append(("label map", str(self.info["label_map"])))
        return out

    def to_dict(self, files: dict[str, str] | None = None) -> dict[str, Any]:
        matrix, axis = self.confusion
        return {
            "description": self.description,
            "strict": self.strict.to_dict(),
            "nervaluate": {s: r.to_dict() for s, r in self.schemes.items()},
            "bootstrap": self.bootstrap,
            "status": self.status,
            "coarse": self.coarse,
            "word_confusion": {"axis": list(axis), "matrix": matrix.tolist()},
            "errors": kind_counts(self.errors),
            "predicted_spans": sum(len(d.spans) for d in self.predictions.docs),
            "overlapping_predictions": [{"doc_id": doc_id, "a": a.to_dict(), "b": b.to_dict()} for doc_id, a, b in self.predictions.overlapping],
            "predict_seconds": round(self.predictions.seconds, 2),
            "info": self.info,
            "files": files or {},
        }


@dataclass
class Evaluation:
    split: str
    data_dir: str
    command: str
    labels: tuple[str, ...]
    gold_docs: list[Document]
    coarse_map: dict[str, str | None]
    coarse_classes: tuple[str, ...]
    settings: dict[str, Any]
    systems: dict[str, SystemResult] = field(default_factory=dict)
    comparisons: dict[str, dict[str, float]] = field(default_factory=dict)
    re3d: dict[str, Any] | None = None
    subsets: dict[str, dict[str, Any]] = field(default_factory=dict)
    splits: dict[str, list[Document]] = field(default_factory=dict)
    records: dict[str, Any] | None = None  # casualty records: links, groups, counts (evaluation.records)

    def gold_counts(self) -> dict[str, int]:
        counts = Counter(s.label for d in self.gold_docs for s in d.spans)
        return {label: counts.get(label, 0) for label in self.labels}

    def to_dict(self, files: Mapping[str, dict[str, str]] | None = None) -> dict[str, Any]:
        files = files or {}
        return {
            "split": self.split, "data_dir": self.data_dir, "command": self.command, "documents": len(self.gold_docs),
            "split_sha256": hashlib.sha256(dumps_jsonl(self.gold_docs).encode("utf-8")).hexdigest()[:16],
            "gold_spans": self.gold_counts(), "labels": list(self.labels), "settings": self.settings,
            "coarse_map": self.coarse_map,
            "systems": {name: r.to_dict(files.get(name)) for name, r in self.systems.items()},
            "comparisons": self.comparisons, "re3d": self.re3d, "subsets": self.subsets, "records": self.records,
        }
