"""The hand-written gold figures of CASUALTY spans (``corpus/counts_gold.tsv``), checked against the corpus.

Columns: id, start, end, status, span (its text), low, best, high; an empty
figure is unset (annotation/COUNTS.md). Written by hand from COUNTS.md's
conventions, without the normaliser's output; the evaluation scores
``counts.normalise`` against it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from conflict_spans.document import Document
from conflict_spans.problems import CorpusError, Problem

COLUMNS = ("id", "start", "end", "status", "span", "low", "best", "high")


@dataclass(frozen=True)
class GoldCount:
    doc_id: str
    start: int
    end: int
    low: int | None
    best: int | None
    high: int | None


def read_gold_counts(path: Path, docs: list[Document] | None = None) -> dict[tuple[str, int, int], GoldCount]:
    """Rows keyed by (document id, start, end); with ``docs``, each row must be a CASUALTY span of them with that text."""
    texts = {d.id: d for d in docs} if docs is not None else None
    out: dict[tuple[str, int, int], GoldCount] = {}
    problems: list[Problem] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise CorpusError(Problem("columns", f"{path} must have the columns {', '.join(COLUMNS)}", "keep the header line as written",
                                      path=str(path), line=1, value=", ".join(reader.fieldnames or ())))
        for line, row in enumerate(reader, start=2):
            where = {"path": str(path), "line": line, "record": row["id"]}
            try:
                start, end = int(row["start"]), int(row["end"])
                figures = [None if row[k] == "" else int(row[k]) for k in ("low", "best", "high")]
            except (TypeError, ValueError):
                problems.append(Problem("value", "start, end and the figures must be integers (a figure may be empty)", "fix the row", value=str(row), **where))
                continue
            set_ = [v for v in figures if v is not None]
            if set_ != sorted(set_):
                problems.append(Problem("value", "low <= best <= high must hold", "fix the figures", value=str(figures), **where))
            if texts is not None:
                doc = texts.get(row["id"])
                spans = {(s.start, s.end): s for s in doc.spans} if doc else {}
                span = spans.get((start, end))
                if doc is None or span is None or span.label != "CASUALTY" or doc.text[start:end] != row["span"]:
                    problems.append(Problem("gold-count", "the row names no CASUALTY span of the corpus with this text",
                                            "keep counts_gold.tsv in step with the corpus (its span moved or changed)", value=row["span"], **where))
                    continue
            out[(row["id"], start, end)] = GoldCount(row["id"], start, end, *figures)
    if problems:
        raise CorpusError(problems)
    return out
