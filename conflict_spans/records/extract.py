"""Casualty records: one row per CASUALTY span, with its figures and the spans it links to.

A row holds what an analyst codes by hand: the document, the sentence, killed
or injured, the figures (``counts.normalise``: low, best, high, qualifier and
the ACLED-style point value), the source, the place and the perpetrator (the
texts of the linked spans, with their offsets), the total it is part of, and
its restatement group (the first mention of the figure and everything that
``restates`` it: one group is one figure, however often the article repeats it).

``summarise`` gives one row per document: how many figures it states once the
restatements are grouped, and the largest killed and injured figure each source
gives.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from conflict_spans.document import Document, Relation, Span
from conflict_spans.records.counts import normalise
from conflict_spans.records.linker import PRONOUNS
from conflict_spans.schema import GROUPING_RELATION
from conflict_spans.sentences import sentence_index, sentences

NO_SOURCE = "(no source)"


@dataclass(frozen=True)
class Record:
    doc_id: str
    figure: str          # "<doc id>#<n>": the CASUALTY span, numbered from 0 among the document's spans in text order
    text: str
    start: int
    end: int
    status: str | None
    low: int | None
    best: int | None
    high: int | None
    qualifier: str
    point: int | None
    source: str          # linked span texts, joined by " | "
    source_offsets: str  # "start-end" of each, joined by " | "
    source_score: str    # the linker's probability of each link, joined by " | "; empty for links without one
    location: str
    location_offsets: str
    location_score: str
    perpetrator: str
    perpetrator_offsets: str
    perpetrator_score: str
    part_of: str         # the figure id of the total this one is part of, or ""
    part_of_score: str
    group: str           # the figure id of the first mention of this figure
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


COLUMNS: tuple[str, ...] = tuple(Record.__dataclass_fields__)

# What each column holds, for the README and `conflict-spans records --help`.
COLUMN_DOCS: dict[str, str] = {
    "doc_id": "the document's id",
    "figure": "the figure's id: `<doc id>#<n>`, n numbering the document's spans from 0 in text order",
    "text": "the CASUALTY span's text",
    "start": "its start offset (characters, half-open)",
    "end": "its end offset",
    "status": "`killed` or `injured` (the span's status)",
    "low": "lowest figure the text allows, or empty (annotation/COUNTS.md)",
    "best": "the figure the text gives (UCDP's best)",
    "high": "highest figure the text allows, or empty",
    "qualifier": "how the text qualifies it: `exact`, `at-least`, `around`, `vague-dozens`, ...",
    "point": "one conservative figure, as ACLED codes fatalities",
    "source": "text of the linked ATTRIBUTION span(s), ` | `-joined; empty when the report gives none",
    "source_offsets": "their `start-end` offsets, in the same order",
    "source_score": "the linker's probability for each source link, in the same order (three decimals); empty for links it gives "
                    "without one (the rule linker, gold links). The evaluation report gives the precision of the links at or above each cut",
    "location": "text of the linked LOCATION span(s)",
    "location_offsets": "their offsets",
    "location_score": "the place ranker's probability for its choice, once per linked place (for a sub-count or restatement that "
                      "takes the place of its figure, K7.4, that figure's)",
    "perpetrator": "text of the linked ACTOR span(s), when the text says who did it",
    "perpetrator_offsets": "their offsets",
    "perpetrator_score": "the linker's probability for each perpetrator link",
    "part_of": "the figure id of the total this figure is part of (\"including 12 children\")",
    "part_of_score": "the linker's probability for that link",
    "group": "the figure id of the first mention of this figure: rows with one group are one figure, restated",
    "sentence": "the sentence the figure stands in",
}


def _score(link: Relation) -> str:
    """A link's score as the records write it (three decimals), or "" when the linker gives none."""
    return "" if link.score is None else f"{link.score:.3f}"


def _joined(links: list[Relation], text: str) -> tuple[str, str, str]:
    """The tails' texts, offsets and scores, in text order (scores empty when no link has one)."""
    links = sorted(links, key=lambda r: r.tail)
    scores = " | ".join(_score(r) for r in links) if any(r.score is not None for r in links) else ""
    return " | ".join(r.tail.text_in(text) for r in links), " | ".join(f"{r.tail.start}-{r.tail.end}" for r in links), scores


def records(doc: Document, relations: Sequence[Relation] | None = None) -> list[Record]:
    """The rows of one document, from ``relations`` (default: the document's own)."""
    relations = doc.relations if relations is None else relations
    spans = sorted(doc.spans)
    number = {s: i for i, s in enumerate(spans)}
    sents = sentences(doc.text)
    links: dict[tuple[Span, str], list[Relation]] = {}
    for rel in relations:
        links.setdefault((rel.head, rel.type), []).append(rel)
    first: dict[Span, Span] = {}
    for head in [s for s in spans if s.label == "CASUALTY"]:
        earlier = links.get((head, GROUPING_RELATION), [])
        first[head] = first.get(earlier[0].tail, earlier[0].tail) if earlier else head
    out = []
    for head in [s for s in spans if s.label == "CASUALTY"]:
        count = normalise(head.text_in(doc.text))
        sentence = sents[sentence_index(sents, head.start)] if sents else None
        source, source_at, source_score = _joined(links.get((head, "source"), []), doc.text)
        place, place_at, place_score = _joined(links.get((head, "location"), []), doc.text)
        agent, agent_at, agent_score = _joined(links.get((head, "perpetrator"), []), doc.text)
        total = links.get((head, "part_of"), [])
        out.append(Record(
            doc_id=doc.id, figure=f"{doc.id}#{number[head]}", text=head.text_in(doc.text), start=head.start, end=head.end,
            status=head.status, low=count.low, best=count.best, high=count.high, qualifier=count.qualifier, point=count.point,
            source=source, source_offsets=source_at, source_score=source_score,
            location=place, location_offsets=place_at, location_score=place_score,
            perpetrator=agent, perpetrator_offsets=agent_at, perpetrator_score=agent_score,
            part_of=f"{doc.id}#{number[total[0].tail]}" if total else "",
            part_of_score=_score(total[0]) if total else "",
            group=f"{doc.id}#{number[first[head]]}",
            sentence=doc.text[sentence.start:sentence.end].replace("\n", " ") if sentence else "",
        ))
    return out


def summarise(doc_id: str, rows: Sequence[Record]) -> dict[str, Any]:
    """Figures after grouping restatements, and the largest killed and injured figure per source."""
    largest: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.best is None or row.status is None:
            continue
        sources = row.source.split(" | ") if row.source else [NO_SOURCE]
        named = [s for s in sources if s.lower() not in PRONOUNS]
        for source in named or sources:  # "He" counts only when the text names no one else (K6.1 links both)
            by_status = largest.setdefault(source, {})
            by_status[row.status] = max(by_status.get(row.status, row.best), row.best)
    return {
        "doc_id": doc_id,
        "mentions": len(rows),
        "figures": len({row.group for row in rows}),
        "largest_by_source": [{"source": source, "killed": by.get("killed"), "injured": by.get("injured")} for source, by in sorted(largest.items())],
    }


def to_csv(rows: Sequence[Record]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.to_dict().items()})
    return buffer.getvalue()


def to_jsonl(items: Sequence[Record | dict[str, Any]]) -> str:
    return "".join(json.dumps(item.to_dict() if isinstance(item, Record) else item, ensure_ascii=False) + "\n" for item in items)


def summary_to_csv(summaries: Sequence[dict[str, Any]]) -> str:
    """One line per document and source: the document's figure counts beside each source's largest figures."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["doc_id", "mentions", "figures", "source", "largest_killed", "largest_injured"])
    for s in summaries:
        for item in s["largest_by_source"] or [{"source": "", "killed": None, "injured": None}]:
            writer.writerow([s["doc_id"], s["mentions"], s["figures"], item["source"],
                             "" if item["killed"] is None else item["killed"], "" if item["injured"] is None else item["injured"]])
    return buffer.getvalue()
