"""Documents and spans in the corpus convention.

One span convention, stated once: half-open ``[start, end)`` character offsets
in Python ``str`` indices (Unicode code points), as Label Studio
``value.start/end`` and spaCy ``start_char/end_char`` use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from conflict_spans import problems as catalogue
from conflict_spans.problems import Problem
from conflict_spans.schema import LABEL_NAMES, LABELS_WITH_STATUS, RELATION_BY_NAME, RELATION_NAMES, STATUS_VALUES


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    status: str | None = None
    score: float | None = field(default=None, compare=False)

    # Spans sort by position, then label and status; a missing status sorts
    # first instead of failing to compare with a string.
    def _key(self) -> tuple[int, int, str, str, str]:
        return (self.start, self.end, str(self.label), "" if self.status is None else "~", str(self.status or ""))

    def __lt__(self, other: "Span") -> bool:
        return self._key() < other._key()

    def __le__(self, other: "Span") -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: "Span") -> bool:
        return self._key() > other._key()

    def __ge__(self, other: "Span") -> bool:
        return self._key() >= other._key()

    def text_in(self, text: str) -> str:
        return text[self.start:self.end]

    def to_dict(self, text: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label}
        if self.status is not None:
            out["status"] = self.status
        if self.score is not None:
            out["score"] = round(float(self.score), 6)
        if text is not None:
            out["text"] = text[self.start:self.end]
        return out


@dataclass(frozen=True)
class Relation:
    """A typed link from a ``head`` span (always a CASUALTY) to a ``tail`` span (schema ``RELATIONS``)."""
    head: Span
    tail: Span
    type: str
    score: float | None = field(default=None, compare=False)

    def _key(self) -> tuple:
        order = RELATION_NAMES.index(self.type) if self.type in RELATION_NAMES else len(RELATION_NAMES)
        return (self.head._key(), order, self.tail._key())

    def __lt__(self, other: "Relation") -> bool:
        return self._key() < other._key()


@dataclass
class Document:
    id: str
    text: str
    spans: list[Span]
    meta: dict[str, Any] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)

    def to_dict(self, with_span_text: bool = True) -> dict[str, Any]:
        spans = sorted(self.spans)
        return {
            "id": self.id,
            "text": self.text,
            "spans": [s.to_dict(self.text if with_span_text else None) for s in spans],
            "relations": relations_to_dicts(self.relations, spans, self.id),
            "meta": self.meta,
        }


def relations_to_dicts(relations: list[Relation], spans: list[Span], record: str = "") -> list[dict[str, Any]]:
    """``{"from", "to", "type"}`` with indices into ``spans`` (the order the record stores them in)."""
    index = {span: i for i, span in enumerate(spans)}
    out = []
    for rel in sorted(relations):
        if rel.head not in index or rel.tail not in index:
            end = rel.head if rel.head not in index else rel.tail
            raise ValueError(f"{record}: a {rel.type} relation ends at {end.label} [{end.start}, {end.end}), which is not a span of the document")
        item: dict[str, Any] = {"from": index[rel.head], "to": index[rel.tail], "type": rel.type}
        if rel.score is not None:
            item["score"] = round(float(rel.score), 6)
        out.append(item)
    return out


def is_word_char(ch: str) -> bool:
    """Letters, digits and combining marks form words."""
    return unicodedata.category(ch)[0] in "LNM"


# Dotted initialisms ("U.S.", "D.C.") and a single initial ("George W.").
_INITIALISM = re.compile(r"(?:^|[\s(-])(?:(?:\w\.){2,}|[A-Z]\.)$")
_LAST_WORD = re.compile(r"(\w+)\.$")
# Short words that end a span with their period: titles, name suffixes, company
# forms, places, months and US state abbreviations as wire copy writes them. A
# shape rule cannot tell "Gen." from a sentence-final "Gaza.", so they are listed.
ABBREVIATIONS: frozenset[str] = frozenset("""
    Adm Brig Capt Cdr Cmdr Col Cpl Gen Gov Lt Maj Pvt Sgt Sen Rep Amb Pres Supt Insp Det
    Dr Mr Mrs Ms Mme Mlle Prof Rev Hon Fr Sr Sra Jr Snr Jnr Esq
    Co Corp Inc Ltd Bros Assn Dept Univ Govt Int Nat
    St Ste Mt Ft Pt Rd Ave Blvd
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
    Ala Ariz Ark Calif Colo Conn Del Fla Ga Ill Ind Kan Ky La Md Mass Mich Minn Miss Mo Mont
    Neb Nev Okla Ore Pa Tenn Tex Va Vt Wash Wis Wyo
    No Nos Vol
""".split())


def ends_with_abbreviation(span_text: str) -> bool:
    """True when a final period belongs to an abbreviation (``U.S.``, ``Lt.``), not to the sentence."""
    if _INITIALISM.search(span_text):
        return True
    last = _LAST_WORD.search(span_text)
    return bool(last) and last.group(1) in ABBREVIATIONS


def document_from_dict(raw: Any, *, path: str | None = None, line: int | None = None,
                       prediction_input: bool = False) -> tuple[Document | None, list[Problem]]:
    """Parse one JSONL record. Returns the document (or None) and every problem found.

    A ``prediction_input`` record (what ``predict`` reads) needs only ``id`` and
    ``text``; its spans, when present, are checked all the same, and its text is
    taken as it is (offsets index it, BOM or not).
    """
    where = {"path": path, "line": line}
    if not isinstance(raw, dict):
        return None, [Problem("record", "record is not a JSON object", 'write one object {"id", "text", "spans", "meta"} per line', value=type(raw).__name__, **where)]
    rid = raw.get("id")
    where["record"] = None if rid is None else str(rid)
    problems: list[Problem] = []
    if prediction_input:
        problems += [catalogue.input_needs(key, **where) for key in ("id", "text") if key not in raw or (key == "text" and not isinstance(raw[key], str))]
        if problems:
            return None, problems
        raw = {"spans": [], **raw, "meta": {} if raw.get("meta") is None else raw["meta"]}
        if isinstance(rid, int) and not isinstance(rid, bool):
            rid = str(rid)  # a number is a fine id for text to predict on
    for key in ("id", "text", "spans"):
        if key not in raw:
            problems.append(Problem("missing-key", f"record has no {key!r} key", f"add {key!r} (records need id, text, spans; meta is optional)", **where))
    if problems:
        return None, problems
    if not isinstance(rid, str) or not rid:
        problems.append(Problem("id", "id must be a non-empty string", "give the record a unique string id", value=repr(rid), **where))
    text = raw["text"]
    if not isinstance(text, str):
        return None, problems + [Problem("text", "text must be a string", "store the document text as a JSON string", value=type(text).__name__, **where)]
    if text.startswith("\ufeff") and not prediction_input:
        problems.append(Problem("bom", "text starts with a byte-order mark (U+FEFF)", "remove the BOM from the text and shift the offsets by one", **where))
    meta = raw.get("meta", {})
    if not isinstance(meta, dict):
        problems.append(catalogue.meta_not_object(meta, **where))
        meta = {}
    if not isinstance(raw["spans"], list):
        return None, problems + [Problem("spans", "spans must be a list", "store spans as a JSON list of objects", value=type(raw["spans"]).__name__, **where)]
    spans: list[Span] = []
    for i, rs in enumerate(raw["spans"]):
        span, span_problems = span_from_dict(rs, text, index=i, **where)
        problems += span_problems
        if span is not None:
            spans.append(span)
    if len(spans) != len(raw["spans"]):
        return None, problems
    relations, relation_problems = relations_from_list(raw.get("relations", []), spans, text, **where)
    if relation_problems:
        return None, problems + relation_problems
    return Document(str(rid), text, spans, dict(meta), relations), problems


def relations_from_list(raw: Any, spans: list[Span], text: str, **where) -> tuple[list[Relation], list[Problem]]:
    """Read a record's ``relations``; ``from`` and ``to`` index its ``spans`` list as written."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [catalogue.relations_not_list(raw, **where)]
    relations: list[Relation] = []
    problems: list[Problem] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or any(k not in item for k in ("from", "to", "type")):
            problems.append(catalogue.relation_malformed(i, item, **where))
            continue
        ends = [item["from"], item["to"]]
        if any(not isinstance(e, int) or isinstance(e, bool) or not 0 <= e < len(spans) for e in ends):
            problems.append(catalogue.relation_end_missing(i, item, len(spans), **where))
            continue
        if not isinstance(item["type"], str):
            problems.append(catalogue.relation_unknown_type(i, repr(item["type"]), RELATION_NAMES, **where))
            continue
        score = item.get("score")
        relations.append(Relation(spans[item["from"]], spans[item["to"]], item["type"], score))
    return relations, problems


def span_from_dict(rs: Any, text: str, *, index: int, **where) -> tuple[Span | None, list[Problem]]:
    if not isinstance(rs, dict):
        return None, [Problem("span", f"span #{index} is not an object", 'write spans as {"start", "end", "label"}', value=repr(rs), **where)]
    missing = [k for k in ("start", "end", "label") if k not in rs]
    if missing:
        return None, [Problem("missing-key", f"span #{index} lacks {', '.join(missing)}", "every span needs start, end and label", value=repr(rs), **where)]
    start, end, label = rs["start"], rs["end"], rs["label"]
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        return None, [Problem("offsets", f"span #{index} offsets must be integers", "use integer code-point offsets", value=f"{start!r}:{end!r}", **where)]
    if not (0 <= start < end <= len(text)):
        if start >= end and 0 <= end <= start <= len(text):
            return None, [Problem("offsets", f"span #{index} is empty or reversed: start {start} >= end {end}", "offsets are half-open [start, end) with start < end", value=f"{start}:{end}", **where)]
        return None, [catalogue.offsets_out_of_range(start, end, len(text), desc=f"span #{index} {label!r}", **where)]
    if "text" in rs and rs["text"] != text[start:end]:
        return None, [catalogue.text_mismatch(text[start:end], str(rs["text"]), desc=f"span #{index} {label!r} [{start}, {end})", **where)]
    status = rs.get("status")
    if status is not None and not isinstance(status, str):
        return None, [Problem("status", f"span #{index} status must be a string", "write status as \"killed\" or \"injured\" (CASUALTY only)", value=repr(status), **where)]
    if not isinstance(label, str):
        return None, [catalogue.unknown_label(repr(label), LABEL_NAMES, desc=f"#{index} [{start}, {end}) {text[start:end]!r}", **where)]
    score = rs.get("score")
    return Span(start, end, label, status, score), []


def _describe(span: Span, text: str) -> str:
    return f"{span.label} {text[span.start:span.end]!r} [{span.start}, {span.end})"


def _schema_problems(span: Span, desc: str, *, require_status: bool, **where) -> list[Problem]:
    if span.label not in LABEL_NAMES:
        return [catalogue.unknown_label(span.label, LABEL_NAMES, desc=desc, **where)]
    if span.label in LABELS_WITH_STATUS:
        if span.status not in STATUS_VALUES and (require_status or span.status is not None):
            return [catalogue.bad_status(span.label, span.status, STATUS_VALUES, desc=desc, **where)]
    elif span.status is not None:
        return [catalogue.bad_status(span.label, span.status, STATUS_VALUES, desc=desc, **where)]
    return []


def check_schema(doc: Document, *, path: str | None = None, line: int | None = None) -> list[Problem]:
    """Labels and statuses the schema does not know: what every reader refuses.

    A CASUALTY span without a status is left to ``validate`` (spec C5); an
    unknown status, or a status on another label, is refused here.
    """
    where = {"path": path, "line": line, "record": doc.id}
    problems = [p for span in sorted(doc.spans) for p in _schema_problems(span, _describe(span, doc.text), require_status=False, **where)]
    return problems + _relation_schema_problems(doc, **where)


def _relation_schema_problems(doc: Document, **where) -> list[Problem]:
    """Relation types the schema does not know, ends that are not spans, and labels the type does not allow."""
    problems: list[Problem] = []
    spans = set(doc.spans)
    for rel in sorted(doc.relations):
        desc = f"{rel.type} {_describe(rel.head, doc.text)} -> {_describe(rel.tail, doc.text)}"
        kind = RELATION_BY_NAME.get(rel.type)
        if kind is None:
            problems.append(catalogue.relation_unknown_type(desc, rel.type, RELATION_NAMES, **where))
        elif rel.head not in spans or rel.tail not in spans:
            problems.append(catalogue.relation_end_not_span(desc, **where))
        elif rel.head == rel.tail:
            problems.append(catalogue.relation_self(desc, **where))
        elif (rel.head.label, rel.tail.label) != (kind.head, kind.tail):
            problems.append(catalogue.relation_labels(desc, rel.type, kind.head, kind.tail, **where))
    return problems


def check_relations(doc: Document, *, path: str | None = None, line: int | None = None) -> list[Problem]:
    """The rules of annotation/LINKS.md that code can check, beyond the schema: one link per
    head for single-valued types, ``restates`` to an earlier first mention, same status, no duplicates."""
    where = {"path": path, "line": line, "record": doc.id}
    problems: list[Problem] = []
    seen: set[Relation] = set()
    single: dict[tuple[Span, str], Relation] = {}
    grouped = {rel.head for rel in doc.relations if RELATION_BY_NAME.get(rel.type) is not None and RELATION_BY_NAME[rel.type].ordered}
    for rel in sorted(doc.relations):
        kind = RELATION_BY_NAME.get(rel.type)
        if kind is None or (rel.head.label, rel.tail.label) != (kind.head, kind.tail):
            continue  # a schema problem, reported by check_schema
        desc = f"{rel.type} {_describe(rel.head, doc.text)} -> {_describe(rel.tail, doc.text)}"
        if rel in seen:
            problems.append(catalogue.relation_duplicate(desc, **where))
            continue
        seen.add(rel)
        if kind.single:
            other = single.setdefault((rel.head, rel.type), rel)
            if other is not rel:
                problems.append(catalogue.relation_not_single(desc, rel.type, _describe(other.tail, doc.text), **where))
        if kind.ordered and rel.tail.start >= rel.head.start:
            problems.append(catalogue.relation_not_earlier(desc, **where))
        elif kind.ordered and rel.tail in grouped:
            problems.append(catalogue.relation_not_first(desc, **where))
        if kind.head == kind.tail and rel.head.status != rel.tail.status:
            problems.append(catalogue.relation_status(desc, rel.head.status, rel.tail.status, **where))
    return problems


# Line breaks as str.splitlines() knows them, less the old file/group/record separators.
LINE_BREAKS = frozenset("\n\r\v\f\x85\u2028\u2029")


def has_line_break(text: str) -> bool:
    return any(ch in LINE_BREAKS for ch in text)


def check_line_breaks(doc: Document, *, path: str | None = None, line: int | None = None) -> list[Problem]:
    """Spec G10: a span never contains a line break."""
    where = {"path": path, "line": line, "record": doc.id}
    return [catalogue.line_break(_describe(span, doc.text), doc.text[span.start:span.end], **where)
            for span in sorted(doc.spans) if has_line_break(doc.text[span.start:span.end])]


def check_spans(doc: Document, *, path: str | None = None, line: int | None = None) -> list[Problem]:
    """Every span rule that code can check (spec G1, G2, G10, C5 and the schema)."""
    where = {"path": path, "line": line, "record": doc.id}
    problems: list[Problem] = []
    text = doc.text
    for span in sorted(doc.spans):
        surface = text[span.start:span.end]
        desc = _describe(span, text)
        schema = _schema_problems(span, desc, require_status=True, **where)
        problems += schema
        if any(p.code == "unknown-label" for p in schema):
            continue
        first, last = surface[0], surface[-1]
        if first.isspace() or last.isspace():
            problems.append(Problem("edge-space", f"span {desc} has whitespace at its edge", "move start/end so the span carries no surrounding whitespace", value=surface, **where))
        elif not is_word_char(first) or unicodedata.category(first)[0] == "M":
            problems.append(Problem("edge-punct", f"span {desc} starts with punctuation or a symbol", "start the span at its first letter or digit (spec G1)", value=surface, **where))
        elif last == "." and not ends_with_abbreviation(surface):
            problems.append(Problem("edge-punct", f"span {desc} ends with a period that is not an abbreviation's", "end the span before the period; if the last word is an abbreviation, add it to ABBREVIATIONS in conflict_spans/document.py (spec G1)", value=surface, **where))
        elif not is_word_char(last) and last != ".":
            problems.append(Problem("edge-punct", f"span {desc} ends with punctuation or a symbol", "end the span at its last letter or digit; only an abbreviation keeps its final period (spec G1)", value=surface, **where))
        if has_line_break(surface.strip()):  # one at an edge is already an edge-space problem
            problems.append(catalogue.line_break(desc, surface, **where))
        if span.start > 0 and is_word_char(text[span.start - 1]) and is_word_char(first):
            problems.append(Problem("word-boundary", f"span {desc} starts inside a word ({text[max(0, span.start - 10):span.end]!r})", "extend the span to the start of the word", value=surface, **where))
        if span.end < len(text) and is_word_char(text[span.end]) and (is_word_char(last) or unicodedata.category(text[span.end])[0] == "M"):
            problems.append(Problem("word-boundary", f"span {desc} ends inside a word ({text[span.start:span.end + 10]!r})", "extend the span to the end of the word", value=surface, **where))
    # every overlapping pair is named, also when one span covers several others
    open_spans: list[Span] = []
    for b in sorted(doc.spans):
        open_spans = [a for a in open_spans if a.end > b.start]
        for a in open_spans:
            problems.append(catalogue.overlap(f"{a.label} {text[a.start:a.end]!r} [{a.start}, {a.end})", f"{b.label} {text[b.start:b.end]!r} [{b.start}, {b.end})", **where))
        open_spans.append(b)
    return problems
