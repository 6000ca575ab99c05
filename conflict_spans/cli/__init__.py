"""The ``conflict-spans`` command: one registry of verb groups, one module per group.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``; the order
here is the order of ``conflict-spans --help``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from conflict_spans.cli.util import print_problems
from conflict_spans.problems import CorpusError

COMMAND_MODULES = (
    "conflict_spans.cli.corpus",  # validate, stats, build, markup, conll
    "conflict_spans.cli.audit",  # audit
    "conflict_spans.cli.model",  # predict
    "conflict_spans.cli.export",  # export --onnx
    "conflict_spans.cli.evaluation",  # evaluate
    "conflict_spans.cli.records",  # records, train-linker
    "conflict_spans.cli.labelstudio",  # ls ...
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conflict-spans", description="Annotated conflict-news corpus: validate, build, inspect, train, evaluate, annotate.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CorpusError as exc:
        print_problems(exc.problems)
        print(f"failed: {len(exc.problems)} problem(s); nothing was written", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"ERROR: {exc.filename}: no such file. Fix: check the path.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
