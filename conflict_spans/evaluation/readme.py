"""The README's results block, generated from the evaluation's report.json files.

The block sits between ``<!-- results-table -->`` and ``<!-- /results-table -->``;
``conflict-spans evaluate --readme README.md`` rewrites it from the test report
in ``--out`` and the validation report in ``--out/validation`` (when present).
Nothing in it is typed by hand, and a test checks that it equals what the
committed reports render to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conflict_spans.corpus.io import atomic_write_text
from conflict_spans.problems import CorpusError, Problem

BEGIN = "<!-- results-table -->"
END = "<!-- /results-table -->"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def _ci(b: dict[str, float]) -> str:
    return f"{_pct(b['point'])} [{_pct(b['low'])}, {_pct(b['high'])}]"


def _row(where: str, name: str, system: dict[str, Any], labels: list[str]) -> str:
    """One table row from a system's ``strict`` scores and ``bootstrap`` interval (a report's or a subset's)."""
    micro, per = system["strict"]["micro"], system["strict"]["per_label"]
    return (f"| {where} | {name} | {_pct(micro['precision'])} | {_pct(micro['recall'])} | {_ci(system['bootstrap']['micro_f1'])} | "
            + " | ".join(_pct(per[label]["f1"]) for label in labels) + " |")


def render(test: dict[str, Any], validation: dict[str, Any] | None = None) -> str:
    labels = test["labels"]
    gold = test["gold_spans"]
    lines = [BEGIN,
             f"Strict span P/R/F1 in % (offsets and label must match), 95% bootstrap intervals over documents "
             f"({test['settings']['n_resamples']} resamples, seed {test['settings']['seed']}). Test split: {test['documents']} documents, "
             f"{sum(gold.values())} spans" + (f"; validation split: {validation['documents']} documents, {sum(validation['gold_spans'].values())} spans" if validation else "")
             + ". `model` is the default configuration trained by `scripts/quickstart.sh`; `spacy-finetuned` is en_core_web_sm's "
             "tok2vec/ner fine-tuned on the same train split; `spacy-pretrained` is en_core_web_sm with its labels mapped to ours "
             "(it cannot express CASUALTY or ATTRIBUTION).",
             "",
             f"Generated from `eval/results/report.json`" + (" and `eval/results/validation/report.json`" if validation else "")
             + f" by `{test['command']}`" + (f" and `{validation['command']}`" if validation else "") + ".",
             "",
             "| split | system | P | R | F1 [95% CI] | " + " | ".join(labels) + " |",
             "|---|---|---|---|---|" + "---|" * len(labels)]
    if validation:
        lines += [_row("validation", name, s, labels) for name, s in validation["systems"].items()]
    lines += [_row("test", name, s, labels) for name, s in test["systems"].items()]
    for subset, data in test.get("subsets", {}).items():
        lines += [_row(f"test, {subset} ({data['documents']} docs)", name, s, labels) for name, s in data["systems"].items()]
    if test.get("comparisons"):
        lines += ["", "Paired differences on test (micro F1, same resamples): "
                  + "; ".join(f"{k} {_ci(v)}" for k, v in test["comparisons"].items()) + "."]
    status = {name: s["status"] for name, s in test["systems"].items() if s.get("status", {}).get("predicted")}
    if status:
        lines += ["", "CASUALTY status (killed or injured) on test, on CASUALTY spans whose offsets match gold: " + "; ".join(
            f"{name} {st['same_status']} of {st['matched']} right, {_pct(st['accuracy'])} [{_pct(st['interval']['low'])}, {_pct(st['interval']['high'])}]"
            for name, st in status.items()) + "; the spaCy baselines predict no status."]
    records = test.get("records")
    if records:
        default = records["default_linker"]
        r = records["linkers"][default]
        types = ("source", "location", "perpetrator")
        line = (f"Casualty records on test ({default} linker, the default): link F1 with gold spans "
                + "; ".join(f"{t} {_ci(r['gold_spans'][t]['f1_interval'])}" for t in types))
        if "end_to_end" in r:
            line += "; end to end with the model's spans " + "; ".join(f"{t} {_ci(r['end_to_end'][t]['f1_interval'])}" for t in types)
        line += f"; restatement groups B-cubed F1 {_ci(r['groups_bcubed']['f1_interval'])}"
        counts = records.get("counts")
        if counts:
            line += (f"; count normalisation, best value exact {counts['best_exact']['correct']} of {counts['spans']}, "
                     f"{_ci(counts['best_exact']['interval'])}, range {_ci(counts['range_agreement']['interval'])}")
        lines += ["", line + "."]
    if test.get("re3d"):
        r = test["re3d"]
        lines += ["", f"Out of domain, re3d ({r['data']['documents']} real Syria/Iraq documents, evaluation only, classes "
                  f"{', '.join(r['classes'])}): " + "; ".join(
                      f"{name} exact F1 {_pct(s['exact']['f1'])}, overlap F1 {_pct(s['overlap']['f1'])} (P {_pct(s['exact']['precision'])}, R {_pct(s['exact']['recall'])})"
                      for name, s in r["systems"].items()) + "."]
    lines.append(END)
    return "\n".join(lines)


def render_from(out: Path) -> str:
    test = json.loads((out / "report.json").read_text(encoding="utf-8"))
    validation_file = out / "validation" / "report.json"
    validation = json.loads(validation_file.read_text(encoding="utf-8")) if validation_file.is_file() else None
    return render(test, validation)


def replace_block(readme_text: str, block: str, path: str = "README.md") -> str:
    if readme_text.count(BEGIN) != 1 or readme_text.count(END) != 1 or readme_text.index(BEGIN) > readme_text.index(END):
        raise CorpusError(Problem("readme", f"the README needs exactly one {BEGIN} ... {END} block", "add the two marker lines where the results go", path=path))
    head, rest = readme_text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + block + tail


def update_readme(readme: Path, out: Path) -> None:
    atomic_write_text(readme, replace_block(readme.read_text(encoding="utf-8"), render_from(out), str(readme)))
