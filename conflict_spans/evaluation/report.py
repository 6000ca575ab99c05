"""Rendering and writing an evaluation: Markdown, JSON, confusion-matrix plots, error lists.

Layout under the output folder::

    report.md, report.json          all systems side by side, CASUALTY status, re3d, paired differences
    <system>/per_label.md|.json     strict P/R/F1 with intervals, nervaluate counts per label
    <system>/confusion.png          word-level confusion matrix
    <system>/errors.jsonl|.md       every error, for review
    <system>/errors_labelstudio.json  Label Studio tasks (gold annotation + system prediction)

Rows of every table follow the schema's label order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from conflict_spans.corpus.io import atomic_write_text
from conflict_spans.evaluation.errorlist import error_tasks, kind_counts, records_to_jsonl, records_to_markdown
from conflict_spans.evaluation.results import Evaluation, SystemResult
from conflict_spans.evaluation.scoring import SCHEMES

SCHEME_TITLES = {"strict": "strict", "exact": "exact", "partial": "partial", "ent_type": "type (ent_type)"}


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def ci(interval: dict[str, float]) -> str:
    return f"{pct(interval['point'])} [{pct(interval['low'])}, {pct(interval['high'])}]"


def mapping_text(mapping: dict[str, str | None]) -> str:
    return ", ".join(f"{k} -> {v}" if v is not None else f"{k} left out" for k, v in mapping.items())


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


# ---- per system ------------------------------------------------------------------------

def per_label_rows(result: SystemResult) -> list[list[str]]:
    rows = []
    boot = result.bootstrap["per_label_f1"]
    for label in result.strict.labels:
        prf = result.strict.per_label[label]
        rows.append([label, pct(prf.precision), pct(prf.recall), ci(boot[label]), prf.n_gold, prf.n_pred])
    micro = result.strict.micro
    rows.append(["micro", pct(micro.precision), pct(micro.recall), ci(result.bootstrap["micro_f1"]), micro.n_gold, micro.n_pred])
    macro = result.strict.macro()
    rows.append(["macro", pct(macro["precision"]), pct(macro["recall"]), ci(result.bootstrap["macro_f1"]), "", ""])
    return rows


def scheme_rows(result: SystemResult, label: str | None = None) -> list[list[Any]]:
    rows = []
    for scheme in SCHEMES:
        c = result.schemes[scheme].overall if label is None else result.schemes[scheme].per_label[label]
        rows.append([SCHEME_TITLES[scheme], c.correct, c.incorrect, c.partial, c.missed, c.spurious, pct(c.precision), pct(c.recall), pct(c.f1)])
    return rows


SCHEME_HEADER = ["scheme", "correct", "incorrect", "partial", "missed", "spurious", "P", "R", "F1"]
PER_LABEL_HEADER = ["label", "P", "R", "F1 [95% CI]", "support", "predicted"]


def per_label_markdown(result: SystemResult) -> str:
    lines = [f"# {result.name}: per-label report", "", f"{result.description}", "",
             "Strict entity level (offsets and label must match; zero_division=0); F1 with a bootstrap 95% interval over documents.", ""]
    lines += table(PER_LABEL_HEADER, per_label_rows(result))
    lines += ["", "## nervaluate schemes, all labels", ""] + table(SCHEME_HEADER, scheme_rows(result))
    for label in result.strict.labels:
        lines += ["", f"## nervaluate schemes, {label}", ""] + table(SCHEME_HEADER, scheme_rows(result, label))
    return "\n".join(lines) + "\n"


def confusion_png(path: Path, matrix: np.ndarray, axis: Sequence[str], title: str) -> None:
    """Word-level confusion matrix: colour is the share of the gold row, numbers are word counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=float), where=rows > 0)
    fig, ax = plt.subplots(figsize=(6.4, 5.4), dpi=120)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(axis)), labels=axis, rotation=30, ha="right")
    ax.set_yticks(range(len(axis)), labels=axis)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    for i in range(len(axis)):
        for j in range(len(axis)):
            ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", color="white" if share[i, j] > 0.5 else "black", fontsize=8)
    fig.colorbar(image, ax=ax, label="share of gold words")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_system(out: Path, result: SystemResult, gold_docs: Sequence, labeling_config: str | None = None) -> dict[str, str]:
    folder = out / result.name
    texts = {d.id: d.text for d in gold_docs}
    files = {"per_label_md": folder / "per_label.md", "per_label_json": folder / "per_label.json", "confusion": folder / "confusion.png",
             "errors_jsonl": folder / "errors.jsonl", "errors_md": folder / "errors.md", "errors_labelstudio": folder / "errors_labelstudio.json"}
    atomic_write_text(files["per_label_md"], per_label_markdown(result))
    per_label = {"system": result.name, "strict": result.strict.to_dict(), "bootstrap": result.bootstrap,
                 "nervaluate": {s: r.to_dict() for s, r in result.schemes.items()}}
    atomic_write_text(files["per_label_json"], json.dumps(per_label, indent=2) + "\n")
    matrix, axis = result.confusion
    confusion_png(files["confusion"], matrix, axis, f"{result.name}: words by gold and predicted label")
    atomic_write_text(files["errors_jsonl"], records_to_jsonl(result.errors, texts))
    atomic_write_text(files["errors_md"], records_to_markdown(result.errors, texts, title=f"{result.name}: errors on the {result.split} split"))
    tasks = error_tasks(gold_docs, result.predictions.docs, result.errors, model_version=result.name, labeling_config=labeling_config)
    atomic_write_text(files["errors_labelstudio"], json.dumps(tasks, indent=1, ensure_ascii=False) + "\n")
    return {k: str(v.relative_to(out)) for k, v in files.items()}


# ---- all systems -----------------------------------------------------------------------

def main_table(evaluation: Evaluation) -> list[str]:
    labels = evaluation.labels
    header = ["system", "P", "R", "F1 [95% CI]", "macro F1", *labels, "exact F1", "partial F1", "type F1", "seconds"]
    rows = []
    for r in evaluation.systems.values():
        rows.append([r.name, pct(r.strict.micro.precision), pct(r.strict.micro.recall), ci(r.bootstrap["micro_f1"]),
                     pct(r.strict.macro()["f1"]), *(pct(r.strict.per_label[l].f1) for l in labels),
                     pct(r.schemes["exact"].overall.f1), pct(r.schemes["partial"].overall.f1), pct(r.schemes["ent_type"].overall.f1),
                     f"{r.predictions.seconds:.1f}"])
    return table(header, rows)


def coarse_table(evaluation: Evaluation) -> list[str]:
    classes = evaluation.coarse_classes
    header = ["system", *(f"{c} exact F1" for c in classes), "exact F1", "overlap F1"]
    rows = [[r.name, *(pct(r.coarse["per_class"][c]["exact_f1"]) for c in classes), pct(r.coarse["exact"]["f1"]), pct(r.coarse["overlap"]["f1"])]
            for r in evaluation.systems.values()]
    return table(header, rows)


STATUS_HEADER = ["system", "matched CASUALTY spans", "same status", "accuracy [95% CI]"]


def status_row(name: str, status: dict[str, Any]) -> list[Any]:
    """One system's CASUALTY status accuracy: "not predicted" when its spans carry no status, never a 0."""
    if not status.get("predicted"):
        return [name, "—", "—", "not predicted"]
    accuracy = "—" if status["accuracy"] is None else ci(status["interval"])
    return [name, status["matched"], status["same_status"], accuracy]


def status_table(evaluation: Evaluation) -> list[str]:
    return table(STATUS_HEADER, [status_row(r.name, r.status) for r in evaluation.systems.values()])


def re3d_section(re3d: dict[str, Any]) -> list[str]:
    data = re3d["data"]
    classes = re3d["classes"]
    lines = ["## Out of domain: re3d (evaluation only)", "",
             f"{data['documents']} documents from {len(data['sources'])} sources ({data['root']}); gold = annotations with confidence "
             f">= the map's threshold ({data['below_min_confidence']} below it left out), mapped by {data['label_map']}: "
             + ", ".join(f"{c} {n}" for c, n in data["gold_by_class"].items()) + ".",
             "Exact = offsets and class match (nervaluate strict); overlap = any overlap, same class (nervaluate ent_type). "
             "re3d keeps leading articles and marks every organisation and person, so exact scores understate agreement.", ""]
    header = ["system", "exact P", "exact R", "exact F1", "overlap P", "overlap R", "overlap F1", *(f"{c} exact / overlap F1" for c in classes)]
    rows = []
    for name, s in re3d["systems"].items():
        rows.append([name, pct(s["exact"]["precision"]), pct(s["exact"]["recall"]), pct(s["exact"]["f1"]),
                     pct(s["overlap"]["precision"]), pct(s["overlap"]["recall"]), pct(s["overlap"]["f1"]),
                     *(f"{pct(s['per_class'][c]['exact_f1'])} / {pct(s['per_class'][c]['overlap_f1'])}" for c in classes)])
    return lines + table(header, rows) + [""]


def records_section(records: dict[str, Any], split: str) -> list[str]:
    """Links per type (gold spans and end to end), restatement groups and count normalisation, with intervals."""
    from conflict_spans.schema import RELATION_NAMES

    gold = records["gold_links"]
    lines = ["## Casualty records: links, groups, counts", "",
             f"Gold links on the {split} split: " + ", ".join(f"{t} {n}" for t, n in gold.items()) + " (annotation/LINKS.md). "
             "A predicted link is right when gold links the same two spans (label and offsets) with the same type. "
             "*Gold spans*: the linker reads the gold spans. *End to end*: it reads our model's predicted spans. "
             f"F1 with a bootstrap 95% interval ({records['n_resamples']} resamples of documents, seed {records['seed']}). "
             f"Default linker: **{records['default_linker']}**.", ""]
    training = records.get("linker_training")
    if training:
        f1 = training.get("validation_micro_f1", {})
        per_type = training.get("default_per_type")
        lines += [f"The learned linker was trained on the links of {training.get('documents')} train documents; on validation with gold spans "
                  f"its micro F1 is {pct(f1.get('learned'))} against the rule linker's {pct(f1.get('rule'))}"
                  + (f" (per type, the one with the higher validation F1: {', '.join(f'{t} {n}' for t, n in per_type.items())})" if per_type else "")
                  + f", so the default is the {training.get('default')} linker (`conflict-spans train-linker`).", ""]
    header = ["linker", "type", "gold links", "P", "R", "F1 [95% CI] (gold spans)"]
    has_e2e = any("end_to_end" in r for r in records["linkers"].values())
    if has_e2e:
        header += ["P", "R", "F1 [95% CI] (end to end)"]
    rows = []
    for name, r in records["linkers"].items():
        for t in (*RELATION_NAMES, "micro"):
            g = r["gold_spans"][t]
            row = [name, t, g["gold"], pct(g["precision"]), pct(g["recall"]), ci(g["f1_interval"])]
            if has_e2e:
                e = r.get("end_to_end", {}).get(t)
                row += [pct(e["precision"]), pct(e["recall"]), ci(e["f1_interval"])] if e else ["—"] * 3
            rows.append(row)
    lines += table(header, rows) + [""]
    scored = records["linkers"].get(records["default_linker"], {}).get("by_score")
    if scored:
        lines += [f"Links by score, default linker ({records['default_linker']}), gold spans: the `*_score` columns of `conflict-spans records`. "
                  "For each cut, the links whose score reaches it, their share of the type's scored links, their precision, and their recall "
                  "of all gold links of the type (types the linker gives no score are left out). A cut trades recall for precision: "
                  "the links below it are the ones to check by hand.", ""]
        lines += table(["type", "min score", "links", "share", "P", "R"],
                       [[t, f"{c['min_score']:.1f}", c["links"], pct(c["share"]), pct(c["precision"]), pct(c["recall"])]
                        for t, v in scored.items() for c in v["cuts"]]) + [""]
    lines += ["Restatement groups (the same figure repeated), B-cubed over the gold CASUALTY spans, gold spans:", ""]
    lines += table(["linker", "mentions", "B-cubed P", "B-cubed R", "B-cubed F1 [95% CI]"],
                   [[name, r["groups_bcubed"]["mentions"], pct(r["groups_bcubed"]["precision"]), pct(r["groups_bcubed"]["recall"]),
                     ci(r["groups_bcubed"]["f1_interval"])] for name, r in records["linkers"].items()]) + [""]
    counts = records.get("counts")
    if counts:
        best, rng = counts["best_exact"], counts["range_agreement"]
        lines += [f"Count normalisation (`conflict_spans/records/counts.py`, annotation/COUNTS.md) on {counts['spans']} gold CASUALTY spans against "
                  f"hand-written figures (corpus/{counts['gold_file']}): best value exact {best['correct']} of {counts['spans']}, "
                  f"{ci(best['interval'])}; range (low and high both equal) {rng['correct']} of {counts['spans']}, {ci(rng['interval'])}.", ""]
        if counts["misses"]:
            lines += table(["document", "span", "gold low/best/high", "normalised", "rule"],
                           [[m["doc_id"], m["text"], "/".join("–" if v is None else str(v) for v in m["gold"]),
                             "/".join("–" if v is None else str(v) for v in m["normalised"]), m["rule"]] for m in counts["misses"]]) + [""]
    return lines


def system_section(result: SystemResult, files: dict[str, str]) -> list[str]:
    lines = [f"### {result.name}", "", result.description, ""]
    p = result.predictions
    lines.append(f"{sum(len(d.spans) for d in p.docs)} spans predicted in {p.seconds:.1f} s; "
                 f"{len(p.overlapping)} overlapping pair(s) of predicted spans.")
    for key, value in result.notes():
        lines.append(f"- {key}: {value}")
    lines += [""] + table(PER_LABEL_HEADER, per_label_rows(result)) + [""] + table(SCHEME_HEADER, scheme_rows(result)) + [""]
    counts = kind_counts(result.errors)
    lines.append("Errors: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                 + f" — [list]({files['errors_md']}), [JSONL]({files['errors_jsonl']}), [Label Studio tasks]({files['errors_labelstudio']}), "
                 + f"[per-label report]({files['per_label_md']}).")
    lines += ["", f"![{result.name} confusion matrix]({files['confusion']})", ""]
    return lines


def report_markdown(evaluation: Evaluation, files: dict[str, dict[str, str]]) -> str:
    e = evaluation
    gold_counts = ", ".join(f"{l} {n}" for l, n in e.gold_counts().items())
    lines = [f"# Evaluation on the {e.split} split", "",
             f"{len(e.gold_docs)} documents from {e.data_dir} ({gold_counts}). Command: `{e.command}`", "",
             "Strict = offsets and label match, zero_division=0: computed by conflict_spans/evaluation/scoring.py and tested equal to "
             "seqeval's strict IOB2 mode on flat, word-aligned spans (tests/test_scoring.py); micro F1 with a "
             f"bootstrap 95% interval ({e.settings['n_resamples']} resamples of documents, seed {e.settings['seed']}). "
             "exact / partial / type are nervaluate's schemes, computed in the same module and tested equal to nervaluate 1.2.1. "
             "Scores in %.", "",
             "## All systems, same split", ""]
    lines += main_table(e)
    lines += ["", "## Coarse view: the classes a pretrained NER can express", "",
              f"Labels mapped by {e.settings['coarse_map']} ({mapping_text(e.coarse_map)}): "
              "fair to baselines that cannot tell a source from an actor or predict casualties.", ""]
    lines += coarse_table(e)
    lines += ["", "## CASUALTY status (killed / injured)", "",
              "Of the CASUALTY spans a system predicts at a gold CASUALTY span's offsets, how many carry the gold status; accuracy "
              "with a bootstrap 95% interval over the same resamples of documents. \"not predicted\": the system's spans carry no status.", ""]
    lines += status_table(e)
    if e.comparisons:
        lines += ["", "## Paired differences (micro F1, same resamples)", ""]
        lines += table(["systems", "difference [95% CI]", "share of resamples where the first is not better"],
                       [[k, ci(v), f"{v['share_a_not_better']:.3f}"] for k, v in e.comparisons.items()])
    lines.append("")
    if e.records is not None:
        lines += records_section(e.records, e.split)
    if e.re3d is not None:
        lines += re3d_section(e.re3d)
    lines += ["## Systems", ""]
    for result in e.systems.values():
        lines += system_section(result, files[result.name])
    return "\n".join(lines)


def write_report(out: Path, evaluation: Evaluation, labeling_config: str | None = None) -> dict[str, Any]:
    files = {name: write_system(out, result, evaluation.gold_docs, labeling_config) for name, result in evaluation.systems.items()}
    summary = evaluation.to_dict(files)
    atomic_write_text(out / "report.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out / "report.md", report_markdown(evaluation, files))
    return summary
