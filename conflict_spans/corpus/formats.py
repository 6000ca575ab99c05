"""Hugging Face ``DatasetDict`` and CoNLL (IOB2) views of the corpus.

Both carry word offsets (or the text to realign to), so they convert back to
the JSONL spans exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from conflict_spans.align import Word, spans_to_word_tags, word_tags_to_spans
from conflict_spans.corpus.io import atomic_write_text
from conflict_spans.document import Document, Relation, Span, check_schema, relations_to_dicts
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import RELATION_NAMES, TAGS
from conflict_spans.words import word_offsets


def document_to_word_tags(doc: Document) -> tuple[list[tuple[int, int]], list[str]]:
    unknown = check_schema(doc)
    if unknown:
        raise CorpusError(unknown)  # a tag outside the schema has no ClassLabel id and no CoNLL reader
    offsets = word_offsets(doc.text)
    words = [Word(i, s, e, ()) for i, (s, e) in enumerate(offsets)]
    tags, misaligned = spans_to_word_tags(doc.text, doc.spans, words, doc.id)
    if misaligned:
        raise CorpusError([Problem("alignment", m.format(), "run `conflict-spans validate` and fix the span edges", record=m.doc_id, value=m.text) for m in misaligned])
    return offsets, tags


def _status_of(doc: Document) -> list[str]:
    return [f"{s.start}:{s.end}:{s.status}" for s in sorted(doc.spans) if s.status]


def features() -> Any:
    from datasets import ClassLabel, Features, List
    from datasets import Sequence as HFSequence
    from datasets import Value

    return Features({
        "id": Value("string"),
        "text": Value("string"),
        "tokens": HFSequence(Value("string")),
        "token_starts": HFSequence(Value("int32")),
        "token_ends": HFSequence(Value("int32")),
        "ner_tags": HFSequence(ClassLabel(names=list(TAGS))),
        "span_status": HFSequence(Value("string")),
        # links between the spans that ner_tags encode, numbered from 0 in text order
        "relations": List({"from": Value("int32"), "to": Value("int32"), "type": ClassLabel(names=list(RELATION_NAMES))}),
        "conflict": Value("string"),
    })


def documents_to_rows(docs: Sequence[Document]) -> dict[str, list]:
    rows: dict[str, list] = {k: [] for k in ("id", "text", "tokens", "token_starts", "token_ends", "ner_tags", "span_status", "relations", "conflict")}
    for doc in docs:
        offsets, tags = document_to_word_tags(doc)
        rows["id"].append(doc.id)
        rows["text"].append(doc.text)
        rows["tokens"].append([doc.text[s:e] for s, e in offsets])
        rows["token_starts"].append([s for s, _ in offsets])
        rows["token_ends"].append([e for _, e in offsets])
        rows["ner_tags"].append([TAGS.index(t) for t in tags])
        rows["span_status"].append(_status_of(doc))
        rows["relations"].append([{**r, "type": RELATION_NAMES.index(r["type"])} for r in relations_to_dicts(doc.relations, sorted(doc.spans), doc.id)])
        rows["conflict"].append(str(doc.meta.get("conflict", "")))
    return rows


def to_dataset_dict(splits: dict[str, list[Document]]) -> Any:
    """A ``DatasetDict`` with one ``Dataset`` per split and ``ClassLabel`` tags."""
    from datasets import Dataset, DatasetDict

    feats = features()
    return DatasetDict({split: Dataset.from_dict(documents_to_rows(docs), features=feats) for split, docs in splits.items()})


def load_corpus(data_dir: str | Path | None = None) -> Any:
    """The bundled corpus (or the ``{train,validation,test}.jsonl`` files in ``data_dir``) as a ``DatasetDict``.

    Each row holds the document's ``id``, ``text``, its words (``tokens``, ``token_starts``, ``token_ends``), their IOB2
    ``ner_tags`` (``ClassLabel``), ``span_status``, ``relations`` (``from``/``to`` number the spans of ``ner_tags`` from 0
    in text order; ``type`` is a ``ClassLabel``) and ``conflict``; the files are read through the one checked reader.
    """
    from conflict_spans.corpus.build import load_splits
    from conflict_spans.paths import DATA_DIR

    return to_dataset_dict(load_splits(Path(data_dir) if data_dir is not None else DATA_DIR))


def row_to_document(row: dict[str, Any]) -> Document:
    """Back from a dataset row to a corpus document (spans and statuses exact)."""
    words = [Word(i, s, e, ()) for i, (s, e) in enumerate(zip(row["token_starts"], row["token_ends"]))]
    tags = [TAGS[t] if isinstance(t, int) else t for t in row["ner_tags"]]
    status = {}
    for item in row.get("span_status", []):
        s, e, st = item.split(":", 2)
        status[(int(s), int(e))] = st
    spans = [Span(sp.start, sp.end, sp.label, status.get((sp.start, sp.end))) for sp in word_tags_to_spans(row["text"], tags, words)]
    spans.sort()
    raw = row.get("relations") or []
    if isinstance(raw, dict):  # a column of a Sequence of dicts reads back as a dict of lists
        raw = [dict(zip(raw, values)) for values in zip(*raw.values())]
    relations = [Relation(spans[r["from"]], spans[r["to"]], RELATION_NAMES[r["type"]] if isinstance(r["type"], int) else r["type"]) for r in raw]
    return Document(row["id"], row["text"], spans, {"conflict": row.get("conflict", "")} if row.get("conflict") else {}, relations)


# ---- CoNLL (IOB2) ---------------------------------------------------------------

def dropped_relations(docs: Sequence[Document], path: str) -> Problem | None:
    """CoNLL has no place for links: the warning that says how many are left out."""
    n = sum(len(doc.relations) for doc in docs)
    if not n:
        return None
    with_links = sum(1 for doc in docs if doc.relations)
    return Problem("relations-dropped", f"CoNLL carries spans only: {n} relations in {with_links} documents are not written to {path}",
                   "keep the JSONL (or the HF view, `conflict_spans.load_corpus()`) for the links", path=path, value=str(n), severity="warning")


def documents_to_conll(docs: Sequence[Document]) -> str:
    """Two columns (word, IOB2 tag), a ``-DOCSTART-`` line and ``# id =`` comment per document.

    Relations are not written (see ``dropped_relations``)."""
    out: list[str] = []
    for doc in docs:
        offsets, tags = document_to_word_tags(doc)
        out.append(f"-DOCSTART- -X- -X- O\n# id = {doc.id}\n")
        for (s, e), tag in zip(offsets, tags):
            out.append(f"{doc.text[s:e]}\t{tag}\n")
        out.append("\n")
    return "".join(out)


def write_conll(path: Path, docs: Sequence[Document]) -> None:
    atomic_write_text(path, documents_to_conll(docs))


def conll_to_spans(conll: str, texts: dict[str, str]) -> dict[str, list[Span]]:
    """Read CoNLL back, realigning each document's words to its original text."""
    result: dict[str, list[Span]] = {}
    doc_id: str | None = None
    tokens: list[tuple[str, str]] = []

    def flush() -> None:
        if doc_id is None:
            if tokens:
                raise CorpusError(Problem("conll", f"{len(tokens)} tagged words come before any '# id = ' line", "start each document with '-DOCSTART-' and a '# id = <record id>' line (as `conflict-spans conll` writes)", value=tokens[0][0]))
            return
        if doc_id not in texts:
            raise CorpusError(Problem("conll", "document id in the CoNLL file is not among the given texts", "pass the JSONL the CoNLL file was made from", record=doc_id))
        text = texts[doc_id]
        words, cursor = [], 0
        for i, (tok, _) in enumerate(tokens):
            start = text.find(tok, cursor)
            if start < 0:
                raise CorpusError(Problem("conll", f"word {tok!r} not found in the text after offset {cursor}", "the CoNLL file does not belong to this text", record=doc_id, value=tok))
            words.append(Word(i, start, start + len(tok), ()))
            cursor = start + len(tok)
        result[doc_id] = word_tags_to_spans(text, [t for _, t in tokens], words)

    for number, line in enumerate(conll.split("\n"), start=1):
        if line.startswith("-DOCSTART-"):
            flush()
            doc_id, tokens = None, []
        elif line.startswith("# id = "):
            doc_id = line[len("# id = "):]
        elif line.strip():
            if "\t" not in line:
                raise CorpusError(Problem("conll", "a CoNLL line must be a word and its tag separated by a tab", "write '<word>\\t<IOB2 tag>' on every token line", line=number, record=doc_id, value=line))
            tok, tag = line.rsplit("\t", 1)
            if tag not in TAGS:
                raise CorpusError(Problem("unknown-label", "unknown tag in CoNLL file", f"use one of {', '.join(TAGS)}", line=number, record=doc_id, value=tag))
            tokens.append((tok, tag))
    flush()
    return result


# ---- spaCy -----------------------------------------------------------------------------

def docs_to_docbin(make_doc: Callable[[str], Any], docs: Sequence[Document]) -> tuple[Any, list[Problem]]:
    """Our documents as a DocBin of spaCy docs with entities, and one warning per span that does not align."""
    from spacy.tokens import DocBin

    docbin = DocBin(store_user_data=False)
    problems: list[Problem] = []
    for doc in docs:
        sdoc = make_doc(doc.text)
        aligned, missing = [], []
        for span in sorted(doc.spans):
            ent = sdoc.char_span(span.start, span.end, label=span.label, alignment_mode="strict")
            if ent is not None:
                aligned.append(ent)
                continue
            covering = sdoc.char_span(span.start, span.end, alignment_mode="expand")
            tokens = [t.text for t in covering] if covering is not None else []
            problems.append(Problem("alignment", f"{span.label} {doc.text[span.start:span.end]!r} [{span.start}, {span.end}) does not fall on spaCy token boundaries (tokens {tokens})",
                                    "its tokens are marked missing in the spaCy training data; to see the tokens, run nlp.make_doc(text) on the document",
                                    record=doc.id, value=doc.text[span.start:span.end], severity="warning"))
            if covering is not None:
                missing.append(covering)
        sdoc.set_ents(aligned, missing=missing, default="outside")
        docbin.add(sdoc)
    return docbin, problems
