"""``validate``, ``stats``, ``build``, ``markup``, ``conll``: the corpus commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conflict_spans.cli.util import print_problems


def cmd_validate(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.validate import validate_paths

    problems, n_docs = validate_paths([Path(p) for p in args.paths])
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    print_problems(errors + warnings)
    print(f"{n_docs} documents checked: {len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


def cmd_stats(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.build import load_splits
    from conflict_spans.corpus.io import is_stdin, read_documents
    from conflict_spans.corpus.stats import stats_table
    from conflict_spans.paths import CORPUS_DIR

    path = Path(args.path) if args.path else CORPUS_DIR
    if is_stdin(path):
        by_split = {"stdin": read_documents(path)}
    elif path.is_dir() and (path / "data").is_dir():
        by_split = load_splits(path / "data")
    elif path.is_dir() and all((path / f"{s}.jsonl").exists() for s in ("train", "validation", "test")):
        by_split = load_splits(path)
    else:
        by_split = {path.stem: read_documents(path)}
    print(stats_table(by_split), end="")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.build import build
    from conflict_spans.paths import DATA_DIR, SOURCE_DIR, SPLITS_FILE

    by_split = build(Path(args.src or SOURCE_DIR), Path(args.out or DATA_DIR), Path(args.splits or SPLITS_FILE))
    print(", ".join(f"{split}: {len(docs)} documents" for split, docs in by_split.items()))
    return 0


def cmd_markup(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.io import atomic_write_many, check_output_folder, load_documents, markup_files

    out = Path(args.output_dir)
    check_output_folder(out, option="OUTPUT_DIR")
    files = markup_files(load_documents([Path(args.input)]), out, by_conflict=args.by_conflict)
    atomic_write_many(files)
    print(f"wrote {len(files)} files under {out}")
    return 0


def cmd_conll(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.formats import dropped_relations, write_conll
    from conflict_spans.corpus.io import check_output_file, read_documents

    output = Path(args.output)
    check_output_file(output, inputs=[Path(args.input)], option="OUTPUT")
    docs = read_documents(Path(args.input))
    write_conll(output, docs)
    warning = dropped_relations(docs, str(output))
    if warning is not None:
        print(warning.format(), file=sys.stderr)
    print(f"wrote {args.output}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("validate", help="check corpus files (JSONL or authoring sources) against every rule code can check")
    p.add_argument("paths", nargs="+", help="JSONL files (- for standard input), .txt sources or folders of them")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("stats", help="counts per label, per split and per conflict")
    p.add_argument("path", nargs="?", default=None, help="corpus folder (with data/), a folder of split files, or one JSONL file, - for standard input (default: the bundled corpus)")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("build", help="authoring sources -> corpus/data/{train,validation,test}.jsonl, assigning new stories to splits")
    p.add_argument("--src", help="sources folder (default corpus/src)")
    p.add_argument("--out", help="output folder (default corpus/data)")
    p.add_argument("--splits", help="split assignment file (default corpus/splits.json)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("markup", help="JSONL -> authoring sources (one .txt per document)")
    p.add_argument("input", help="JSONL file (- for standard input)")
    p.add_argument("output_dir", metavar="OUTPUT_DIR", help="folder to write <id>.txt files into")
    p.add_argument("--by-conflict", action="store_true", help="write into <output_dir>/<conflict>/")
    p.set_defaults(func=cmd_markup)

    p = sub.add_parser("conll", help="export a JSONL file as CoNLL (word<TAB>IOB2 tag)")
    p.add_argument("input", help="JSONL file (- for standard input)")
    p.add_argument("output", metavar="OUTPUT", help="CoNLL file to write")
    p.set_defaults(func=cmd_conll)
