"""What every evaluated system is: something that predicts spans for documents.

Our model (a ``train.py`` output folder, through
:func:`conflict_spans.model.predict.load_predictor`) and each baseline expose the same
method, ``predict_documents(docs) -> list[Document]``. :func:`predict_checked`
hands them the documents without their gold spans and checks what comes back,
so a scorer never sees a prediction with an unknown label or offsets outside
the text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError, Problem


class Predictor(Protocol):
    def predict_documents(self, docs: Sequence[Document]) -> list[Document]: ...


@dataclass
class Predictions:
    system: str
    docs: list[Document]
    seconds: float
    overlapping: list[tuple[str, Span, Span]] = field(default_factory=list)  # (doc id, a, b): flat spans expected


def load_model_predictor(model_dir: Path) -> Predictor:
    """Our model, from a ``train.py`` output folder."""
    from conflict_spans.model.predict import load_predictor

    if not model_dir.is_dir():
        raise CorpusError(Problem("model", "model folder not found", "pass the output folder of train.py (it holds config.json)", path=str(model_dir)))
    return load_predictor(model_dir)


def without_spans(docs: Sequence[Document]) -> list[Document]:
    return [Document(d.id, d.text, [], dict(d.meta)) for d in docs]


def check_predictions(system: str, inputs: Sequence[Document], outputs: Sequence[Document], labels: Sequence[str]) -> list[Problem]:
    """Problems with a system's output: missing or reordered documents, changed text, unknown labels, bad offsets."""
    where = f"system {system!r}"
    if len(outputs) != len(inputs):
        return [Problem("predictions", f"{where} returned {len(outputs)} documents for {len(inputs)}",
                        "predict_documents must return one document per input document, in order")]
    problems = []
    known = set(labels)
    for given, got in zip(inputs, outputs):
        if got.id != given.id or got.text != given.text:
            problems.append(Problem("predictions", f"{where} returned another document (id {got.id!r}) or changed its text",
                                    "return each input document's id and text unchanged, in input order", record=given.id))
            continue
        for span in got.spans:
            if span.label not in known:
                problems.append(Problem("unknown-label", f"{where} predicted a label that is not scored",
                                        f"predict only {', '.join(labels)}; map a baseline's labels in its label map file",
                                        record=given.id, value=span.label))
            elif not 0 <= span.start < span.end <= len(given.text):
                problems.append(Problem("offsets", f"{where} predicted offsets [{span.start}, {span.end}) outside the text (length {len(given.text)})",
                                        "return half-open [start, end) offsets in Python str indices", record=given.id))
    return problems


def overlapping_pairs(docs: Sequence[Document]) -> list[tuple[str, Span, Span]]:
    out = []
    for doc in docs:
        ordered = sorted(doc.spans)
        out += [(doc.id, a, b) for a, b in zip(ordered, ordered[1:]) if b.start < a.end]
    return out


def predict_checked(system: str, predictor: Predictor, docs: Sequence[Document], labels: Sequence[str]) -> Predictions:
    """Run ``predictor`` on ``docs`` (gold spans removed), time it, and check the output.

    Overlapping predicted spans are kept and counted (the scorers handle them,
    the report lists them); every other problem stops the evaluation.
    """
    inputs = without_spans(docs)
    started = time.perf_counter()
    outputs = list(predictor.predict_documents(inputs))
    seconds = time.perf_counter() - started
    problems = check_predictions(system, inputs, outputs, labels)
    if problems:
        raise CorpusError(problems)
    return Predictions(system, outputs, seconds, overlapping_pairs(outputs))
