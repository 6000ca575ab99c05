"""Prediction over an archive: records streamed in, predictions written as they are made, a killed run resumable.

The run writes to ``OUT.partial`` beside the output, always JSON Lines (one
prediction record a line), flushed and synced after every buffer of
documents; when the input is done it becomes ``OUT``: renamed for JSON Lines,
converted row group by row group for Parquet. A Parquet file is unreadable
until its footer is written, so it cannot be what a killed run leaves behind:
the JSON Lines journal can, and ``--resume`` reads it back, cutting off a last
line the kill left incomplete. Without ``--resume`` an existing ``OUT.partial``
is refused rather than overwritten (it is work already done), and an existing
``OUT`` is replaced only when the run completes.

Memory stays flat in the input size: one buffer of documents is held at a
time, plus the ids already seen (to find an id used twice and to skip what a
resumed run has written).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from conflict_spans import problems as catalogue
from conflict_spans.corpus.io import Located, file_mode_for
from conflict_spans.document import Document
from conflict_spans.model.predict import Predictor
from conflict_spans.problems import CorpusError

OUTPUT_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
PARTIAL_SUFFIX = ".partial"
PARQUET_ROWS_PER_GROUP = 1024


# ---- the output: its format, its journal ---------------------------------------------------------

def output_format(path: Path, option: str = "-o/--output") -> str:
    """``jsonl`` or ``parquet`` from the output's suffix (any case); a ``CorpusError`` for any other name."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CorpusError(catalogue.output_format_unknown(path, option, list(OUTPUT_FORMATS)))
    return fmt


def partial_path(output: Path) -> Path:
    return output.with_name(output.name + PARTIAL_SUFFIX)


def prediction_record(doc: Document, model_version: str) -> dict:
    """One output record: ``{id, text, spans: [{start, end, label, score, status?, text}], meta, model_version}``."""
    spans = [s.to_dict(doc.text) for s in sorted(doc.spans)]
    return {"id": doc.id, "text": doc.text, "spans": spans, "meta": doc.meta, "model_version": model_version}


def _parquet_schema():
    import pyarrow as pa

    span = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string()), ("score", pa.float64()),
                      ("status", pa.string()), ("text", pa.string())])
    return pa.schema([("id", pa.string()), ("text", pa.string()), ("spans", pa.list_(span)), ("meta", pa.string()),
                      ("model_version", pa.string())])


def _parquet_row(record: dict) -> dict:
    """A prediction record as a Parquet row: ``meta`` a JSON string (it is free-form), every span with all six fields."""
    spans = [{"start": s["start"], "end": s["end"], "label": s["label"], "score": s.get("score"), "status": s.get("status"), "text": s.get("text")}
             for s in record["spans"]]
    return {"id": record["id"], "text": record["text"], "spans": spans, "meta": json.dumps(record.get("meta") or {}, ensure_ascii=False),
            "model_version": record.get("model_version")}


def _record_from_parquet_row(row: dict) -> dict:
    spans = [{k: v for k, v in s.items() if v is not None} for s in row["spans"] or []]
    return {"id": row["id"], "text": row["text"], "spans": spans, "meta": json.loads(row["meta"]) if row.get("meta") else {},
            "model_version": row.get("model_version")}


def read_parquet_predictions(path: Path) -> Iterator[dict]:
    """The records of a Parquet output written by :func:`predict_stream`, a row group at a time."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_ROWS_PER_GROUP):
        yield from map(_record_from_parquet_row, batch.to_pylist())


def _journal_lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        yield from fh


def _journal_to_parquet(journal: Path, target: Path) -> None:
    """The JSON Lines journal written into ``target`` as Parquet, one row group per ``PARQUET_ROWS_PER_GROUP`` records."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    with pq.ParquetWriter(target, schema) as writer:
        rows: list[dict] = []
        for line in _journal_lines(journal):
            rows.append(_parquet_row(json.loads(line)))
            if len(rows) == PARQUET_ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))


def _seed_journal(output: Path, fmt: str, journal: Path) -> None:
    """``--resume`` with a finished ``OUT`` and no journal: the journal starts as a copy of ``OUT``'s records."""
    if fmt == "jsonl":
        shutil.copyfile(output, journal)
        return
    with open(journal, "w", encoding="utf-8", newline="") as fh:
        for record in read_parquet_predictions(output):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def recover_journal(journal: Path) -> set[str]:
    """The ids in the journal of an interrupted run; a last line the kill cut short (no newline, or not a record) is cut off.

    Any other line that is not a prediction record is an error naming it: the
    journal is this command's own output, and only its end can be damaged by a kill.
    """
    ids: set[str] = set()
    good_end = 0  # byte offset after the last complete record
    bad: tuple[int, bytes, str] | None = None
    with open(journal, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if bad is not None:  # a damaged line followed by more lines: not a cut-short end
                raise CorpusError(catalogue.partial_output_corrupt(journal, bad[0], bad[1].decode("utf-8", "replace"), bad[2]))
            reason = None
            if not line.endswith(b"\n"):
                reason = "no line end: cut short"
            else:
                try:
                    record = json.loads(line)
                    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                        reason = "no string id"
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    reason = f"malformed JSON: {exc}"
            if reason is not None:
                bad = (number, line, reason)
                continue
            ids.add(record["id"])
            good_end += len(line)
    if bad is not None:
        with open(journal, "r+b") as fh:
            fh.truncate(good_end)
    return ids


# ---- progress ------------------------------------------------------------------------------------

class Progress:
    """Documents/s and words/s on stderr, refreshed about once a second, and a summary line at the end.

    On a terminal the line is rewritten in place; into a file or pipe a new
    line is written every ``log_interval`` seconds instead, so that logs stay short.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True, interval: float = 1.0, log_interval: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if self.tty else log_interval
        self.clock = clock
        self.start = self.last = clock()
        self.docs = self.words = 0
        self.shown = False

    def line(self) -> str:
        seconds = max(self.clock() - self.start, 1e-9)
        return f"predict: {self.docs:,} documents, {self.words:,} words in {seconds:.1f} s: {self.docs / seconds:,.1f} documents/s, {self.words / seconds:,.0f} words/s"

    def add(self, docs: int, words: int) -> None:
        self.docs += docs
        self.words += words
        now = self.clock()
        if self.enabled and now - self.last >= self.interval:
            self.last = now
            self._show(self.line(), final=False)

    def _show(self, text: str, *, final: bool) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown = True

    def finish(self, note: str = "") -> None:
        if self.enabled:
            self._show(self.line() + note, final=True)


# ---- the run ---------------------------------------------------------------------------------------

@dataclass
class StreamSummary:
    written: int = 0  # documents predicted and written by this run
    spans: int = 0  # spans in them
    kept: int = 0  # records already in the output being resumed
    skipped: int = 0  # input records skipped because their id was already written


class _Journal:
    """Appends prediction records to the journal, opened at the first write (a run stopped before it leaves no file);
    every :meth:`write` is flushed and synced to disk."""

    def __init__(self, path: Path, mode: int):
        self.path, self.mode, self.fh = path, mode, None

    def open(self) -> None:
        if self.fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new = not self.path.exists()
            self.fh = open(self.path, "ab")
            if new:
                os.chmod(self.path, self.mode)

    def write(self, records: Iterable[dict]) -> None:
        self.open()
        self.fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def check_partial(output: Path, *, resume: bool) -> None:
    """Before any work: an earlier run's journal is continued with ``--resume``, never overwritten without it."""
    partial = partial_path(output)
    if partial.is_dir():
        raise CorpusError(catalogue.output_is_folder(partial, "-o/--output (its .partial file)"))
    if partial.exists() and not resume:
        raise CorpusError(catalogue.partial_output_exists(partial, output))


def _words(doc: Document) -> int:
    return len(doc.text.split())


def predict_stream(predictor: Predictor, records: Iterable[Located], output: Path, *, buffer_size: int = 256, resume: bool = False,
                   progress: Progress | None = None) -> StreamSummary:
    """Predict every record of ``records`` into ``output`` (JSON Lines or Parquet, by its suffix), ``buffer_size`` documents at a time.

    Each buffer's windows are batched by length and its documents written in
    input order. With ``resume``, documents whose id is already in the output
    (``OUT.partial``, else ``OUT``) are skipped. A bad record (a ``CorpusError``
    from ``records``) stops the run after the documents before it are written,
    and the error says how many are there and that ``--resume`` continues.
    """
    fmt = output_format(output)
    partial = partial_path(output)
    progress = progress or Progress(enabled=False)
    summary = StreamSummary()
    done: set[str] = set()
    if resume and not partial.exists() and output.exists():
        _seed_journal(output, fmt, partial)
        os.chmod(partial, file_mode_for(output))
    if resume and partial.exists():
        done = recover_journal(partial)
        summary.kept = len(done)
    journal = _Journal(partial, file_mode_for(output))
    buffer: list[Document] = []

    def flush() -> None:
        if not buffer:
            return
        predicted = predictor.predict_documents_by_length(buffer)
        journal.write(prediction_record(doc, predictor.model_version) for doc in predicted)
        summary.written += len(predicted)
        summary.spans += sum(len(doc.spans) for doc in predicted)
        progress.add(len(predicted), sum(map(_words, predicted)))
        buffer.clear()

    try:
        try:
            for _, _, doc in records:
                if doc.id in done:
                    summary.skipped += 1
                    continue
                buffer.append(doc)
                if len(buffer) >= buffer_size:
                    flush()
        except CorpusError as exc:
            flush()
            stopped = catalogue.predict_stopped(partial, output, summary.written, summary.kept + summary.written)
            raise CorpusError([*exc.problems, stopped]) from None
        flush()
        journal.open()  # an output with no new document is still written
    finally:
        journal.close()
    _finish(partial, output, fmt)
    return summary


def _finish(partial: Path, output: Path, fmt: str) -> None:
    """The journal becomes the output: renamed (JSON Lines), or converted into a temporary file renamed into place (Parquet)."""
    if fmt == "jsonl":
        os.replace(partial, output)
        return
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, file_mode_for(output))
        _journal_to_parquet(partial, Path(tmp))
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    partial.unlink()
