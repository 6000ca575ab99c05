"""``conflict-spans evaluate`` and ``python eval/evaluate.py``: one command, one report."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from conflict_spans.evaluation.baselines import BASELINES, SPACY_LABEL_MAP
from conflict_spans.evaluation.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
from conflict_spans.evaluation.re3d import RE3D_DIR, RE3D_LABEL_MAP
from conflict_spans.evaluation.run import DEFAULT_OUT, Options, default_cache_dir, evaluate
from conflict_spans.evaluation.spacy_baseline import SPACY_CONFIG
from conflict_spans.paths import DATA_DIR
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import SPLITS

HELP = "score a model and the baselines on the held-out test split: report, plots, error lists, re3d, model card"


def baseline_names(value: str) -> tuple[str, ...]:
    if value.strip().lower() in ("", "none"):
        return ()
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown baseline(s) {', '.join(unknown)}; choose from {', '.join(BASELINES)} or 'none'")
    return names


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, help="a train.py output folder (our model); MODEL_CARD.md is written into it. Leave out to score baselines only.")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder (default: eval/results in a checkout, ./eval-results elsewhere)")
    p.add_argument("--baselines", type=baseline_names, default=tuple(BASELINES),
                   help=f"comma-separated baselines to run beside the model: {', '.join(BASELINES)} (default: all), or 'none'")
    p.add_argument("--data", type=Path, default=DATA_DIR, help="folder with train/validation/test.jsonl (default corpus/data)")
    p.add_argument("--split", choices=SPLITS, default="test", help="split to score (default test)")
    p.add_argument("--re3d", type=Path, default=RE3D_DIR if RE3D_DIR and RE3D_DIR.is_dir() else None,
                   help=f"re3d folder for the out-of-domain check (default {RE3D_DIR or 'none'} when it exists)")
    p.add_argument("--no-re3d", action="store_true", help="skip the re3d evaluation")
    p.add_argument("--cache-dir", type=Path, default=default_cache_dir(),
                   help="where the fine-tuned spaCy baseline is cached, keyed by data and config hashes (default $CONFLICT_SPANS_CACHE or ~/.cache/conflict-spans)")
    p.add_argument("--spacy-config", type=Path, default=SPACY_CONFIG, help="spaCy training config of the fine-tuned baseline")
    p.add_argument("--spacy-label-map", type=Path, default=SPACY_LABEL_MAP, help="OntoNotes -> our labels for the pretrained spaCy baseline")
    p.add_argument("--re3d-label-map", type=Path, default=RE3D_LABEL_MAP, help="re3d and our labels -> shared classes")
    p.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES, help=f"bootstrap resamples of documents for confidence intervals (default {DEFAULT_RESAMPLES})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"bootstrap seed (default {DEFAULT_SEED})")
    p.add_argument("--no-model-card", action="store_true", help="do not write MODEL_CARD.md into the model folder")
    p.add_argument("--no-records", action="store_true", help="skip the casualty records (links, restatement groups, count normalisation)")
    p.add_argument("--linker-weights", type=Path, metavar="FILE.json", help="learned linker weights to score (default: the shipped ones)")
    p.add_argument("--subset", action="append", default=[], metavar="NAME=IDS.txt",
                   help="also score every system on the split's documents whose ids are listed in IDS.txt (one per line), reported as NAME; repeatable")
    p.add_argument("--readme", type=Path, metavar="README.md",
                   help="rewrite the results block of this README from the test report in --out and the validation report in --out/validation")


def parse_subsets(values: list[str]) -> dict[str, frozenset[str]]:
    out = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise CorpusError(Problem("subset", "a subset is NAME=IDS.txt", "e.g. --subset part1=corpus/part1_ids.txt", value=value))
        file = Path(path)
        if not file.is_file():
            raise CorpusError(Problem("subset", "ids file not found", "give a text file with one document id per line", path=path, value=value))
        out[name] = frozenset(line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#"))
    return out


def options_from_args(args: argparse.Namespace, command: str) -> Options:
    if args.linker_weights is not None and not args.no_records:
        from conflict_spans.records.learned import LearnedLinker

        LearnedLinker.from_file(args.linker_weights, option="--linker-weights")  # refused before minutes of scoring, not after
    return Options(subsets=parse_subsets(args.subset), model=args.model, out=args.out, baselines=args.baselines, data=args.data, split=args.split,
                   re3d=None if args.no_re3d else args.re3d, cache_dir=args.cache_dir, spacy_config=args.spacy_config,
                   spacy_label_map=args.spacy_label_map, re3d_label_map=args.re3d_label_map,
                   n_resamples=args.resamples, seed=args.seed, model_card=not args.no_model_card, command=command,
                   records=not args.no_records, linker_weights=args.linker_weights)


def run(args: argparse.Namespace, command: str) -> int:
    evaluation = evaluate(options_from_args(args, command))
    for name, result in evaluation.systems.items():
        b = result.bootstrap["micro_f1"]
        print(f"{name}: strict micro F1 {100 * b['point']:.1f} [{100 * b['low']:.1f}, {100 * b['high']:.1f}], "
              f"macro F1 {100 * result.strict.macro()['f1']:.1f}")
    if evaluation.records is not None:
        r = evaluation.records["linkers"][evaluation.records["default_linker"]]["gold_spans"]
        print(f"records ({evaluation.records['default_linker']} linker, gold spans): link F1 "
              + ", ".join(f"{t} {100 * r[t]['f1']:.1f}" for t in ("source", "location", "perpetrator", "part_of", "restates")))
    print(f"report: {args.out / 'report.md'}")
    if args.readme:
        from conflict_spans.evaluation.readme import update_readme

        update_readme(args.readme, args.out)
        print(f"results block rewritten: {args.readme}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    given = sys.argv[2:] if sys.argv[1:2] == ["evaluate"] else []
    return run(args, ("conflict-spans evaluate " + shlex.join(given)).strip())


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help=HELP, description=HELP)
    add_arguments(p)
    p.set_defaults(func=cmd_evaluate)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``eval/evaluate.py``; problems are printed like the other commands print them."""
    parser = argparse.ArgumentParser(prog="eval/evaluate.py", description=HELP)
    add_arguments(parser)
    args = parser.parse_args(argv)
    command = "python eval/evaluate.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    try:
        return run(args, command.strip())
    except CorpusError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        print(f"failed: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
