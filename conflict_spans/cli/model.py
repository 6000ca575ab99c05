"""``conflict-spans predict``: a trained model over JSONL records or plain text files."""

from __future__ import annotations

import argparse
from pathlib import Path

from conflict_spans.document import Document


def read_inputs(paths: list[Path]) -> list[Document]:
    """Text to predict on, read and checked by the one loader (``conflict_spans.corpus.io.read_inputs``):
    ``{"id", "text"}`` JSONL records (spans and meta optional; ``-`` is standard input), or plain text files
    (the file name is the id)."""
    from conflict_spans.corpus.io import read_inputs as read_checked_inputs

    return read_checked_inputs(paths)


def _check_count(value, option: str, what: str) -> None:
    from conflict_spans import problems as catalogue
    from conflict_spans.problems import CorpusError

    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise CorpusError(catalogue.predict_option(option, value, f"must be a whole number of {what}, 1 or more"))


def _predict_with_ray(args: argparse.Namespace, inputs: list[str], output: Path) -> int:
    from conflict_spans import problems as catalogue
    from conflict_spans.problems import CorpusError

    try:
        from conflict_spans.model.ray_engine import predict_ray
    except ModuleNotFoundError as exc:
        if exc.name not in ("conflict_spans.model.ray_engine", "ray"):
            raise
        raise CorpusError(catalogue.ray_engine_unavailable(f"no module {exc.name}")) from None
    result = predict_ray(inputs, output, args.model, address=args.address, batch_size=args.batch_size, device=args.device)
    print(f"{result} documents -> {output}" if isinstance(result, int) else f"-> {output}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import sys

    from conflict_spans import problems as catalogue
    from conflict_spans.cli.util import print_problems
    from conflict_spans.corpus.io import check_output_file, check_prediction_inputs, iter_inputs, prediction_input_files
    from conflict_spans.model.ort import runs_on_onnx
    from conflict_spans.model.predict import check_batch_size, check_device, load_predictor
    from conflict_spans.model.stream import Progress, check_partial, output_format, partial_path, predict_stream
    from conflict_spans.problems import CorpusError

    # everything a user can get wrong is checked before the model is loaded; the records are checked as they are read
    output = Path(args.output)
    inputs = [Path(p) for p in args.inputs]
    check_output_file(output, inputs=inputs)
    fmt = output_format(output)
    check_batch_size(args.batch_size)
    _check_count(args.buffer, "--buffer", "documents")
    _check_count(args.threads, "--threads", "threads")
    check_device(args.device)
    if args.address is not None and args.engine != "ray":
        raise CorpusError(catalogue.predict_option_needs("--address", args.address, "--engine ray"))
    if args.resume and args.engine == "ray":
        raise CorpusError(catalogue.predict_option_needs("--resume", None, "--engine local"))
    if args.engine == "ray":  # it checks its inputs itself: they may be object storage URIs
        if fmt != "jsonl":
            raise CorpusError(catalogue.predict_option_needs("-o/--output", output, "--engine local (--engine ray writes JSON Lines)"))
        return _predict_with_ray(args, list(args.inputs), output)
    check_partial(output, resume=args.resume)
    files = prediction_input_files(inputs)
    exported = runs_on_onnx(args.model, int8=args.int8)
    if not exported:  # a cheap look at the model folder before the long one at the inputs
        from conflict_spans.model.folders import check_model_folder

        check_model_folder(args.model)
    check_prediction_inputs(files)  # every record, before the model loads: a bad one stops the run with nothing written
    if args.threads is not None and not exported:
        import torch  # an export takes --threads itself and runs without torch (model/ort.py)

        torch.set_num_threads(args.threads)
    predictor = load_predictor(args.model, device=args.device, batch_size=args.batch_size, int8=args.int8, threads=args.threads)
    progress = Progress(enabled=not args.quiet)
    try:
        summary = predict_stream(predictor, iter_inputs(files), output, buffer_size=args.buffer, resume=args.resume, progress=progress)
    except CorpusError as exc:
        if exc.problems[-1].code != "predict-stopped":
            raise
        print_problems(exc.problems)
        kept = f", the documents before the bad record are in {partial_path(output)}" if partial_path(output).exists() else ""
        print(f"failed: {len(exc.problems) - 1} problem(s); {output} not written{kept}", file=sys.stderr)
        return 1
    resumed = f"; {summary.kept} already there (resumed), {summary.skipped} input records skipped" if args.resume else ""
    progress.finish(resumed)
    adjusted = predictor.span_fixes.problem()
    if adjusted is not None:
        print(adjusted.format(), file=sys.stderr)
    print(f"{summary.written} documents, {summary.spans} spans -> {args.output}" + (f" (+ {summary.kept} from the run resumed)" if args.resume else ""))
    return 0


OUTPUT_HELP = ("output file: .jsonl (also .json, .ndjson) or .parquet, by its suffix; records {id, text, spans: [{start, end, label, score, "
               "status?, text}], meta, model_version} (Parquet: meta as a JSON string). Written as the run goes to OUT.partial (JSON Lines, "
               "flushed every --buffer documents) and renamed (or converted) to OUT when the run completes; an existing OUT is replaced then. "
               "Not an input, not a folder")
RESUME_HELP = ("continue a run that was stopped or killed: documents whose id is already in OUT.partial (else in OUT) are skipped, and a last "
               "line the kill cut short is removed first. Without --resume an existing OUT.partial is refused, never overwritten")


def register(sub) -> None:
    p = sub.add_parser("predict", help="run a trained model (a train.py output dir) over JSONL or Parquet records or text files, streamed")
    p.add_argument("inputs", nargs="+", help='JSONL files of {"id", "text"} records (spans and meta optional; - is standard input), Parquet files '
                   "(columns id, text, optional meta as a JSON string or struct; in messages the number after the file is the row), "
                   "or plain text files / folders of them (the file name is the id). Read one record at a time, twice: every record is "
                   "checked before the model loads, and a bad one stops the run with nothing written (standard input, which cannot be read "
                   "twice, is checked as it is read: a bad record stops the run with the documents before it in OUT.partial; fix it, then --resume)")
    p.add_argument("--model", required=True, help="model directory written by training/train.py")
    p.add_argument("-o", "--output", required=True, help=OUTPUT_HELP)
    p.add_argument("--resume", action="store_true", help=RESUME_HELP)
    p.add_argument("--device", default=None, help="torch device: cpu, cuda, cuda:N, mps (default: the model's, CPU here)")
    p.add_argument("--batch-size", type=int, default=16, help="windows per forward pass (1 or more)")
    p.add_argument("--buffer", type=int, default=256, help="documents read before their windows are sorted by length into batches; "
                   "output is written (and progress shown) once per buffer (default 256)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (torch.set_num_threads) or ONNX Runtime (intra-op); default: their choice")
    p.add_argument("--int8", action="store_true", help="with a folder written by `conflict-spans export --onnx --int8`: run its model.int8.onnx "
                   "(faster on a CPU, a little less accurate: eval/benchmarks/speed.md and onnx_f1.md measure both)")
    p.add_argument("--quiet", action="store_true", help="no progress line (documents/s, words/s) and no summary on stderr")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process (default); ray: a Ray Data pipeline (conflict_spans.model.ray_engine), local or on --address, "
                   "writing JSON Lines (--buffer, --threads, --resume and the progress line are the local engine's)")
    p.add_argument("--address", default=None, help="with --engine ray: the Ray cluster to run on (e.g. ray://head:10001); default: a local one")
    p.set_defaults(func=cmd_predict)
