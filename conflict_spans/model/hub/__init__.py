"""A saved model that transformers can run on its own: ``pipeline(..., model=DIR, trust_remote_code=True)``.

:func:`add_remote_code` writes into a model folder the remote code that
transformers loads from there (``trust_remote_code=True``), none of which
imports ``conflict_spans``:

- ``pipeline_conflict_spans.py`` (this folder): a ``Pipeline`` with the windows,
  decoding, span rules and CASUALTY status of ``conflict-spans predict``;
- ``modeling_conflict_spans.py`` (this folder, casing models only): the
  ``CasingTokenClassifier`` for ``AutoModelForTokenClassification``;
- ``casing.py`` and ``casualty_status.py``: copies of the package's own
  stdlib-only modules, which the two files import relatively (transformers
  copies a remote file's relative imports with it);
- ``span_rules.py``: the abbreviations and line breaks of
  ``conflict_spans/document.py``, written out from the package at this moment;

and the keys of ``config.json`` that point to them: ``custom_pipelines`` (task
``conflict-spans`` for every model, and ``token-classification`` for casing
models) and, for casing models, ``auto_map``. A plain model
(``--casing-features false``) keeps the stock ``token-classification``
pipeline, which loads without remote code. ``train.py`` calls it when it saves
a model; ``python -m conflict_spans.model.hub DIR`` does it for an existing folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from conflict_spans import document
from conflict_spans.corpus.io import atomic_write_many
from conflict_spans.model import casing, casualty_status
from conflict_spans.problems import CorpusError

HERE = Path(__file__).resolve().parent
PIPELINE_FILE = "pipeline_conflict_spans.py"
MODELING_FILE = "modeling_conflict_spans.py"
RULES_FILE = "span_rules.py"
PIPELINE_CLASS = "pipeline_conflict_spans.ConflictSpansPipeline"
MODEL_CLASS = "modeling_conflict_spans.CasingTokenClassifier"
TASK = "conflict-spans"  # every model; casing models also take over "token-classification"
OPTION = "model folder"


def span_rules_source() -> str:
    """``span_rules.py``: the constants of document.py that the pipeline's span rules need."""
    return "\n".join([
        '"""Written by conflict_spans.model.hub from conflict_spans/document.py (ends_with_abbreviation, LINE_BREAKS)."""',
        "",
        "import re",
        "",
        f"ABBREVIATIONS = frozenset({sorted(document.ABBREVIATIONS)!r})",
        f"INITIALISM = re.compile({document._INITIALISM.pattern!r})",
        f"LAST_WORD = re.compile({document._LAST_WORD.pattern!r})",
        f"LINE_BREAKS = frozenset({''.join(sorted(document.LINE_BREAKS))!r})",
        "",
    ])


def remote_code_files(uses_casing: bool) -> dict[str, str]:
    """File name -> content of the remote code a model folder gets."""
    files = {PIPELINE_FILE: (HERE / PIPELINE_FILE).read_text(encoding="utf-8"),
             "casing.py": Path(casing.__file__).read_text(encoding="utf-8"),
             "casualty_status.py": Path(casualty_status.__file__).read_text(encoding="utf-8"),
             RULES_FILE: span_rules_source()}
    if uses_casing:
        files[MODELING_FILE] = (HERE / MODELING_FILE).read_text(encoding="utf-8")
    return files


def remote_code_config(config: dict) -> dict:
    """``config`` (config.json as a dict) with the keys that point transformers to the remote code."""
    out = dict(config)
    uses_casing = bool(config.get("casing_features"))
    entry = {"impl": PIPELINE_CLASS, "pt": ["AutoModelForTokenClassification"], "type": "text"}
    pipelines = dict(config.get("custom_pipelines") or {})
    pipelines[TASK] = entry
    auto_map = dict(config.get("auto_map") or {})
    if uses_casing:
        pipelines["token-classification"] = entry
        auto_map["AutoModelForTokenClassification"] = MODEL_CLASS
    else:  # a plain model keeps the stock pipeline and model class: drop ours, left by a casing checkpoint it started from
        if (pipelines.get("token-classification") or {}).get("impl") == PIPELINE_CLASS:
            del pipelines["token-classification"]
        if auto_map.get("AutoModelForTokenClassification") == MODEL_CLASS:
            del auto_map["AutoModelForTokenClassification"]
    out.pop("auto_map", None)
    if auto_map:
        out["auto_map"] = auto_map
    out["custom_pipelines"] = pipelines
    return out


def add_remote_code(model_dir: str | Path) -> list[Path]:
    """Write the remote code into ``model_dir`` and point its config.json to it; the files written.

    A ``CorpusError`` naming the folder, with nothing written, when ``model_dir`` is
    not a model folder of this schema (missing, a file, no config.json, weights or
    tokenizer, or a head trained for other labels)."""
    from conflict_spans.model.folders import check_model_folder, read_json_object
    from conflict_spans.model.network import check_label_maps  # torch: only when writing

    folder = Path(model_dir)
    check_model_folder(folder, option=OPTION)
    config = read_json_object(folder, "config.json", OPTION)
    check_label_maps(SimpleNamespace(id2label=config.get("id2label")), str(folder))
    contents = {folder / name: text for name, text in remote_code_files(bool(config.get("casing_features"))).items()}
    contents[folder / "config.json"] = json.dumps(remote_code_config(config), indent=2, sort_keys=True) + "\n"
    atomic_write_many(contents)
    return sorted(contents)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conflict_spans.model.hub",
                                     description="Make a saved model usable through transformers.pipeline(..., trust_remote_code=True), "
                                                 "without the conflict-spans package.")
    parser.add_argument("model_dir", help="a model folder written by training/train.py")
    args = parser.parse_args(argv)
    try:
        written = add_remote_code(args.model_dir)
    except CorpusError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        print(f"failed: {len(exc.problems)} problem(s); nothing was written", file=sys.stderr)
        return 1
    print(f"wrote {', '.join(p.name for p in written)} in {args.model_dir}")
    return 0
