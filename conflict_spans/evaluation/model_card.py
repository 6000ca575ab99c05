"""``MODEL_CARD.md`` next to a saved model: data, training configuration, results, known limits.

The training configuration is read from the files ``train.py`` leaves in the
model folder (``config.json``; ``train_config.json``, ``predict_config.json``
and ``metrics.json`` when present), the results from the evaluation just run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conflict_spans.corpus.io import atomic_write_text
from conflict_spans.evaluation.report import PER_LABEL_HEADER, ci, coarse_table, main_table, pct, per_label_rows, status_table, table
from conflict_spans.evaluation.results import Evaluation
from conflict_spans.model.hub import TASK
from conflict_spans.schema import LABEL_NAMES, SCHEMA_VERSION, TAGS

MODEL_CARD = "MODEL_CARD.md"
TRAINING_KEYS = ("learning_rate", "num_train_epochs", "per_device_train_batch_size", "warmup_steps", "weight_decay",
                 "lr_scheduler_type", "metric_for_best_model", "seed", "optim")


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _flat(prefix: str, values: dict[str, Any]) -> list[list[str]]:
    return [[f"{prefix}{k}", f"`{v}`"] for k, v in values.items()]


def training_rows(model_dir: Path) -> tuple[list[list[str]], list[str]]:
    """Key/value rows of the training configuration, and the files they came from."""
    rows: list[list[str]] = []
    sources = []
    config = _read_json(model_dir / "config.json") or {}
    if config:
        sources.append("config.json")
        id2label = config.get("id2label", {})
        tags_match = [id2label.get(str(i), id2label.get(i)) for i in range(len(TAGS))] == list(TAGS)
        rows += [["architecture", f"`{', '.join(config.get('architectures') or ['?'])}`"],
                 ["model type", f"`{config.get('model_type', '?')}`"],
                 ["tags", f"{len(id2label)} IOB2 tags" + (" (the schema's, in order)" if tags_match else " (NOT the schema's tag list)")]]
        if "casing_features" in config:
            rows.append(["casing features", f"`{config['casing_features']}` (dim {config.get('casing_dim', '?')})"])
    train_config = _read_json(model_dir / "train_config.json")
    if train_config:
        sources.append("train_config.json")
        rows += _flat("model.", train_config.get("model", {}))
        rows += _flat("data.", train_config.get("data", {}))
        training = train_config.get("training", {})
        rows += _flat("training.", {k: training[k] for k in TRAINING_KEYS if k in training})
    predict_config = _read_json(model_dir / "predict_config.json")
    if predict_config:
        sources.append("predict_config.json")
        rows += _flat("predict.", predict_config)
    metrics = _read_json(model_dir / "metrics.json")
    if metrics:
        sources.append("metrics.json")
        for key in ("train_documents", "validation_documents", "train_seconds", "validation_micro_f1", "best_checkpoint"):
            if key in metrics:
                rows.append([f"metrics.{key}", f"`{metrics[key]}`"])
    return rows, sources


def top_confusion(evaluation: Evaluation) -> tuple[str, str, int] | None:
    """The most frequent (gold label, predicted label) pair of words with two different labels, ``O`` excluded."""
    matrix, axis = evaluation.systems["model"].confusion
    pairs = [(int(matrix[i, j]), axis[i], axis[j]) for i in range(len(axis) - 1) for j in range(len(axis) - 1) if i != j and matrix[i, j]]
    if not pairs:
        return None
    n, gold, pred = max(pairs)
    return gold, pred, n


def known_limits(evaluation: Evaluation) -> list[str]:
    model = evaluation.systems["model"]
    n_docs, n_spans = len(evaluation.gold_docs), sum(len(d.spans) for d in evaluation.gold_docs)
    micro = model.bootstrap["micro_f1"]
    per_label = {l: model.strict.per_label[l].f1 for l in evaluation.labels}
    weakest = min(per_label, key=per_label.get)
    out = [
        f"The test split is small ({n_docs} documents, {n_spans} spans): the 95% interval of micro F1 is "
        f"{pct(micro['low'])}–{pct(micro['high'])}. Differences between systems inside that range are not evidence.",
        f"Weakest label on the test split: {weakest} (F1 {pct(per_label[weakest])}). The error list "
        f"(`{evaluation.settings.get('out', 'eval/results')}/model/errors.md`) shows where it fails.",
        "ACTOR and ATTRIBUTION are roles of the same kind of phrase (spec T2, T4): the same name is a source in one sentence and an "
        "actor in the next, so the label depends on the verb, not on the name.",
        "A CASUALTY span's status (killed / injured) is not learned: a rule reads it off the nearest outcome word in the sentence, "
        "killed when there is none (conflict_spans/model/casualty_status.py). Its accuracy on the spans the model finds at gold "
        "offsets is under Results.",
        "English conflict news only, written to the project's annotation spec (corpus/README.md says how the corpus was made); "
        "other genres, other languages and other span conventions will score lower.",
    ]
    confusion = top_confusion(evaluation)
    if confusion is not None:
        gold, pred, n = confusion
        out.append(f"Most frequent label confusion on the test split: gold {gold} predicted as {pred} ({n} words; "
                   f"`{evaluation.settings.get('out', 'eval/results')}/model/confusion.png`).")
    if evaluation.re3d is not None and "model" in evaluation.re3d["systems"]:
        r = evaluation.re3d["systems"]["model"]
        out.append(f"Out of domain (re3d, real reporting on Syria and Iraq, two merged classes): exact F1 {pct(r['exact']['f1'])}, "
                   f"overlap F1 {pct(r['overlap']['f1'])}; re3d's conventions differ from ours (articles, every person and organisation).")
    return out


def status_sentence(status: dict[str, Any]) -> str:
    """The model's CASUALTY status accuracy in one sentence (or why there is none)."""
    if not status.get("predicted"):
        return "CASUALTY status: not predicted (the model's CASUALTY spans carry no status)."
    if status["accuracy"] is None:
        return "CASUALTY status: no predicted CASUALTY span is at a gold CASUALTY span's offsets, so no status could be compared."
    return (f"CASUALTY status (killed / injured): {status['same_status']} of the {status['matched']} CASUALTY spans predicted at gold "
            f"offsets carry the gold status; accuracy {ci(status['interval'])} (bootstrap 95% interval over documents).")


def trained_on(model_dir: Path, data_dir: str) -> str:
    """A sentence naming the training data folder recorded by train.py, when it is not the evaluated one."""
    recorded = ((_read_json(model_dir / "train_config.json") or {}).get("data") or {}).get("data_dir")
    if recorded is None:
        return " train_config.json does not record the training data folder."
    if Path(recorded).resolve() != Path(data_dir).resolve():
        return f" NOTE: train_config.json says the model was trained on `{recorded}`, not on this folder."
    return ""


def usage_lines(model_dir: Path) -> list[str]:
    """"Using the model without conflict-spans": the transformers lines that load this folder, by its config.json."""
    config = _read_json(model_dir / "config.json") or {}
    tasks = config.get("custom_pipelines") or {}
    ours = ("the windows, Viterbi decoding, span rules and CASUALTY status of `conflict-spans predict` and gives its spans "
            "(one list of `entity_group`, `score`, `word`, `start`, `end` per text, `status` on CASUALTY spans; DIR is this folder)")
    lines = ["## Using the model without conflict-spans", ""]
    if config.get("casing_features"):
        if "token-classification" in tasks:
            lines.append("The folder carries its own code (`custom_pipelines` and `auto_map` in config.json), so transformers alone runs it: "
                         f'`pipeline("token-classification", model=DIR, trust_remote_code=True)` has {ours}.')
        else:
            lines.append("The casing features need code that stock transformers lacks, and this folder does not carry it: "
                         '`python -m conflict_spans.model.hub DIR` adds it; then `pipeline("token-classification", model=DIR, trust_remote_code=True)` runs it.')
        return lines
    lines.append("Trained with `--casing-features false`, it loads in stock transformers without remote code: "
                 '`AutoModelForTokenClassification.from_pretrained(DIR)`, or `pipeline("token-classification", model=DIR, aggregation_strategy="first")`. '
                 "Stock aggregation is not this project's decoding (one window truncated at the model's length unless `stride` is given, "
                 "no Viterbi, no span rules, no CASUALTY status), so its spans can differ from those of `conflict-spans predict`.")
    if TASK in tasks:
        lines += ["", f'`pipeline("{TASK}", model=DIR, trust_remote_code=True)` runs the code the folder carries, with {ours}.']
    return lines


def model_card_markdown(model_dir: Path, evaluation: Evaluation) -> str:
    e = evaluation
    rows, sources = training_rows(model_dir)
    split_rows = []
    for split, docs in e.splits.items():
        counts = {l: sum(1 for d in docs for s in d.spans if s.label == l) for l in LABEL_NAMES}
        split_rows.append([split, len(docs), *(counts[l] for l in LABEL_NAMES)])
    model = e.systems["model"]
    lines = [
        f"# Model card: {model_dir.name}", "",
        f"A token-classification model that marks {', '.join(LABEL_NAMES)} spans in English conflict news "
        f"(annotation spec v{SCHEMA_VERSION}; spans are half-open character offsets). Written by `{e.command}`.", "",
        "## Data", "",
        f"Evaluated on the corpus in `{e.data_dir}` (counts below); train fits the weights, validation selects the checkpoint, "
        f"the {e.split} split is used only here.{trained_on(model_dir, e.data_dir)}", "",
    ]
    lines += table(["split", "documents", *LABEL_NAMES], split_rows)
    lines += ["", "## Training configuration", "", f"From {', '.join(sources) or 'no configuration file found'} in the model folder.", ""]
    lines += table(["setting", "value"], rows) if rows else ["(none found)"]
    lines += ["", f"## Results on the {e.split} split", "",
              f"Strict = offsets and label match (zero_division=0); F1 with a bootstrap 95% interval over documents "
              f"({e.settings['n_resamples']} resamples, seed {e.settings['seed']}). Scores in %.", ""]
    lines += table(PER_LABEL_HEADER, per_label_rows(model))
    lines += ["", status_sentence(model.status)]
    lines += ["", "### Beside the baselines", ""] + main_table(e)
    lines += ["", "Coarse view (ACTOR+ATTRIBUTION as one class, CASUALTY left out):", ""] + coarse_table(e)
    lines += ["", "CASUALTY status on spans at gold offsets:", ""] + status_table(e)
    for name, diff in e.comparisons.items():
        lines.append(f"\n{name}: micro F1 difference {ci(diff)}.")
    if e.re3d is not None and "model" in e.re3d["systems"]:
        r = e.re3d["systems"]["model"]
        lines += ["", "### Out of domain: re3d", "",
                  f"exact F1 {pct(r['exact']['f1'])}, overlap F1 {pct(r['overlap']['f1'])} over {e.re3d['data']['documents']} documents "
                  f"({', '.join(e.re3d['classes'])}; mapping {e.re3d['data']['label_map']})."]
    lines += [""] + usage_lines(model_dir)
    lines += ["", "## Known limits", ""] + [f"- {item}" for item in known_limits(e)] + [""]
    return "\n".join(lines)


def write_model_card(model_dir: Path, evaluation: Evaluation) -> Path:
    path = model_dir / MODEL_CARD
    atomic_write_text(path, model_card_markdown(model_dir, evaluation))
    return path
