"""``records``: casualty records from spans and links; ``train-linker``: the learned linker's weights."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conflict_spans.problems import CorpusError, Problem

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}


def output_format(path: Path, option: str) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CorpusError(Problem("output", f"{option} {path}: the file name must end in .csv or .jsonl, which choose the format",
                                  "name the output OUT.csv or OUT.jsonl", path=str(path), value=path.suffix or "(no suffix)"))
    return fmt


def cmd_records(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.io import atomic_write_many, check_output_file, read_inputs
    from conflict_spans.records.extract import records, summarise, summary_to_csv, to_csv, to_jsonl
    from conflict_spans.records.learned import load_linker

    inputs = [Path(p) for p in args.inputs]
    output = Path(args.output)
    fmt = output_format(output, "-o")
    check_output_file(output, inputs=inputs, option="-o")
    summary_path = Path(args.summary) if args.summary else None
    if summary_path is not None:
        summary_fmt = output_format(summary_path, "--summary")
        check_output_file(summary_path, inputs=inputs, option="--summary")
        if summary_path.resolve() == output.resolve():
            raise CorpusError(Problem("output", "--summary and -o name the same file", "give the summary its own file", path=str(output)))
    if args.linker == "input" and args.model:
        raise CorpusError(Problem("option", "--linker input reads the links stored in the input, but --model predicts new spans, which have none",
                                  "drop --model to use the input's spans and links, or choose --linker auto, rule or learned", value="--linker input --model"))
    linker = None if args.linker == "input" else load_linker(args.linker, args.weights)  # a bad --weights is refused before predicting
    docs = read_inputs(inputs)
    if args.model:
        from conflict_spans.model.predict import check_batch_size, check_device, load_predictor

        check_batch_size(args.batch_size)
        check_device(args.device)
        predictor = load_predictor(args.model, device=args.device, batch_size=args.batch_size)
        docs = predictor.predict_documents(docs)
    rows, summaries = [], []
    for doc in docs:
        doc_rows = records(doc, None if linker is None else linker.link(doc))
        rows += doc_rows
        summaries.append(summarise(doc.id, doc_rows))
    contents = {output: to_csv(rows) if fmt == "csv" else to_jsonl(rows)}
    if summary_path is not None:
        contents[summary_path] = summary_to_csv(summaries) if summary_fmt == "csv" else to_jsonl(summaries)
    atomic_write_many(contents)
    how = "links from the input" if linker is None else f"{linker.name} linker"
    spans = "predicted spans" if args.model else "the input's spans"
    print(f"{len(docs)} documents, {len(rows)} casualty figures in {sum(s['figures'] for s in summaries)} groups ({spans}, {how}) -> {output}"
          + (f"; summary -> {summary_path}" if summary_path else ""), file=sys.stderr)
    return 0


def cmd_train_linker(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.io import atomic_write_text, check_output_file, read_documents
    from conflict_spans.paths import DATA_DIR, split_file
    from conflict_spans.records.learned import CANDIDATE_FEATURES, DEFAULT_WEIGHTS, FEATURES, choose_default, train
    from conflict_spans.records.places import NONE_FEATURES
    from conflict_spans.resources import resource_path

    train_path = Path(args.train) if args.train else split_file("train", DATA_DIR)
    validation_path = Path(args.validation) if args.validation else split_file("validation", DATA_DIR)
    output = Path(args.output) if args.output else resource_path(DEFAULT_WEIGHTS)
    check_output_file(output, inputs=[train_path, validation_path], option="-o")
    docs = read_documents(train_path)
    if not any(d.relations for d in docs):
        raise CorpusError(Problem("no-links", f"no document in {train_path} has relations to learn from",
                                  "annotate links (annotation/LINKS.md) on some training documents first", path=str(train_path)))
    linker = train(docs)
    linker.info.update(choose_default(linker, read_documents(validation_path)))
    atomic_write_text(output, linker.to_json())
    for type_, weights in linker.weights.items():
        top = sorted(zip(FEATURES, weights), key=lambda fw: -abs(fw[1]))[:6]
        print(f"{type_:<12} " + ", ".join(f"{f} {w:+.2f}" for f, w in top))
    top = sorted(zip(CANDIDATE_FEATURES, linker.places.weights), key=lambda fw: -abs(fw[1]))[:6]
    print(f"{'location':<12} place ranker: " + ", ".join(f"{f} {w:+.2f}" for f, w in top)
          + "; no place: " + ", ".join(f"{f} {w:+.2f}" for f, w in zip(NONE_FEATURES, linker.places.none_weights)))
    f1 = linker.info["validation_micro_f1"]
    per_type = ", ".join(f"{t} {name}" for t, name in linker.info["default_per_type"].items())
    print(f"validation link micro F1 with gold spans: rule {f1['rule']:.4f}, learned {f1['learned']:.4f}"
          + (f", combined {f1['combined']:.4f}" if "combined" in f1 else "") + f" -> default {linker.info['default']} ({per_type})")
    print(f"trained on {linker.info['documents']} documents with links -> {output}")
    return 0


def register(sub) -> None:
    from conflict_spans.records.extract import COLUMN_DOCS
    from conflict_spans.records.learned import LINKERS

    columns = "; ".join(f"{name}: {doc}" for name, doc in COLUMN_DOCS.items())
    p = sub.add_parser("records", help="casualty records: one row per CASUALTY span with its figures, source, place, perpetrator and restatement group",
                       description="Columns: " + columns.replace("%", "%%"))
    p.add_argument("inputs", nargs="+", help="JSONL with spans (gold or predicted), or, with --model, JSONL records / text files to predict on")
    p.add_argument("-o", "--output", required=True, help="OUT.csv or OUT.jsonl: one row per casualty figure")
    p.add_argument("--summary", metavar="FILE", help="also write a per-document summary (.csv or .jsonl): figures after grouping restatements, "
                   "and the largest killed and injured figure per source")
    p.add_argument("--model", help="a model directory from training/train.py: predict the spans first")
    p.add_argument("--linker", choices=(*LINKERS, "input"), default="auto",
                   help="auto (default): the linker the shipped validation scores chose; rule; learned; combined: per relation type, the one "
                        "with the higher validation F1; input: the relations stored in the input (gold)")
    p.add_argument("--weights", metavar="FILE.json", help="learned linker weights (default: the shipped ones)")
    p.add_argument("--device", default=None, help="torch device for --model")
    p.add_argument("--batch-size", type=int, default=16, help="windows per forward pass for --model")
    p.set_defaults(func=cmd_records)

    t = sub.add_parser("train-linker", help="train the learned linker on the train split's links; per relation type it becomes the default only if it beats the rule linker on validation")
    t.add_argument("--train", metavar="FILE.jsonl", help="training documents (default: the bundled train split)")
    t.add_argument("--validation", metavar="FILE.jsonl", help="validation documents (default: the bundled validation split)")
    t.add_argument("-o", "--output", metavar="FILE.json", help="weights file (default: the package's resources/linker.json)")
    t.set_defaults(func=cmd_train_linker)
