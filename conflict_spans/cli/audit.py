"""``conflict-spans audit``: the review list of likely annotation errors, or the agreement of two annotations."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from conflict_spans.corpus.audit import agreement_markdown, agreement_report, audit, format_counts, prediction_problems, to_json, to_markdown
from conflict_spans.corpus.io import Located
from conflict_spans.problems import CorpusError


def _read(path: str) -> list[Located]:
    """Every document with its file and line, through the checked loader (duplicate ids included)."""
    from conflict_spans.corpus.io import load_documents

    return load_documents([Path(path)])


def cmd_audit(args: argparse.Namespace) -> int:
    from conflict_spans.corpus.io import atomic_write_text, check_output_file
    from conflict_spans.paths import DATA_DIR, PROVENANCE_REVIEW, SOURCE_DIR

    default = SOURCE_DIR if SOURCE_DIR.is_dir() else DATA_DIR  # a wheel ships the built corpus, not its sources
    path = args.path or str(default.relative_to(Path.cwd()) if default.is_relative_to(Path.cwd()) else default)
    review_path = Path(args.provenance_review) if args.provenance_review else PROVENANCE_REVIEW
    if args.output:
        inputs = [Path(p) for p in (path, args.agreement, args.predictions) if p] + ([] if args.agreement else [review_path])
        check_output_file(Path(args.output), inputs=inputs)
    gold = _read(path)
    docs = [d for _, _, d in gold]
    if args.agreement:
        second = _read(args.agreement)
        result = agreement_report(docs, [d for _, _, d in second], first_source=path, second_source=args.agreement)
        if args.format == "json":
            report = json.dumps(result, ensure_ascii=False, indent=1) + "\n"
        else:
            report = agreement_markdown(result, first=path, second=args.agreement)
        from conflict_spans.corpus.agreement import format_agreement

        summary = format_agreement(result) + "disagreements: " + ", ".join(f"{k} {n}" for k, n in result["disagreements"]["counts"].items()) + "\n"
    else:
        from conflict_spans.corpus.provenance import read_review

        predictions = None
        if args.predictions:
            located = _read(args.predictions)
            problems = prediction_problems(gold, located, gold_source=path, source=args.predictions)
            if problems:
                raise CorpusError(problems)
            predictions = [d for _, _, d in located]
        result = audit(docs, predictions, read_review(review_path))
        report = to_json(result) if args.format == "json" else to_markdown(result)
        summary = format_counts(result)
    if args.output:
        atomic_write_text(Path(args.output), report)
        print(summary + f"report written to {args.output}", end="\n")
    else:
        sys.stdout.write(report)
        sys.stderr.write(summary)
    return 0


def register(sub) -> None:
    p = sub.add_parser("audit", help="list likely annotation errors for review (inconsistent labels, spec rules, model disagreements), or inter-annotator agreement")
    p.add_argument("path", nargs="?", default=None, help="sources folder, .txt file or JSONL to audit (default: the bundled corpus/src)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--predictions", metavar="FILE.jsonl", help="model predictions for these documents, under the same ids and texts (e.g. training/kfold.py output): list where they disagree with gold, most confident first; a prediction for a document not in PATH, or an id used twice, is an error")
    mode.add_argument("--agreement", metavar="SECOND", help="a second annotation of (some of) these documents: report strict/overlap agreement per label and every disagreement instead")
    p.add_argument("--provenance-review", metavar="FILE.tsv", help="recorded verdicts for provenance cases (default corpus/provenance_review.tsv); cases without a verdict are listed")
    p.add_argument("--format", choices=("md", "json"), default="md", help="report format (default md)")
    p.add_argument("-o", "--output", metavar="OUT", help="write the report here (default: stdout; the counts then go to stderr)")
    p.set_defaults(func=cmd_audit)
