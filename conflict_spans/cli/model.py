"""``conflict-spans predict``: a trained model over JSONL records or plain text files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from conflict_spans.document import Document
from conflict_spans.problems import CorpusError, Problem


def read_inputs(paths: list[Path]) -> list[Document]:
    """``{"id", "text"}`` JSONL records, or plain text files (the file name is the id)."""
    docs: list[Document] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix in (".jsonl", ".json"):
                for number, line in enumerate(file.read_text(encoding="utf-8").split("\n"), start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise CorpusError(Problem("json", f"malformed JSON ({exc.msg})", "write one JSON object per line", path=str(file), line=number, value=line[:80])) from None
                    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                        raise CorpusError(Problem("record", 'a record needs a string "text"', 'write {"id": ..., "text": ...} per line', path=str(file), line=number, value=line[:80]))
                    doc_id = str(record.get("id", f"{file.stem}:{number}"))
                    docs.append(Document(doc_id, record["text"], [], dict(record.get("meta", {}) or {})))
            else:
                # newline="" keeps CRLF as written, so offsets index the file's own text
                with file.open(encoding="utf-8", newline="") as fh:
                    docs.append(Document(file.stem, fh.read(), []))
    ids = [d.id for d in docs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CorpusError(Problem("duplicate-id", "input ids must be unique", "give every record its own id", value=", ".join(duplicates[:5])))
    return docs


def cmd_predict(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.io import atomic_write_text
    from conflict_spans.model.predict import load_predictor

    docs = read_inputs([Path(p) for p in args.inputs])
    predictor = load_predictor(args.model, device=args.device, batch_size=args.batch_size)
    predicted = predictor.predict_documents(docs)
    lines = []
    for doc in predicted:
        spans = [s.to_dict(doc.text) for s in sorted(doc.spans)]
        lines.append(json.dumps({"id": doc.id, "text": doc.text, "spans": spans, "model_version": predictor.model_version}, ensure_ascii=False))
    atomic_write_text(Path(args.output), "".join(line + "\n" for line in lines))
    print(f"{len(predicted)} documents, {sum(len(d.spans) for d in predicted)} spans -> {args.output}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("predict", help="run a trained model (a train.py output dir) over JSONL records or text files")
    p.add_argument("inputs", nargs="+", help='JSONL files of {"id", "text"} records, or plain text files / folders of them')
    p.add_argument("--model", required=True, help="model directory written by training/train.py")
    p.add_argument("-o", "--output", required=True, help="output JSONL: {id, text, spans: [{start, end, label, score, status?, text}]}")
    p.add_argument("--device", default=None, help="torch device (default: the model's, CPU here)")
    p.add_argument("--batch-size", type=int, default=16, help="windows per forward pass")
    p.set_defaults(func=cmd_predict)
