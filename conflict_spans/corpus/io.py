"""Reading and writing the corpus: JSON Lines and authoring sources.

Writes are atomic (a temporary file renamed into place), so an error never
leaves a half-written output.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from conflict_spans.corpus.markup import read_markup_file
from conflict_spans.document import Document, document_from_dict
from conflict_spans import problems as catalogue
from conflict_spans.problems import CorpusError, Problem

SOURCE_SUFFIX = ".txt"
JSONL_SUFFIXES = (".jsonl", ".json")


def read_jsonl(path: Path) -> tuple[list[tuple[int, Document]], list[Problem]]:
    """Parse every line; return (line number, document) pairs and all problems."""
    p = str(path)
    raw = path.read_bytes()
    problems: list[Problem] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        return [], [Problem("bom", "file starts with a UTF-8 byte-order mark", "save the file as UTF-8 without BOM", path=p, line=1)]
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [Problem("encoding", f"file is not valid UTF-8 ({exc.reason} at byte {exc.start})", "save the file as UTF-8", path=p)]
    if not content.strip():
        return [], [Problem("empty", "file is empty", "write one JSON object per line, or remove the file", path=p)]
    docs: list[tuple[int, Document]] = []
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem("json", f"malformed JSON ({exc.msg} at column {exc.colno})", "fix the line so that it is one complete JSON object", path=p, line=number, value=line[:80]))
            continue
        doc, doc_problems = document_from_dict(record, path=p, line=number)
        problems += doc_problems
        if doc is not None:
            docs.append((number, doc))
    return docs, problems


def read_documents(path: Path) -> list[Document]:
    """Read a JSONL file or a source file/folder; raise on the first file with errors."""
    docs, problems = collect(path)
    errors = [pr for pr in problems if pr.severity == "error"]
    if errors:
        raise CorpusError(errors)
    return [d for _, _, d in docs]


def iter_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and (p.suffix in JSONL_SUFFIXES or p.suffix == SOURCE_SUFFIX))
    return [path]


def collect(path: Path) -> tuple[list[tuple[str, int | None, Document]], list[Problem]]:
    """Every document under ``path`` with its file and line, and every parse problem."""
    if not path.exists():
        return [], [Problem("path", "no such file or folder", "check the path", path=str(path))]
    out: list[tuple[str, int | None, Document]] = []
    problems: list[Problem] = []
    files = iter_files(path)
    if not files:
        return [], [Problem("path", f"folder has no corpus files (*{SOURCE_SUFFIX}, {', '.join('*' + s for s in JSONL_SUFFIXES)})", "check the path, or write the documents first", path=str(path))]
    for file in files:
        if file.suffix == SOURCE_SUFFIX:
            try:
                out.append((str(file), None, read_markup_file(file)))
            except CorpusError as exc:
                problems += exc.problems
        else:
            docs, file_problems = read_jsonl(file)
            problems += file_problems
            out += [(str(file), line, doc) for line, doc in docs]
    return out, problems


def check_output_file(path: Path, *, inputs: Iterable[Path] = (), option: str = "-o/--output") -> None:
    """Raise before any work when ``path`` cannot take an output file.

    It must not be a folder, its nearest existing ancestor must be a folder, and
    it must not be one of ``inputs`` (compared after resolving symlinks and ``..``).
    """
    if path.is_dir():
        raise CorpusError(catalogue.output_is_folder(path, option))
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise CorpusError(catalogue.output_parent_not_folder(path, ancestor, option))
    target = path.resolve()
    for source in inputs:
        if str(source) not in ("-", "/dev/stdin") and Path(source).resolve() == target:
            raise CorpusError(catalogue.output_is_input(path, option))


def atomic_write_text(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps_jsonl(docs: Iterable[Document]) -> str:
    return "".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in docs)


def write_jsonl(path: Path, docs: Iterable[Document]) -> None:
    atomic_write_text(path, dumps_jsonl(docs))
