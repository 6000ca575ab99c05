"""The hand-authoring format: a small header and inline ``[text]{CODE}`` spans.

``markup_to_document`` and ``document_to_markup`` round-trip exactly (see
annotation/AUTHORING.md for the format a writer sees).
"""

from __future__ import annotations

import re
from pathlib import Path

from conflict_spans import problems as catalogue
from conflict_spans.corpus.provenance import PROVENANCE_KEY
from conflict_spans.document import Document, Relation, Span
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import CODE_TO_LABEL, LABEL_NAMES, LABEL_TO_CODE, RELATION_NAMES

SPECIAL = "[]{}\\"
# The links follow the text after this line (annotation/LINKS.md, "How the links are written").
RELATIONS_MARK = "--- relations"
_RELATION_LINE = re.compile(r"^(\d+)\s+(\S+)\s+(\d+)\s*(?:#(.*))?$")
_QUOTED_PAIR = re.compile(r'^\s*"(.*)"\s*->\s*"(.*)"\s*$')
HEADER_ORDER = ("id", "conflict", "country", "region", "genre", "date", "group")


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in SPECIAL else ch for ch in text)


def parse_code(code: str) -> tuple[str, str | None]:
    """``CAS:killed`` -> (``CASUALTY``, ``killed``); full label names are accepted too."""
    name, _, status = code.partition(":")
    name = CODE_TO_LABEL.get(name, name)
    return name, (status or None)


def format_code(span: Span) -> str:
    code = LABEL_TO_CODE.get(span.label, span.label)
    return f"{code}:{span.status}" if span.status else code


def parse_body(body: str, *, path: str | None = None, first_line: int = 1, record: str | None = None) -> tuple[str, list[Span]]:
    """Strip the markup from ``body``; return the plain text and its spans."""
    out: list[str] = []
    spans: list[Span] = []
    line = first_line
    i = 0
    n = len(body)
    span_start: int | None = None
    span_line = line

    def fail(message: str, fix: str, value: str | None = None) -> CorpusError:
        return CorpusError(Problem("markup", message, fix, path=path, line=line, record=record, value=value))

    pos = 0  # length of the plain text so far
    while i < n:
        ch = body[i]
        if ch == "\\":
            if i + 1 >= n or body[i + 1] not in SPECIAL:
                raise fail("a backslash must escape one of [ ] { } \\", "write \\\\ for a literal backslash", body[i:i + 2])
            out.append(body[i + 1])
            pos += 1
            i += 2
            continue
        if ch == "[":
            if span_start is not None:
                raise fail("spans cannot nest: '[' inside an open span", "close the first span with ]{CODE} before opening another, or escape the bracket as \\[", body[i:i + 30])
            span_start, span_line = pos, line
            i += 1
            continue
        if ch == "]":
            if span_start is None:
                raise fail("']' without an open span", "escape a literal bracket as \\]", body[max(0, i - 30):i + 1])
            close = body.find("}", i)
            if i + 1 >= n or body[i + 1] != "{" or close == -1:
                raise fail("a span must be followed directly by {CODE}", "write [text]{ACT}, {LOC}, {ATT}, {CAS:killed} or {CAS:injured}", body[max(0, i - 30):i + 12])
            code = body[i + 2:close]
            label, status = parse_code(code)
            if label not in LABEL_NAMES:
                raise fail(f"unknown label code {code!r}", "use ACT, LOC, ATT, CAS:killed or CAS:injured", code)
            if span_start == pos:
                raise fail("empty span []", "put the span's text inside the brackets", body[max(0, i - 10):close + 1])
            spans.append(Span(span_start, pos, label, status))
            span_start = None
            i = close + 1
            continue
        if ch in "{}":
            raise fail(f"unexpected {ch!r} outside a span code", f"escape a literal brace as \\{ch}", body[max(0, i - 30):i + 1])
        if ch == "\n":
            line += 1
        out.append(ch)
        pos += 1
        i += 1
    if span_start is not None:
        line = span_line
        raise fail("span opened with '[' is never closed", "close it with ]{CODE}", None)
    return "".join(out), spans


def markup_to_document(source: str, *, path: str | None = None) -> Document:
    """Parse a whole authoring file (header + body)."""
    if source.startswith("\ufeff"):
        raise CorpusError(Problem("bom", "file starts with a byte-order mark", "save the file as UTF-8 without BOM", path=path, line=1))
    lines = source.split("\n")
    if not lines or lines[0].strip() != "---":
        raise CorpusError(Problem("header", "file must start with a '---' header line", "start the file with the header of annotation/AUTHORING.md", path=path, line=1))
    try:
        end = next(k for k in range(1, len(lines)) if lines[k].strip() == "---")
    except StopIteration:
        raise CorpusError(Problem("header", "header is never closed with '---'", "add a '---' line after the header", path=path, line=1)) from None
    meta: dict[str, str] = {}
    for k in range(1, end):
        raw = lines[k].rstrip("\r")
        if not raw.strip():
            continue
        key, sep, value = raw.partition(":")
        if not sep:
            raise CorpusError(Problem("header", "header lines are 'key: value'", "fix the header line", path=path, line=k + 1, value=raw))
        meta[key.strip()] = value.strip()
    doc_id = meta.pop("id", None)
    if not doc_id:
        raise CorpusError(Problem("header", "header has no id", "add 'id: <conflict>-<NNN>' to the header", path=path, line=1))
    mark = next((k for k in range(end + 1, len(lines)) if lines[k].rstrip("\r") == RELATIONS_MARK), len(lines))
    body = "\n".join(lines[end + 1:mark])
    # The file's trailing line breaks (LF or CRLF) are not part of the text.
    body = body.rstrip("\r\n")
    text, spans = parse_body(body, path=path, first_line=end + 2, record=doc_id)
    relations = parse_relations(lines[mark + 1:], sorted(spans), text, path=path, first_line=mark + 2, record=doc_id)
    return Document(doc_id, text, spans, meta, relations)


def parse_relations(lines: list[str], spans: list[Span], text: str, *, path: str | None, first_line: int, record: str) -> list[Relation]:
    """``FROM TYPE TO  # "from text" -> "to text"``, span numbers counted from 0 in text order.

    The quoted texts are optional; when given they must be the two spans' texts,
    which catches links left pointing at the wrong spans after an edit.
    """
    relations: list[Relation] = []
    for k, raw in enumerate(lines):
        line = raw.rstrip("\r").strip()
        if not line or line.startswith("#"):
            continue
        where = {"path": path, "line": first_line + k, "record": record}
        match = _RELATION_LINE.match(line)
        if not match:
            raise CorpusError(catalogue.markup_relation_line(line, **where))
        head, kind, tail = int(match[1]), match[2], int(match[3])
        if head >= len(spans) or tail >= len(spans):
            raise CorpusError(catalogue.markup_relation_number(line, len(spans), **where))
        if kind not in RELATION_NAMES:
            raise CorpusError(catalogue.relation_unknown_type(line, kind, RELATION_NAMES, **where))
        if match[4] is not None and (quoted := _QUOTED_PAIR.match(match[4])):
            found = (text[spans[head].start:spans[head].end], text[spans[tail].start:spans[tail].end])
            if (quoted[1], quoted[2]) != found:
                raise CorpusError(catalogue.markup_relation_quotes(line, found, **where))
        relations.append(Relation(spans[head], spans[tail], kind))
    return relations


def document_to_markup(doc: Document) -> str:
    """Write a document in the authoring format; raises on overlapping spans."""
    if doc.text != doc.text.rstrip("\r\n") or doc.text.startswith("\n"):
        raise CorpusError(Problem("markup", "text starting or ending with a newline cannot be stored in the authoring format", "strip the text's leading/trailing newlines (and shift the offsets) or keep this record in JSONL", record=doc.id))
    header = ["---", f"id: {doc.id}"]
    # the provenance statement is added to every record by build, not written by hand
    keys = [k for k in HEADER_ORDER if k in doc.meta and k != "id"] + sorted(k for k in doc.meta if k not in HEADER_ORDER and k != PROVENANCE_KEY)
    for key in keys:
        value = str(doc.meta[key])
        if "\n" in value:
            raise CorpusError(Problem("markup", f"meta value for {key!r} spans several lines", "keep header values on one line", record=doc.id, value=value))
        header.append(f"{key}: {value}")
    header.append("---")
    parts: list[str] = []
    cursor = 0
    for span in sorted(doc.spans):
        if span.start < cursor:
            raise CorpusError(Problem("overlap", "overlapping spans cannot be written as markup", "resolve the overlap first (conflict-spans validate lists it)", record=doc.id, value=doc.text[span.start:span.end]))
        parts.append(_escape(doc.text[cursor:span.start]))
        parts.append("[" + _escape(doc.text[span.start:span.end]) + "]{" + format_code(span) + "}")
        cursor = span.end
    parts.append(_escape(doc.text[cursor:]))
    if RELATIONS_MARK in doc.text.splitlines():
        raise CorpusError(Problem("markup", f"the text has a line {RELATIONS_MARK!r}, which the authoring format reads as the start of the links", "keep this record in JSONL, or change that line of the text", record=doc.id))
    trailer = ""
    if doc.relations:
        spans = sorted(doc.spans)
        index = {span: i for i, span in enumerate(spans)}
        rows = []
        for rel in sorted(doc.relations):
            if rel.head not in index or rel.tail not in index:
                raise CorpusError(catalogue.relation_end_not_span(f"{rel.type} [{rel.head.start}, {rel.head.end}) -> [{rel.tail.start}, {rel.tail.end})", record=doc.id))
            rows.append(f"{index[rel.head]} {rel.type} {index[rel.tail]}  # {_quote(rel.head.text_in(doc.text))} -> {_quote(rel.tail.text_in(doc.text))}")
        trailer = "\n" + RELATIONS_MARK + "\n" + "\n".join(rows) + "\n"
    return "\n".join(header) + "\n" + "".join(parts) + "\n" + trailer


def _quote(text: str) -> str:
    return '"' + text + '"'


def read_markup_file(path: Path) -> Document:
    raw = path.read_bytes()
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CorpusError(catalogue.not_utf8(str(path), line, exc.start, raw[exc.start:exc.end], exc.reason)) from None
    return markup_to_document(source, path=str(path))
