"""``conflict-spans build``: authoring sources -> split JSONL files."""

from __future__ import annotations

from pathlib import Path

from conflict_spans.corpus.io import atomic_write_many, check_output_file, check_output_folder, collect, dumps_jsonl, load_documents
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

    The output paths are checked and every file's content computed before the
    first write, and the files are written all or none: on any error nothing
    changes.
    """
    check_output_folder(data_dir, option="--out")
    outputs = {split: split_file(split, data_dir) for split in SPLITS}
    for path in outputs.values():
        check_output_file(path, option="--out")
    check_output_file(splits_file, option="--splits")
    problems, _ = validate_paths([source_dir])
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise CorpusError(errors)
    docs = load_sources(source_dir)
    for doc in docs:
        doc.meta[PROVENANCE_KEY] = PROVENANCE
    assignment = assign_splits(docs, load_assignment(splits_file))
    by_split = split_documents(docs, assignment)
    contents = {splits_file: dump_assignment(assignment)}
    contents.update({outputs[split]: dumps_jsonl(by_split[split]) for split in SPLITS})
    atomic_write_many(contents)
    return by_split


def load_splits(data_dir: Path = DATA_DIR) -> dict[str, list[Document]]:
    """The three split files through the checked loader (ids unique across them)."""
    paths = {split: split_file(split, data_dir) for split in SPLITS}
    for path in paths.values():
        if not path.exists():
            raise CorpusError([Problem("path", f"split file {path} is missing", "run `conflict-spans build` to create the split files", path=str(path))])
    found = load_documents(paths.values())
    return {split: [doc for file, _, doc in found if file == str(path)] for split, path in paths.items()}
