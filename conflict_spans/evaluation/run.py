"""One evaluation run: our model and the baselines on the same split, scored the same way.

:func:`evaluate` builds the systems, predicts the held-out split once per
system (gold spans removed), scores every prediction with the same functions
(:mod:`conflict_spans.evaluation.scoring`, :mod:`conflict_spans.evaluation.bootstrap`), lists the
errors, scores the CASUALTY status of every system that predicts one (on
spans whose offsets match gold), evaluates on re3d when asked, writes the
report and, for our model, ``MODEL_CARD.md`` next to it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conflict_spans.corpus.build import load_splits
from conflict_spans.document import Document
from conflict_spans.evaluation.baselines import BASELINES, SPACY_LABEL_MAP, BaselineContext
from conflict_spans.evaluation.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, bootstrap_f1, bootstrap_status_accuracy, paired_difference
from conflict_spans.evaluation.errorlist import error_records
from conflict_spans.evaluation.model_card import write_model_card
from conflict_spans.evaluation.predictors import Predictions, Predictor, load_model_predictor, predict_checked
from conflict_spans.evaluation.re3d import RE3D_DIR, RE3D_LABEL_MAP, evaluate_re3d, load_re3d_map
from conflict_spans.evaluation.records import score_records
from conflict_spans.evaluation.report import write_report
from conflict_spans.evaluation.results import Evaluation, SystemResult
from conflict_spans.evaluation.scoring import nervaluate_scores, relabel, strict_scores, word_confusion
from conflict_spans.evaluation.spacy_baseline import SPACY_CONFIG
from conflict_spans.paths import CHECKOUT, COUNTS_GOLD, DATA_DIR
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import LABEL_NAMES, SPLITS

MODEL = "model"
DEFAULT_OUT = CHECKOUT / "eval" / "results" if CHECKOUT else Path("eval-results")  # a wheel writes beside the user, never into site-packages


def default_cache_dir() -> Path:
    return Path(os.environ.get("CONFLICT_SPANS_CACHE", Path.home() / ".cache" / "conflict-spans"))


@dataclass
class Options:
    model: Path | None = None
    out: Path = DEFAULT_OUT
    baselines: tuple[str, ...] = tuple(BASELINES)
    data: Path = DATA_DIR
    split: str = "test"
    re3d: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    spacy_config: Path = SPACY_CONFIG
    spacy_label_map: Path = SPACY_LABEL_MAP
    re3d_label_map: Path = RE3D_LABEL_MAP
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    model_card: bool = True
    command: str = "python eval/evaluate.py"
    # name -> document ids: each system is also scored on the split's documents with these ids
    subsets: dict[str, frozenset[str]] = field(default_factory=dict)
    records: bool = True  # score the linkers and the count normalisation (casualty records)
    counts_gold: Path | None = None  # default: corpus/counts_gold.tsv for the bundled corpus, DATA/counts_gold.tsv for another
    linker_weights: Path | None = None  # the learned linker's weights (default: the shipped ones)


def counts_gold_of(options: Options) -> Path | None:
    """The gold figures that go with ``options.data``: the bundled file for the bundled corpus, else ``DATA/counts_gold.tsv`` if present."""
    if options.counts_gold is not None:
        return options.counts_gold
    if options.data.resolve() == DATA_DIR.resolve():
        return COUNTS_GOLD
    own = options.data / COUNTS_GOLD.name
    return own if own.is_file() else None


def score_system(name: str, description: str, split: str, gold_docs: Sequence[Document], predictions: Predictions, *,
                 coarse_map: Mapping[str, str | None], coarse_classes: Sequence[str], n_resamples: int, seed: int,
                 info: dict[str, Any] | None = None) -> SystemResult:
    gold = [d.spans for d in gold_docs]
    pred = [d.spans for d in predictions.docs]
    coarse_gold, coarse_pred = relabel(gold, coarse_map), relabel(pred, coarse_map)
    coarse_strict = strict_scores(coarse_gold, coarse_pred, coarse_classes)
    coarse_overlap = nervaluate_scores(coarse_gold, coarse_pred, coarse_classes, schemes=("ent_type",))["ent_type"]
    coarse = {"exact": {"precision": coarse_strict.micro.precision, "recall": coarse_strict.micro.recall, "f1": coarse_strict.micro.f1},
              "overlap": {"precision": coarse_overlap.overall.precision, "recall": coarse_overlap.overall.recall, "f1": coarse_overlap.overall.f1},
              "per_class": {c: {"exact_f1": coarse_strict.per_label[c].f1, "overlap_f1": coarse_overlap.per_label[c].f1} for c in coarse_classes}}
    return SystemResult(
        name=name, description=description, split=split, predictions=predictions,
        strict=strict_scores(gold, pred, LABEL_NAMES),
        schemes=nervaluate_scores(gold, pred, LABEL_NAMES),
        bootstrap=bootstrap_f1(gold, pred, LABEL_NAMES, n_resamples=n_resamples, seed=seed),
        coarse=coarse,
        confusion=word_confusion([d.text for d in gold_docs], gold, pred, LABEL_NAMES),
        errors=error_records(gold_docs, predictions.docs),
        status=bootstrap_status_accuracy(gold, pred, n_resamples=n_resamples, seed=seed),
        info=info or {},
    )


def score_subset(evaluation: "Evaluation", ids: frozenset[str], n_resamples: int, seed: int) -> dict[str, Any]:
    """Strict scores of every system on the split's documents whose id is in ``ids``."""
    keep = [i for i, d in enumerate(evaluation.gold_docs) if d.id in ids]
    if not keep:
        raise CorpusError(Problem("subset", f"no {evaluation.split} document has an id from the subset", "check the ids file"))
    gold = [evaluation.gold_docs[i].spans for i in keep]
    out: dict[str, Any] = {"documents": len(keep), "gold_spans": sum(len(g) for g in gold), "systems": {}}
    for name, result in evaluation.systems.items():
        pred = [result.predictions.docs[i].spans for i in keep]
        strict = strict_scores(gold, pred, LABEL_NAMES)
        out["systems"][name] = {"strict": strict.to_dict(), "bootstrap": bootstrap_f1(gold, pred, LABEL_NAMES, n_resamples=n_resamples, seed=seed)}
    return out


DESCRIPTIONS = {
    "spacy-pretrained": "spaCy en_core_web_sm (OntoNotes NER) with its labels mapped to ours by conflict_spans/resources/spacy_label_map.json; no training on our data.",
    "spacy-finetuned": "spaCy NER on en_core_web_sm's pretrained tokenizer, token encoder and hidden layer, fine-tuned on our train split with `spacy train` (conflict_spans/resources/spacy_config.cfg); CPU.",
}


def build_systems(options: Options, splits: dict[str, list[Document]], log: Callable[[str], None]) -> tuple[dict[str, Predictor], dict[str, dict[str, Any]], dict[str, str]]:
    systems: dict[str, Predictor] = {}
    infos: dict[str, dict[str, Any]] = {}
    descriptions: dict[str, str] = {}
    if options.model is not None:
        systems[MODEL] = load_model_predictor(options.model)
        descriptions[MODEL] = f"Our model: {options.model}."
        infos[MODEL] = {"model_dir": str(options.model)}
    unknown = [b for b in options.baselines if b not in BASELINES]
    if unknown:
        raise CorpusError(Problem("baselines", "unknown baseline name(s)", f"choose from {', '.join(BASELINES)}", value=", ".join(unknown)))
    for name in options.baselines:
        ctx = BaselineContext(splits, options.cache_dir, options.spacy_config, options.spacy_label_map, log=log)
        systems[name] = BASELINES[name](ctx)
        infos[name] = ctx.info or {}
        descriptions[name] = DESCRIPTIONS[name]
    return systems, infos, descriptions


def evaluate(options: Options, *, systems: Mapping[str, Predictor] | None = None, log: Callable[[str], None] | None = None) -> Evaluation:
    """Score every system on ``options.split`` and write the report to ``options.out``.

    ``systems`` adds ready predictors by name (tests pass stand-ins here); the
    model and baselines named in ``options`` are built as well.
    """

    log = log or (lambda message: print(message, file=sys.stderr))
    if options.split not in SPLITS:
        raise CorpusError(Problem("split", "unknown split", f"use one of {', '.join(SPLITS)}", value=options.split))
    splits = load_splits(options.data)
    gold_docs = splits[options.split]
    if not gold_docs:
        raise CorpusError(Problem("split", f"the {options.split} split is empty", "build the corpus first (conflict-spans build)", path=str(options.data)))
    built, infos, descriptions = build_systems(options, splits, log)
    for name, predictor in (systems or {}).items():
        built[name] = predictor
        descriptions.setdefault(name, f"{name} (given by the caller)")
    if not built:
        raise CorpusError(Problem("systems", "nothing to evaluate", "pass --model DIR and/or --baselines"))
    re3d_map = load_re3d_map(options.re3d_label_map)
    evaluation = Evaluation(
        split=options.split, data_dir=str(options.data), command=options.command, labels=LABEL_NAMES, gold_docs=gold_docs,
        coarse_map=re3d_map.ours, coarse_classes=re3d_map.classes, splits=splits,
        settings={"n_resamples": options.n_resamples, "seed": options.seed, "min_overlap_percentage": 1.0, "out": str(options.out),
                  "coarse_map": re3d_map.path, "zero_division": 0})
    for name, predictor in built.items():
        log(f"{name}: predicting {len(gold_docs)} {options.split} documents")
        predictions = predict_checked(name, predictor, gold_docs, LABEL_NAMES)
        evaluation.systems[name] = score_system(name, descriptions[name], options.split, gold_docs, predictions,
                                                coarse_map=re3d_map.ours, coarse_classes=re3d_map.classes,
                                                n_resamples=options.n_resamples, seed=options.seed, info=infos.get(name))
    if MODEL in evaluation.systems:
        gold = [d.spans for d in gold_docs]
        for name, result in evaluation.systems.items():
            if name != MODEL:
                evaluation.comparisons[f"{MODEL} vs {name}"] = paired_difference(
                    gold, [d.spans for d in evaluation.systems[MODEL].predictions.docs], [d.spans for d in result.predictions.docs],
                    LABEL_NAMES, n_resamples=options.n_resamples, seed=options.seed)
    for subset, ids in options.subsets.items():
        evaluation.subsets[subset] = score_subset(evaluation, ids, options.n_resamples, options.seed)
    if options.records:
        from conflict_spans.records.learned import CombinedLinker, LearnedLinker
        from conflict_spans.records.linker import RuleLinker

        learned = LearnedLinker.from_file(options.linker_weights, option="--linker-weights")
        linkers = {"rule": RuleLinker(), "learned": learned}
        if learned.info.get("default") == "combined":
            linkers["combined"] = CombinedLinker(learned, learned.info["default_per_type"])
        model_docs = evaluation.systems[MODEL].predictions.docs if MODEL in evaluation.systems else None
        log(f"records: linking {len(gold_docs)} {options.split} documents (gold spans" + (", and the model's spans)" if model_docs else ")"))
        evaluation.records = score_records(gold_docs, linkers, predicted_docs=model_docs,
                                           gold_counts_path=counts_gold_of(options), default_linker=learned.info.get("default", "rule"),
                                           n_resamples=options.n_resamples, seed=options.seed, linker_info=learned.info,
                                           all_docs=[d for docs in splits.values() for d in docs])
    if options.re3d is not None:
        log(f"re3d: evaluating {', '.join(built)} on {options.re3d}")
        evaluation.re3d = evaluate_re3d(built, options.re3d, map_path=options.re3d_label_map)
    options.out.mkdir(parents=True, exist_ok=True)
    write_report(options.out, evaluation)
    log(f"report: {options.out / 'report.md'}")
    if options.model is not None and options.model_card and MODEL in evaluation.systems:
        path = write_model_card(options.model, evaluation)
        log(f"model card: {path}")
    return evaluation


__all__ = ["Options", "evaluate", "Evaluation", "SystemResult", "RE3D_DIR"]
