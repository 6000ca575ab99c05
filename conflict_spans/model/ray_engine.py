"""``conflict-spans predict --engine ray``: the same prediction as a Ray Data pipeline.

read -> check -> ``map_batches`` on a pool of actors, each loading the model
once -> sort by input position -> one JSONL file, streamed to disk on the driver.

The records are read by the reader local ``predict`` uses
(``conflict_spans.corpus.io.iter_inputs``), not by ``ray.data.read_json``:
Arrow's JSON reader turns every ``meta`` object into a struct holding the
union of all keys (a key one record lacks comes back as ``null``), which would
change the records, and it loses the line numbers that problems name. Each
input file is one read task; a row carries its file's index and its line (or
Parquet row) number, which is the sort key that restores input order, and the
record's ``meta`` travels as a JSON string, so it comes out as it went in.

Inputs are local paths or URIs that pyarrow's filesystems open (``s3://``,
``gs://``, ``hdfs://``, ``abfs://``): JSONL (``.jsonl``, ``.ndjson``,
``.json``), Parquet (``.parquet``) and plain text files, or folders of them.
The model folder must be at the same path on every node. The output is one
local JSONL file of the records local ``predict`` writes, in input order; it
is written beside its final name and renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from conflict_spans import problems as catalogue
from conflict_spans.corpus.io import JSONL_SUFFIXES, file_mode_for, is_stdin, iter_inputs, prediction_input_files
from conflict_spans.document import Document
from conflict_spans.problems import CorpusError, Problem

DOCUMENTS_PER_CALL = 64  # documents an actor predicts per map_batches call (its windows go through in --batch-size batches)
LOCAL_HOST = "127.0.0.1"
# what Ray must not do here: report usage, serve a dashboard
QUIET_RAY = {"RAY_USAGE_STATS_ENABLED": "0"}
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/(/?)(.*)$", re.S)


# ---- where the inputs are ---------------------------------------------------------------

def location(path: str | Path) -> str:
    """A local path as given, or a URI; a URI that went through ``Path`` (``s3:/b/k``) gets its ``//`` back."""
    text = str(path)
    match = _URI.match(text)
    if not match:
        return text
    scheme, _, rest = match.groups()
    if scheme.lower() == "file":
        return "/" + rest.lstrip("/")
    return f"{scheme}://{rest}"


def is_uri(path: str) -> bool:
    return "://" in path


def _filesystem(path: str):
    """(pyarrow filesystem, path inside it) for a local path or a URI."""
    from pyarrow import fs

    if is_uri(path):
        return fs.FileSystem.from_uri(path)
    return fs.LocalFileSystem(), str(Path(path).absolute())


def input_files(inputs: Iterable[str | Path]) -> list[str]:
    """Every file to read, in the order local ``predict`` reads them: as given, a folder's files sorted."""
    from pyarrow import fs

    files: list[str] = []
    problems: list[Problem] = []
    for given in map(location, inputs):
        if is_stdin(given):
            problems.append(catalogue.ray_input_stdin())
            continue
        if not is_uri(given):  # the checks local ``predict`` makes; a cluster's nodes must see the same path
            try:
                files += [str(f) for f in prediction_input_files([Path(given)])]
            except CorpusError as exc:
                problems += exc.problems
            continue
        try:
            filesystem, inner = fs.FileSystem.from_uri(given)
            info = filesystem.get_file_info(inner)
            if info.type == fs.FileType.NotFound:
                problems.append(catalogue.ray_input_missing(given, "no such file or folder"))
            elif info.type == fs.FileType.Directory:
                scheme = given.split("://", 1)[0]
                found = sorted(f"{scheme}://{i.path}" for i in filesystem.get_file_info(fs.FileSelector(inner, recursive=True)) if i.type == fs.FileType.File)
                if not found:
                    problems.append(catalogue.no_documents(given, "the folder holds no files"))
                files += found
            else:
                files.append(given)
        except (OSError, ValueError) as exc:  # pyarrow: unknown scheme, no credentials, unreachable store
            problems.append(catalogue.ray_input_missing(given, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}"))
    if problems:
        raise CorpusError(problems)
    return files


# ---- reading (a Ray task per file) --------------------------------------------------------

def _row(file: int, line: int, doc: Document) -> dict:
    return {"file": file, "line": line, "id": doc.id, "text": doc.text, "meta": json.dumps(doc.meta, ensure_ascii=False), "problems": ""}


def _problem_row(file: int, problems: list[Problem]) -> dict:
    return {"file": file, "line": 0, "id": "", "text": "", "meta": "{}",
            "problems": json.dumps([dataclasses.asdict(p) for p in problems], ensure_ascii=False)}


@contextlib.contextmanager
def _local_copy(name: str):
    """A local file's path, or a temporary copy of an object in a store, under the object's own file name."""
    if not is_uri(name):
        yield Path(name)
        return
    filesystem, inner = _filesystem(name)
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / Path(inner).name
        with filesystem.open_input_stream(inner) as source, open(local, "wb") as sink:
            while chunk := source.read(1 << 24):
                sink.write(chunk)
        yield local


def read_file(item: dict) -> list[dict]:
    """Every record of one input file as a row ``{file, line, id, text, meta, problems}`` (``flat_map``).

    The file goes through the reader local ``predict`` uses
    (``conflict_spans.corpus.io.iter_inputs``): the same checks, the same
    Parquet columns, the same id for a plain text file. Its first bad record
    becomes one row that carries the problem instead of a document.
    """
    file, name = int(item["file"]), str(item["path"])
    with _local_copy(name) as local:
        try:
            return [_row(file, line or 0, doc) for _, line, doc in iter_inputs(prediction_input_files([local]))]
        except CorpusError as exc:
            return [_problem_row(file, [dataclasses.replace(p, path=name) if p.path == str(local) else p for p in exc.problems])]


# ---- predicting (an actor pool) -----------------------------------------------------------

class PredictBatch:
    """One actor: loads the model once, then turns batches of rows into output lines.

    A model this node cannot load (a damaged copy, a path it lacks) is not an
    actor crash: each row then carries the loader's problem, which the driver
    raises as it is (Ray would keep only its text).
    """

    def __init__(self, model_dir: str, batch_size: int, device: str | None):
        from conflict_spans.model.predict import load_predictor

        self.predictor, self.problems = None, ""
        try:
            self.predictor = load_predictor(model_dir, device=device, batch_size=batch_size)
        except CorpusError as exc:
            self.problems = json.dumps([dataclasses.asdict(p) for p in exc.problems], ensure_ascii=False)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from conflict_spans.model.predict import SpanFixes

        if self.predictor is None:
            empty = np.array([""] * len(batch["id"]), dtype=object)
            return {"file": batch["file"], "line": batch["line"], "record": empty, "fixes": empty,
                    "problems": np.array([self.problems] * len(batch["id"]), dtype=object)}
        docs = [Document(str(i), str(t), [], json.loads(m)) for i, t, m in zip(batch["id"], batch["text"], batch["meta"])]
        self.predictor.span_fixes = SpanFixes()
        predicted = self.predictor.predict_documents(docs)
        lines = [prediction_line(doc, self.predictor.model_version) for doc in predicted]
        fixes = [""] * len(lines)
        if lines:
            fixes[0] = json.dumps(dataclasses.asdict(self.predictor.span_fixes))
        return {"file": batch["file"], "line": batch["line"], "record": np.array(lines, dtype=object),
                "fixes": np.array(fixes, dtype=object), "problems": np.array([""] * len(lines), dtype=object)}


def prediction_line(doc: Document, model_version: str) -> str:
    """One output line, the record local ``predict`` writes: {id, text, spans, meta, model_version}."""
    spans = [s.to_dict(doc.text) for s in sorted(doc.spans)]
    record = {"id": doc.id, "text": doc.text, "spans": spans, "meta": doc.meta, "model_version": model_version}
    return json.dumps(record, ensure_ascii=False)


# ---- the driver ---------------------------------------------------------------------------

def _connect(address: str | None) -> bool:
    """Start a local Ray (``address=None``) or join a cluster; True when this call did (and must shut it down).

    The local Ray has no dashboard and reports no usage. Ray 2.60 replaces the
    127.0.0.1 asked for by the machine's address and lets its servers listen on
    every interface; its token authentication (on by default) is what guards them.
    """
    import ray

    if ray.is_initialized():
        return False
    try:
        if address is None:
            ray.init(address="local", include_dashboard=False, _node_ip_address=LOCAL_HOST, logging_level="WARNING", log_to_driver=False)
        else:
            ray.init(address=address, logging_level="WARNING", log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        raise CorpusError(catalogue.ray_connect(str(address), f"{type(exc).__name__}: {str(exc).strip()[:300]}")) from None
    return True


def _input_problems(parsed, files: Sequence[str]) -> list[Problem]:
    """Every record's problems and every id used twice, as local ``predict`` reports them."""
    from ray.data.expressions import col

    problems = [Problem(**p) for batch in parsed.filter(expr=col("problems") != "").select_columns(["problems"]).iter_batches(batch_format="numpy")
                for text in batch["problems"] for p in json.loads(str(text))]
    places: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for batch in parsed.filter(expr=col("problems") == "").select_columns(["id", "file", "line"]).iter_batches(batch_format="numpy"):
        for doc_id, file, line in zip(batch["id"], batch["file"], batch["line"]):
            places[str(doc_id)].append((files[int(file)], int(line) or None))
    return problems + [catalogue.duplicate_id(doc_id, where) for doc_id, where in places.items() if len(where) > 1]


def _actors(num_actors: int | None, device: str | None) -> tuple[int, dict, str | None]:
    """How many actors, what each one reserves (a CPU, or a GPU for a CUDA device), and the device it uses.

    Ray gives an actor that holds a GPU that one GPU only (``CUDA_VISIBLE_DEVICES``), so ``cuda:N`` becomes ``cuda`` there.
    """
    import ray

    uses_gpu = bool(device) and device.split(":")[0] == "cuda"
    resources = {"num_gpus": 1} if uses_gpu else {"num_cpus": 1}
    if num_actors is None:
        available = ray.cluster_resources().get("GPU" if uses_gpu else "CPU", 1)
        num_actors = max(1, int(available))
    return num_actors, resources, ("cuda" if uses_gpu else device)


def _write_in_order(predicted, output: Path) -> tuple[int, dict]:
    """Stream the sorted records into a file beside ``output``, renamed into place when complete."""
    written = 0
    fixes: dict[str, int] = defaultdict(int)
    previous = (-1, -1)
    mode = file_mode_for(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            for batch in predicted.iter_batches(batch_format="numpy"):
                for file, line, record, fix, problems in zip(batch["file"], batch["line"], batch["record"], batch["fixes"], batch["problems"]):
                    if problems:  # the model did not load on a node
                        raise CorpusError([Problem(**p) for p in json.loads(str(problems))])
                    key = (int(file), int(line))
                    if key <= previous:  # the sort is what makes the output follow the input: never trust it silently
                        raise RuntimeError(f"Ray returned records out of input order ({previous} then {key})")
                    previous = key
                    fh.write(str(record) + "\n")
                    written += 1
                    for name, count in (json.loads(str(fix)) if fix else {}).items():
                        fixes[name] += count
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written, fixes


def predict_ray(inputs: Sequence[str | Path], output: Path, model_dir: str, *, address: str | None, batch_size: int,
                device: str | None, num_actors: int | None = None) -> int:
    """Predict every input document on Ray and write the records local ``predict`` writes to ``output``, in input order.

    ``address=None`` starts a local Ray and stops it at the end; ``"auto"`` or
    ``"ray://HOST:10001"`` joins a running cluster. Every input record is
    checked before any is predicted; a bad one (named by file, line and record,
    as local ``predict`` names it) stops the run and nothing is written. The
    span-adjustment warning goes to stderr, as local ``predict`` prints it.
    Returns the number of documents written.
    """
    from conflict_spans.model.folders import check_model_folder
    from conflict_spans.model.predict import SpanFixes, check_batch_size, check_device

    check_batch_size(batch_size)
    if num_actors is not None and (isinstance(num_actors, bool) or not isinstance(num_actors, int) or num_actors < 1):
        raise CorpusError(catalogue.predict_option("--num-actors", num_actors, "must be a whole number of actors, 1 or more"))
    if address is None:
        check_device(device)  # a cluster's nodes may have devices this driver lacks
    check_model_folder(Path(model_dir), option="--model")
    output = Path(output)
    if is_uri(location(output)):
        raise CorpusError(catalogue.ray_output_uri(location(output)))
    if output.suffix.lower() not in JSONL_SUFFIXES:
        raise CorpusError(catalogue.ray_output_format(output, JSONL_SUFFIXES))
    files = input_files(inputs)

    for key, value in QUIET_RAY.items():
        os.environ.setdefault(key, value)
    import ray

    connected = _connect(address)
    context = ray.data.DataContext.get_current()
    preserve_order = context.execution_options.preserve_order
    try:
        context.execution_options.preserve_order = True
        items = ray.data.from_items([{"file": i, "path": name} for i, name in enumerate(files)], override_num_blocks=len(files))
        # materialized once: checked first, predicted next. Split into actor-sized blocks here, so that nothing between the
        # stored blocks and the actors needs a CPU the actors hold (a task there would wait for them forever on a small cluster).
        parsed = items.flat_map(read_file).repartition(target_num_rows_per_block=DOCUMENTS_PER_CALL).materialize()
        problems = _input_problems(parsed, files)
        if problems:
            raise CorpusError(problems)
        size, resources, actor_device = _actors(num_actors, device)
        predicted = parsed.map_batches(
            PredictBatch, fn_constructor_kwargs={"model_dir": str(Path(model_dir).absolute()), "batch_size": batch_size, "device": actor_device},
            compute=ray.data.ActorPoolStrategy(size=size), batch_size=DOCUMENTS_PER_CALL, batch_format="numpy", **resources,
        ).sort(["file", "line"])
        written, fixes = _write_in_order(predicted, output)
    except ray.exceptions.RayError as exc:
        cause = exc.cause if isinstance(getattr(exc, "cause", None), CorpusError) else None
        if cause is not None:
            raise CorpusError(cause.problems) from None
        raise CorpusError(catalogue.ray_pipeline_failed(f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300]}")) from None
    finally:
        context.execution_options.preserve_order = preserve_order
        if connected:
            ray.shutdown()  # stops a local Ray; leaves a cluster, which keeps running
    adjusted = SpanFixes(**fixes).problem() if fixes else None
    if adjusted is not None:
        print(adjusted.format(), file=sys.stderr)
    return written
