"""``conflict-spans predict``: a trained model over JSONL records or plain text files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from conflict_spans.document import Document


def read_inputs(paths: list[Path]) -> list[Document]:
    """Text to predict on, read and checked by the one loader (``conflict_spans.corpus.io.read_inputs``):
    ``{"id", "text"}`` JSONL records (spans and meta optional; ``-`` is standard input), or plain text files
    (the file name is the id)."""
    from conflict_spans.corpus.io import read_inputs as read_checked_inputs

    return read_checked_inputs(paths)


def cmd_predict(args: argparse.Namespace) -> int:
    import sys

    from conflict_spans.corpus.io import atomic_write_text, check_output_file
    from conflict_spans.model.predict import check_batch_size, check_device, load_predictor

    # everything a user can get wrong is checked before the model is loaded
    output = Path(args.output)
    check_output_file(output, inputs=[Path(p) for p in args.inputs])
    check_batch_size(args.batch_size)
    check_device(args.device)
    docs = read_inputs([Path(p) for p in args.inputs])
    predictor = load_predictor(args.model, device=args.device, batch_size=args.batch_size)
    predicted = predictor.predict_documents(docs)
    lines = []
    for doc in predicted:
        spans = [s.to_dict(doc.text) for s in sorted(doc.spans)]
        record = {"id": doc.id, "text": doc.text, "spans": spans, "meta": doc.meta, "model_version": predictor.model_version}
        lines.append(json.dumps(record, ensure_ascii=False))
    atomic_write_text(output, "".join(line + "\n" for line in lines))
    adjusted = predictor.span_fixes.problem()
    if adjusted is not None:
        print(adjusted.format(), file=sys.stderr)
    print(f"{len(predicted)} documents, {sum(len(d.spans) for d in predicted)} spans -> {args.output}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("predict", help="run a trained model (a train.py output dir) over JSONL records or text files")
    p.add_argument("inputs", nargs="+", help='JSONL files of {"id", "text"} records, or plain text files / folders of them')
    p.add_argument("--model", required=True, help="model directory written by training/train.py")
    p.add_argument("-o", "--output", required=True, help="output JSONL: {id, text, spans: [{start, end, label, score, status?, text}], meta, model_version}; "
                   "not an input, not a folder")
    p.add_argument("--device", default=None, help="torch device: cpu, cuda, cuda:N, mps (default: the model's, CPU here)")
    p.add_argument("--batch-size", type=int, default=16, help="windows per forward pass (1 or more)")
    p.set_defaults(func=cmd_predict)
