"""``conflict-spans build``: authoring sources -> split JSONL files."""

from __future__ import annotations

from pathlib import Path

from conflict_spans.corpus.io import atomic_write_text, collect, dumps_jsonl, read_documents
from conflict_spans.corpus.provenance import PROVENANCE, PROVENANCE_KEY
from conflict_spans.corpus.splits import assign_splits, dump_assignment, load_assignment, split_documents
from conflict_spans.corpus.validate import validate_paths
from conflict_spans.document import Document
from conflict_spans.paths import DATA_DIR, SOURCE_DIR, SPLITS_FILE, split_file
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import SPLITS


def load_sources(source_dir: Path = SOURCE_DIR) -> list[Document]:
    docs, problems = collect(source_dir)
    if problems:
        raise CorpusError(problems)
    return [doc for _, _, doc in docs]


def build(source_dir: Path = SOURCE_DIR, data_dir: Path = DATA_DIR, splits_file: Path = SPLITS_FILE) -> dict[str, list[Document]]:
    """Validate the sources, assign new story groups to splits, write one JSONL per split.

    Nothing is written unless every source is valid.
    """
    problems, _ = validate_paths([source_dir])
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise CorpusError(errors)
    docs = load_sources(source_dir)
    for doc in docs:
        doc.meta[PROVENANCE_KEY] = PROVENANCE
    assignment = assign_splits(docs, load_assignment(splits_file))
    by_split = split_documents(docs, assignment)
    contents = {split: dumps_jsonl(by_split[split]) for split in SPLITS}
    atomic_write_text(splits_file, dump_assignment(assignment))
    for split in SPLITS:
        atomic_write_text(split_file(split, data_dir), contents[split])
    return by_split


def load_splits(data_dir: Path = DATA_DIR) -> dict[str, list[Document]]:
    out = {}
    for split in SPLITS:
        path = split_file(split, data_dir)
        if not path.exists():
            raise CorpusError([Problem("path", f"split file {path} is missing", "run `conflict-spans build` to create the split files", path=str(path))])
        out[split] = read_documents(path)
    return out
