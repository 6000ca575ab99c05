"""Reading and writing the corpus: JSON Lines and authoring sources.

Every reader of records goes through here: ``read_documents`` (corpus
records) and ``read_inputs`` (text to predict on) decode, parse and check
every record, refuse labels and statuses the schema does not know and ids used
twice, and raise all the problems together. ``-`` and ``/dev/stdin`` read JSON
Lines from standard input.

Writes are atomic (temporary files renamed into place once all of them are
written), so an error never leaves a half-written output, and they keep the
mode of the file they replace.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from conflict_spans import problems as catalogue
from conflict_spans.corpus.markup import document_to_markup, markup_to_document
from conflict_spans.document import Document, check_line_breaks, check_schema, document_from_dict
from conflict_spans.problems import CorpusError, Problem

SOURCE_SUFFIX = ".txt"
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
STDIN_NAMES = ("-", "/dev/stdin")
UTF8_BOM = b"\xef\xbb\xbf"

Located = tuple[str, int | None, Document]  # (file, line or None for a source file, document)


# ---- what a path is ---------------------------------------------------------------------

def is_stdin(path: str | Path) -> bool:
    return str(path) in STDIN_NAMES


def display_name(path: str | Path) -> str:
    """How messages name a file: ``-`` is standard input."""
    return "<stdin>" if str(path) == "-" else str(path)


def is_jsonl_file(path: str | Path) -> bool:
    """Standard input, or a JSONL suffix in any case (``.jsonl``, ``.ndjson``, ``.json``, ``UPPER.JSONL``)."""
    return is_stdin(path) or Path(path).suffix.lower() in JSONL_SUFFIXES


def is_source_file(path: str | Path) -> bool:
    return not is_stdin(path) and Path(path).suffix.lower() == SOURCE_SUFFIX


def read_bytes(path: str | Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def decode(raw: bytes, name: str, *, strip_bom: bool = True) -> tuple[str | None, list[Problem]]:
    """UTF-8 text (a leading BOM dropped unless ``strip_bom`` is false), or the line of the first bad byte."""
    offset = 0
    if strip_bom and raw.startswith(UTF8_BOM):
        raw, offset = raw[len(UTF8_BOM):], len(UTF8_BOM)
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, [catalogue.not_utf8(name, line, exc.start + offset, raw[exc.start:exc.end], exc.reason)]


# ---- reading ----------------------------------------------------------------------------

def read_jsonl(path: str | Path, *, prediction_input: bool = False) -> tuple[list[tuple[int, Document]], list[Problem]]:
    """Parse every line; return (line number, document) pairs and all problems."""
    p = display_name(path)
    content, problems = decode(read_bytes(path), p)
    if content is None:
        return [], problems
    if not content.strip():
        return [], [catalogue.no_documents(p, "the file is empty" if not content else "the file is empty but for blank lines")]
    docs: list[tuple[int, Document]] = []
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem("json", f"malformed JSON ({exc.msg} at column {exc.colno})", "fix the line so that it is one complete JSON object", path=p, line=number, value=line[:80]))
            continue
        doc, doc_problems = document_from_dict(record, path=p, line=number, prediction_input=prediction_input)
        problems += doc_problems
        if doc is not None:
            docs.append((number, doc))
    return docs, problems


def read_source(path: Path) -> tuple[Document | None, list[Problem]]:
    """One authoring source (``.txt``); a BOM there is reported by the markup parser."""
    source, problems = decode(read_bytes(path), str(path), strip_bom=False)
    if source is None:
        return None, problems
    try:
        return markup_to_document(source, path=str(path)), []
    except CorpusError as exc:
        return None, exc.problems


def iter_files(path: Path) -> list[Path]:
    if is_stdin(path) or not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and (is_jsonl_file(p) or is_source_file(p)))


def collect(path: Path) -> tuple[list[Located], list[Problem]]:
    """Every document under ``path`` with its file and line, and every parse problem."""
    if not is_stdin(path) and not path.exists():
        return [], [Problem("path", "no such file or folder", "check the path", path=str(path))]
    out: list[Located] = []
    problems: list[Problem] = []
    files = iter_files(path)
    if not files:
        return [], [Problem("path", f"folder has no corpus files (*{SOURCE_SUFFIX}, {', '.join('*' + s for s in JSONL_SUFFIXES)})", "check the path, or write the documents first", path=str(path))]
    for file in files:
        if is_source_file(file):
            doc, file_problems = read_source(file)
            problems += file_problems
            if doc is not None:
                out.append((str(file), None, doc))
        else:
            docs, file_problems = read_jsonl(file)
            problems += file_problems
            out += [(display_name(file), line, doc) for line, doc in docs]
    return out, problems


def duplicate_ids(found: Iterable[Located]) -> list[Problem]:
    """One problem per id used by several records, naming every file and line."""
    places: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for file, line, doc in found:
        places[doc.id].append((file, line))
    return [catalogue.duplicate_id(doc_id, where) for doc_id, where in places.items() if len(where) > 1]


def _checked(found: list[Located], problems: list[Problem]) -> list[Located]:
    problems = problems + [p for file, line, doc in found for p in check_schema(doc, path=file, line=line)] + duplicate_ids(found)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise CorpusError(errors)
    return found


def load_documents(paths: Iterable[Path]) -> list[Located]:
    """The checked loader: every document under ``paths`` with its file and line.

    Raises one ``CorpusError`` with every problem: parse errors, labels and
    statuses the schema does not know, and ids used twice (across all ``paths``).
    """
    found: list[Located] = []
    problems: list[Problem] = []
    for path in paths:
        docs, path_problems = collect(Path(path))
        found += docs
        problems += path_problems
    return _checked(found, problems)


def read_documents(path: Path) -> list[Document]:
    """Read a JSONL file (or standard input) or a source file/folder through the checked loader."""
    return [doc for _, _, doc in load_documents([path])]


def read_inputs(paths: Iterable[Path]) -> list[Document]:
    """Text to predict on, through the checked loader, in input order.

    JSONL records need ``id`` and ``text``; ``spans`` are optional and checked
    when present, ``meta`` must be an object and is carried through. Any other
    file is plain text (read as written, CRLF kept) whose file name is the id.
    """
    found: list[Located] = []
    problems: list[Problem] = []
    for path in map(Path, paths):
        if not is_stdin(path) and not path.exists():
            problems.append(Problem("path", "no such file or folder", "check the path", path=str(path)))
            continue
        files = sorted(p for p in path.rglob("*") if p.is_file()) if not is_stdin(path) and path.is_dir() else [path]
        if not files:
            problems.append(catalogue.no_documents(str(path), "the folder holds no files"))
        for file in files:
            if is_jsonl_file(file):
                docs, file_problems = read_jsonl(file, prediction_input=True)
                found += [(display_name(file), line, doc) for line, doc in docs]
                problems += file_problems
                continue
            text, file_problems = decode(read_bytes(file), str(file))
            problems += file_problems
            if text is not None and not text.strip():
                problems.append(catalogue.no_documents(str(file), "the file is empty" if not text else "the file holds only white space"))
            elif text is not None:
                found.append((str(file), None, Document(file.stem, text, [])))
    return [doc for _, _, doc in _checked(found, problems)]


# ---- file names from records --------------------------------------------------------------

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def safe_file_name(value: str, what: str, kind: str = "file", **where) -> str:
    """``value`` when it can be a file or folder name inside the output folder, else a ``CorpusError``.

    Letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit, no
    ``..``: no separator, no parent folder, no hidden file, nothing absolute.
    """
    if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value) or ".." in value:
        raise CorpusError(catalogue.unsafe_file_name(str(value), what, kind, **where))
    return value


def markup_files(found: Iterable[Located], out_dir: Path, *, by_conflict: bool = False) -> dict[Path, str]:
    """``<out_dir>[/<conflict>]/<id>.txt`` -> its authoring source, for every document; nothing is written.

    Raises every problem at once: a name that cannot be a file name, a span
    with a line break (spec G10), or a document the format cannot hold.
    """
    files: dict[Path, str] = {}
    problems: list[Problem] = []
    for file, line, doc in found:
        where = {"path": file, "line": line, "record": doc.id}
        try:
            folder = out_dir
            if by_conflict:
                folder = out_dir / safe_file_name(str(doc.meta.get("conflict", "")), "meta.conflict", "folder", **where)
            target = folder / (safe_file_name(doc.id, "id", **where) + SOURCE_SUFFIX)
            check_output_file(target, option="OUTPUT_DIR")
            line_breaks = check_line_breaks(doc, path=file, line=line)
            if line_breaks:
                raise CorpusError(line_breaks)
            files[target] = document_to_markup(doc)
        except CorpusError as exc:
            problems += [dataclasses.replace(p, path=p.path or file, line=p.line or line) for p in exc.problems]
    if problems:
        raise CorpusError(problems)
    return files


# ---- output paths -------------------------------------------------------------------------

def check_output_file(path: Path, *, inputs: Iterable[Path] = (), option: str = "-o/--output") -> None:
    """Raise before any work when ``path`` cannot take an output file.

    It must not be a folder, its nearest existing ancestor must be a folder, and
    it must not be one of ``inputs`` (compared after resolving symlinks and ``..``).
    """
    if path.is_dir():
        raise CorpusError(catalogue.output_is_folder(path, option))
    _check_ancestor_is_folder(path, option)
    target = path.resolve()
    for source in inputs:
        if str(source) not in ("-", "/dev/stdin") and Path(source).resolve() == target:
            raise CorpusError(catalogue.output_is_input(path, option))


def _check_ancestor_is_folder(path: Path, option: str) -> None:
    """Raise when the nearest existing ancestor of ``path`` is a file, so that ``path`` could never be created."""
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise CorpusError(catalogue.output_parent_not_folder(path, ancestor, option))


def check_output_folder(path: Path, *, option: str) -> None:
    """Raise before any work when ``path`` cannot be (or become) a folder: it, or an ancestor, is a file."""
    if path.exists() and not path.is_dir():
        raise CorpusError(catalogue.output_folder_is_file(path, option))
    _check_ancestor_is_folder(path, option)


# ---- writing ------------------------------------------------------------------------------

def _umask() -> int:
    mask = os.umask(0o077)  # restrictive while it is read, should another thread create a file
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """The mode of the file being replaced, or what a new file gets under the umask (0666 & ~umask)."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _write_temporary(path: Path, content: str) -> Path:
    """``content`` in a temporary file beside ``path``, with the mode ``path`` will have."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _make_folder(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, adding each one created to ``created``."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue  # made meanwhile by someone else: not ours to remove
        created.append(path)


def atomic_write_many(contents: Mapping[Path, str]) -> None:
    """Write every file or none: all go to temporary files first, and are renamed into place only then.

    On an error the temporary files and any folder created for them are removed.
    """
    created: list[Path] = []
    written: list[tuple[Path, Path]] = []
    try:
        for path, content in contents.items():
            _make_folder(path.parent, created)
            written.append((_write_temporary(path, content), path))
    except BaseException:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    for done, (tmp, path) in enumerate(written):
        try:
            os.replace(tmp, path)
        except BaseException:
            for left, _ in written[done:]:
                left.unlink(missing_ok=True)
            raise


def atomic_write_text(path: Path, content: str) -> None:
    atomic_write_many({path: content})


def dumps_jsonl(docs: Iterable[Document]) -> str:
    return "".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in docs)


def write_jsonl(path: Path, docs: Iterable[Document]) -> None:
    atomic_write_text(path, dumps_jsonl(docs))


# ---- streamed prediction input (issue 12): one record at a time --------------------------------

def is_parquet_file(path: str | Path) -> bool:
    return not is_stdin(path) and Path(path).suffix.lower() == ".parquet"


def file_mode_for(path: Path) -> int:
    """The mode an output at ``path`` gets: that of the file it replaces, or what a new file gets under the umask."""
    return _mode_for(path)


def _first_non_space_byte(path: Path, chunk: int = 1 << 20) -> bool:
    """Whether the file holds anything but ASCII white space (read up to the first such byte only)."""
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            if block.strip():
                return True
    return False


def _parquet_file(path: Path):
    import pyarrow
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (OSError, pyarrow.ArrowException) as exc:
        raise CorpusError(catalogue.parquet_unreadable(str(path), f"{type(exc).__name__}: {exc}")) from None


def prediction_input_files(paths: Iterable[Path]) -> list[Path]:
    """The files ``predict`` reads, in the order ``read_inputs`` reads them, checked before any work.

    Cheap checks only (the records are checked as they are read): every path
    exists, a folder holds files, a file is not empty or blank, a Parquet file
    opens and has ``id`` and ``text`` columns. Raises every problem at once.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for path in map(Path, paths):
        if not is_stdin(path) and not path.exists():
            problems.append(Problem("path", "no such file or folder", "check the path", path=str(path)))
            continue
        found = sorted(p for p in path.rglob("*") if p.is_file()) if not is_stdin(path) and path.is_dir() else [path]
        if not found:
            problems.append(catalogue.no_documents(str(path), "the folder holds no files"))
        for file in found:
            files.append(file)
            if is_stdin(file):
                continue
            if is_parquet_file(file):
                try:
                    parquet = _parquet_file(file)
                except CorpusError as exc:
                    problems += exc.problems
                    continue
                names = parquet.schema_arrow.names
                if "id" not in names or "text" not in names:
                    problems.append(catalogue.parquet_columns(str(file), names))
                elif parquet.metadata.num_rows == 0:
                    problems.append(catalogue.no_documents(str(file), "the Parquet file has no rows"))
            elif not _first_non_space_byte(file):
                empty = file.stat().st_size == 0
                blank = "the file is empty but for blank lines" if is_jsonl_file(file) else "the file holds only white space"
                problems.append(catalogue.no_documents(str(file), "the file is empty" if empty else blank))
    if problems:
        raise CorpusError(problems)
    return files


def _checked_input(raw, name: str, line: int) -> Document:
    """One prediction-input record, checked as ``read_inputs`` checks it; a ``CorpusError`` naming file, line and record."""
    doc, problems = document_from_dict(raw, path=name, line=line, prediction_input=True)
    if doc is not None:
        problems += check_schema(doc, path=name, line=line)
    errors = [p for p in problems if p.severity == "error"]
    if errors or doc is None:
        raise CorpusError(errors)
    return doc


def _iter_jsonl_inputs(path: Path) -> Iterable[Located]:
    name = display_name(path)
    stream = sys.stdin.buffer if str(path) == "-" else open(path, "rb")
    offset = 0
    try:
        for number, raw in enumerate(stream, start=1):
            skipped = 0
            if number == 1 and raw.startswith(UTF8_BOM):
                raw, skipped = raw[len(UTF8_BOM):], len(UTF8_BOM)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CorpusError(catalogue.not_utf8(name, number, offset + skipped + exc.start, raw[exc.start:exc.end], exc.reason)) from None
            offset += skipped + len(raw)
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(Problem("json", f"malformed JSON ({exc.msg} at column {exc.colno})", "fix the line so that it is one complete JSON object",
                                          path=name, line=number, value=line[:80])) from None
            yield name, number, _checked_input(record, name, number)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _iter_parquet_inputs(path: Path, rows_per_batch: int = 1024) -> Iterable[Located]:
    """Rows of columns ``id``, ``text`` and optional ``meta`` (a JSON object as a string, or a struct); the row number (from 1) is the line."""
    name = str(path)
    parquet = _parquet_file(path)
    columns = [c for c in ("id", "text", "meta") if c in parquet.schema_arrow.names]
    row = 0
    for batch in parquet.iter_batches(batch_size=rows_per_batch, columns=columns):
        for record in batch.to_pylist():
            row += 1
            meta = record.get("meta")
            if isinstance(meta, str):
                try:
                    record["meta"] = json.loads(meta) if meta.strip() else None
                except json.JSONDecodeError as exc:
                    where = {"path": name, "line": row, "record": None if record.get("id") is None else str(record["id"])}
                    raise CorpusError(catalogue.meta_not_json(meta, f"{exc.msg} at column {exc.colno}", **where)) from None
            yield name, row, _checked_input(record, name, row)


def _iter_text_input(path: Path) -> Iterable[Located]:
    text, problems = decode(read_bytes(path), str(path))
    if text is not None and not text.strip():
        problems.append(catalogue.no_documents(str(path), "the file is empty" if not text else "the file holds only white space"))
    if problems:
        raise CorpusError(problems)
    yield str(path), None, Document(path.stem, text, [])


def iter_inputs(files: Iterable[Path]) -> Iterable[Located]:
    """Text to predict on, one checked record at a time, in input order: the streamed ``read_inputs``.

    ``files`` come from :func:`prediction_input_files`. JSONL is read a line at
    a time and Parquet a row batch at a time, so memory does not grow with the
    input (but for the ids seen, kept to find an id used twice). The first bad
    record raises a ``CorpusError`` naming its file, line (Parquet: row) and
    record; the records before it have been yielded.
    """
    seen: dict[str, tuple[str, int | None]] = {}
    for file in files:
        if is_parquet_file(file):
            records = _iter_parquet_inputs(file)
        elif is_jsonl_file(file):
            records = _iter_jsonl_inputs(file)
        else:
            records = _iter_text_input(file)
        count = 0
        for name, line, doc in records:
            first = seen.get(doc.id)
            if first is not None:
                raise CorpusError(catalogue.duplicate_id(doc.id, [first, (name, line)]))
            seen[doc.id] = (name, line)
            count += 1
            yield name, line, doc
        if not count:
            raise CorpusError(catalogue.no_documents(display_name(file), "the file is empty but for blank lines"))


def check_prediction_inputs(files: Iterable[Path]) -> int:
    """Read every record of ``files`` once, checked, before the model runs; the number of documents.

    A bad record on line 900,000 is found in seconds rather than after hours of
    prediction, and nothing is written. Standard input (``-``) cannot be read
    twice: its records are checked as the run reads them, and a bad one stops
    the run with the documents before it kept in ``OUT.partial`` for ``--resume``.
    """
    files = list(files)
    if any(is_stdin(f) for f in files):
        return -1
    return sum(1 for _ in iter_inputs(files))
