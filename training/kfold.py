#!/usr/bin/env python
"""K-fold cross-validation over the corpus sources: every document is predicted by a model that never saw its story.

    python training/kfold.py --folds 5 --output-dir runs/kfold
    python training/kfold.py --folds 5 --output-dir runs/kfold -- --learning-rate 2e-4 --num-train-epochs 4
    conflict-spans audit --predictions runs/kfold/predictions.jsonl -o runs/kfold/audit.md

All documents of corpus/src (train, validation and test alike) are grouped by
story (``meta.group``, as in the split assignment) and the groups are dealt
into k folds of about the same number of documents, conflict by conflict, so a
story never straddles two folds. For fold i, train.py's default configuration
(plus every argument after ``--``) trains on the other folds, with a slice of
their story groups (``--validation-share``) held out for train.py's model
selection; the fold-i model then predicts the documents of fold i. The
predictions of all folds go to one JSONL in the record format of
``conflict-spans predict`` (``meta.fold`` says which model made them), ready
for ``conflict-spans audit --predictions``.

A fold whose predictions already exist under ``--output-dir`` is reused, so an
interrupted run continues where it stopped; ``--fresh`` retrains every fold.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from conflict_spans.corpus.io import atomic_write_text, collect, read_documents, write_jsonl
from conflict_spans.corpus.splits import group_of
from conflict_spans.document import Document, document_from_dict
from conflict_spans.paths import SOURCE_DIR
from conflict_spans.problems import CorpusError, Problem

# train.py arguments that kfold sets itself, per fold
OWN_TRAIN_ARGS = ("--output-dir", "--output_dir", "--data-dir", "--data_dir")


def _hash(value: str) -> int:
    return int(hashlib.sha256(value.encode("utf-8")).hexdigest()[:12], 16)


def assign_folds(docs: list[Document], k: int) -> dict[str, int]:
    """``{story group: fold}``: whole groups, folds of near-equal size, each conflict spread over the folds.

    Groups are taken conflict by conflict in the order of a hash of their id (the
    same for every run) and each goes to the fold that holds the fewest documents
    of its conflict, then the fewest documents overall.
    """
    if k < 2:
        raise CorpusError(Problem("folds", "k-fold cross-validation needs at least 2 folds", "pass --folds 2 or more", value=str(k)))
    sizes: dict[str, int] = Counter(group_of(d) for d in docs)
    conflict_of = {group_of(d): str(d.meta.get("conflict", "")) for d in docs}
    if len(sizes) < k:
        raise CorpusError(Problem("folds", f"only {len(sizes)} story groups for {k} folds", "use fewer folds or more documents", value=str(k)))
    folds: dict[str, int] = {}
    total = [0] * k
    per_conflict: dict[str, list[int]] = defaultdict(lambda: [0] * k)
    for group in sorted(sizes, key=lambda g: (conflict_of[g], _hash(g), g)):
        counts = per_conflict[conflict_of[group]]
        fold = min(range(k), key=lambda f: (counts[f], total[f], f))
        folds[group] = fold
        counts[fold] += sizes[group]
        total[fold] += sizes[group]
    return folds


def validation_groups(groups: list[str], share: float) -> set[str]:
    """A deterministic slice of the training groups (at least one, never all) for train.py's model selection."""
    if len(groups) < 2:
        raise CorpusError(Problem("folds", "the training folds hold fewer than two story groups: none is left for validation",
                                  "use fewer folds or more documents", value=", ".join(groups)))
    n = min(len(groups) - 1, max(1, round(share * len(groups))))
    return set(sorted(groups, key=lambda g: (_hash("validation:" + g), g))[:n])


def load_source_documents(src: Path, max_docs: int | None = None) -> list[Document]:
    """Every source document (ids in order), or whole story groups up to about ``max_docs`` documents."""
    found, problems = collect(src)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise CorpusError(errors)
    docs = sorted((d for _, _, d in found), key=lambda d: d.id)
    if not docs:
        raise CorpusError(Problem("path", "no documents found", "point --src at the authoring sources (corpus/src)", path=str(src)))
    if max_docs is not None:
        by_group: dict[str, list[Document]] = defaultdict(list)
        for doc in docs:
            by_group[group_of(doc)].append(doc)
        kept: list[Document] = []
        for group in sorted(by_group, key=lambda g: (_hash(g), g)):
            if len(kept) >= max_docs:
                break
            kept += by_group[group]
        docs = sorted(kept, key=lambda d: d.id)
    return docs


def _unlabelled(doc: Document) -> Document:
    return Document(doc.id, doc.text, [], dict(doc.meta))


def run_fold(fold: int, train_docs: list[Document], val_docs: list[Document], heldout: list[Document], fold_dir: Path,
             train_argv: list[str]) -> list[dict]:
    """Train on ``train_docs`` (selecting on ``val_docs``) and return prediction records for ``heldout``."""
    import torch

    from conflict_spans.model.predict import load_predictor
    from conflict_spans.model.train import parse_arguments, train

    data_dir = fold_dir / "data"
    write_jsonl(data_dir / "train.jsonl", train_docs)
    write_jsonl(data_dir / "validation.jsonl", val_docs)
    model_dir = fold_dir / "model"
    train(*parse_arguments(["--data-dir", str(data_dir), "--output-dir", str(model_dir), *train_argv]))
    gc.collect()
    device = "cuda" if torch.cuda.is_available() else None
    predictor = load_predictor(model_dir, device=device)
    predicted = predictor.predict_documents([_unlabelled(d) for d in heldout])
    records = [{"id": doc.id, "text": doc.text, "spans": [s.to_dict(doc.text) for s in sorted(doc.spans)],
                "meta": {**doc.meta, "fold": fold}, "model_version": f"kfold{fold}-{predictor.model_version}"} for doc in predicted]
    del predictor
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return records


def _dump(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def cross_validate(docs: list[Document], k: int, out: Path, train_argv: list[str], *, validation_share: float = 0.1,
                   fresh: bool = False, log=print) -> dict:
    """Run every fold (or reuse its saved predictions) and return the summary written to kfold.json."""
    from conflict_spans.evaluation.scoring import document_scores

    folds = assign_folds(docs, k)
    summary: dict = {"folds": k, "documents": len(docs), "train_args": train_argv, "per_fold": []}
    all_records: list[dict] = []
    for fold in range(k):
        fold_dir = out / f"fold{fold}"
        heldout = [d for d in docs if folds[group_of(d)] == fold]
        rest = [d for d in docs if folds[group_of(d)] != fold]
        val_groups = validation_groups(sorted({group_of(d) for d in rest}), validation_share)
        train_docs = [d for d in rest if group_of(d) not in val_groups]
        val_docs = [d for d in rest if group_of(d) in val_groups]
        saved = fold_dir / "heldout_predictions.jsonl"
        started = time.time()
        if saved.exists() and not fresh:
            records = [json.loads(line) for line in saved.read_text(encoding="utf-8").splitlines() if line.strip()]
            if sorted(r["id"] for r in records) != sorted(d.id for d in heldout):
                raise CorpusError(Problem("kfold", f"saved predictions of fold {fold} are for other documents", "rerun with --fresh (the sources or --folds changed)", path=str(saved)))
            log(f"fold {fold}: reusing {saved}")
        else:
            log(f"fold {fold}: training on {len(train_docs)} documents (validation {len(val_docs)}), predicting {len(heldout)}")
            records = run_fold(fold, train_docs, val_docs, heldout, fold_dir, train_argv)
            atomic_write_text(saved, _dump(records))
        gold = {d.id: d for d in heldout}
        preds = read_documents(saved)
        scores = document_scores([gold[p.id] for p in preds], preds)
        summary["per_fold"].append({"fold": fold, "heldout_documents": len(heldout), "train_documents": len(train_docs),
                                    "validation_documents": len(val_docs), "heldout_ids": sorted(gold),
                                    "strict_micro_f1": scores["micro"]["f1"], "seconds": round(time.time() - started, 1)})
        all_records += records
    all_records.sort(key=lambda r: r["id"])
    gold_all = {d.id: d for d in docs}
    pred_docs = [document_from_dict(r)[0] for r in all_records]
    overall = document_scores([gold_all[p.id] for p in pred_docs], pred_docs)
    summary["strict"] = {label: {k: round(v, 4) if isinstance(v, float) else v for k, v in s.items()} for label, s in overall.items()}
    summary["records"] = all_records
    return summary


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our arguments, and train.py's pass-through arguments (everything after ``--``)."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="training/kfold.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5, help="number of folds k (default 5)")
    parser.add_argument("--output-dir", required=True, help="where each fold's data, model and held-out predictions go (fold0/, fold1/, ...)")
    parser.add_argument("--predictions", help="the JSONL of predictions for every document (default OUTPUT_DIR/predictions.jsonl)")
    parser.add_argument("--src", default=str(SOURCE_DIR), help="authoring sources to cross-validate (default corpus/src)")
    parser.add_argument("--validation-share", type=float, default=0.1, help="share of the training folds' story groups held out for train.py's model selection (default 0.1; at least one group)")
    parser.add_argument("--max-docs", type=int, default=None, help="use only whole story groups up to about N documents (quick runs and tests)")
    parser.add_argument("--fresh", action="store_true", help="retrain every fold even when its predictions exist")
    return parser


def main(argv: list[str] | None = None) -> int:
    ours, train_argv = split_argv(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(ours)
    clash = [a for a in train_argv if a.split("=", 1)[0] in OWN_TRAIN_ARGS]
    if clash:
        print(f"ERROR: {', '.join(clash)} after '--' is set by kfold.py for each fold. Fix: give kfold.py --output-dir and --src instead.", file=sys.stderr)
        return 2
    out = Path(args.output_dir)
    try:
        docs = load_source_documents(Path(args.src), args.max_docs)
        summary = cross_validate(docs, args.folds, out, train_argv, validation_share=args.validation_share, fresh=args.fresh)
    except CorpusError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    predictions = Path(args.predictions) if args.predictions else out / "predictions.jsonl"
    atomic_write_text(predictions, _dump(summary.pop("records")))
    atomic_write_text(out / "kfold.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    micro = summary["strict"]["micro"]
    print(f"{summary['documents']} documents in {args.folds} folds: strict micro F1 {micro['f1']:.4f} "
          f"(P {micro['precision']:.4f}, R {micro['recall']:.4f}); predictions -> {predictions}")
    print(f"review them: conflict-spans audit {args.src} --predictions {predictions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
