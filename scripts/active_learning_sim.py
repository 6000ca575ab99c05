"""Active-learning simulation on the corpus: validation F1 against the number of annotated documents, when the next
documents to annotate are the model's least confident ones (uncertainty sampling, as ``ls push --uncertainty-sampling``
serves them) or a random draw. Same seed, same first documents, same training settings for both orders.

The train split stands in for the pool of unlabelled documents (their gold spans play the annotators' answers); the
validation split scores each model. Each round trains ``training/train.py`` from the encoder on the documents annotated so
far, with epochs scaled so that every round sees about the same number of documents (EPOCH_DOCS / size epochs), then the
uncertainty order asks that model for the confidence of every document still in the pool
(``Predictor.predict_spans_with_confidence``) and takes the least confident ones.

    python scripts/active_learning_sim.py --sizes 25 50 100 200 --seeds 42
    # -> eval/active_learning/curve.json, curve.md, curve.png
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EPOCH_DOCS = 200  # documents seen per round: epochs = EPOCH_DOCS / size (at least 1)


def train(docs, validation: Path, work: Path, seed: int, epochs: int) -> tuple[Path, float]:
    from conflict_spans.corpus.io import write_jsonl

    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    write_jsonl(data / "train.jsonl", docs)
    (data / "validation.jsonl").write_bytes(validation.read_bytes())
    out = work / "model"
    cmd = [sys.executable, str(ROOT / "training" / "train.py"), "--data-dir", str(data), "--output-dir", str(out), "--seed", str(seed),
           "--num-train-epochs", str(epochs), "--disable-tqdm", "true"]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    if done.returncode:
        raise SystemExit(f"train.py failed:\n{done.stderr[-3000:]}")
    return out, json.loads((out / "metrics.json").read_text(encoding="utf-8"))["validation_micro_f1"]


def curve(strategy: str, pool_docs, validation: Path, sizes: list[int], seed: int, work: Path) -> list[dict]:
    from conflict_spans.model.predict import load_predictor

    rng = random.Random(seed)
    order = list(range(len(pool_docs)))
    rng.shuffle(order)
    chosen = order[: sizes[0]]  # the same first documents for both strategies
    rest = [i for i in order if i not in set(chosen)]
    points = []
    for k, size in enumerate(sizes):
        epochs = max(1, round(EPOCH_DOCS / size))
        t0 = time.monotonic()
        model, f1 = train([pool_docs[i] for i in chosen], validation, work / f"{strategy}-{size}", seed, epochs)
        points.append({"documents": size, "validation_micro_f1": round(f1, 4), "epochs": epochs, "seconds": round(time.monotonic() - t0, 1)})
        print(f"{strategy} seed {seed}: {size} documents, {epochs} epoch(s): F1 {f1:.4f}", flush=True)
        if k + 1 == len(sizes):
            break
        need = sizes[k + 1] - size
        if strategy == "uncertainty":
            predictor = load_predictor(model)
            confidence = {i: predictor.predict_spans_with_confidence(pool_docs[i].text)[1] for i in rest}
            picked = sorted(rest, key=lambda i: (confidence[i], i))[:need]
        else:
            picked = rest[:need]
        chosen = chosen + picked
        rest = [i for i in rest if i not in set(picked)]
    return points


def mean_curve(curves: dict[str, list[dict]]) -> list[float]:
    """Validation micro F1 in points at each size, averaged over the seeds' curves."""
    return [100 * sum(c[k]["validation_micro_f1"] for c in curves.values()) / len(curves) for k in range(len(next(iter(curves.values()))))]


def render(result: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for strategy, style, colour in (("uncertainty", "o-", "tab:blue"), ("random", "s--", "tab:orange")):
        curves = result["curves"][strategy]
        for seed, points in curves.items():  # each seed thin, the mean over seeds bold
            ax.plot([p["documents"] for p in points], [100 * p["validation_micro_f1"] for p in points], style, color=colour,
                    alpha=0.35 if len(curves) > 1 else 1.0, linewidth=1, markersize=4, label=f"{strategy} (seed {seed})")
        if len(curves) > 1:
            ax.plot(result["sizes"], mean_curve(curves), style, color=colour, linewidth=2.5, label=f"{strategy} (mean of {len(curves)} seeds)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("annotated training documents")
    ax.set_ylabel("validation strict micro F1")
    ax.set_title("Active learning on the corpus: uncertainty vs random order")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "curve.png", dpi=120)
    lines = ["# Active learning: uncertainty sampling against random order", "",
             f"Generated by `{result['command']}`. Pool: the train split ({result['pool']} documents, gold spans as the annotators' answers); "
             f"scored on the validation split ({result['validation']} documents), strict micro F1 in points. Each round trains from the encoder "
             f"with epochs = {EPOCH_DOCS} / documents; uncertainty order: the least confident documents first "
             "(geometric mean of the chosen tags' probabilities, as `ls push --uncertainty-sampling` scores them).", "",
             "| documents | " + " | ".join(f"{s} (seed {seed})" for s in ("uncertainty", "random") for seed in result["curves"][s]) + " |",
             "|---:|" + "---:|" * sum(len(v) for v in result["curves"].values())]
    several = len(result["curves"]["uncertainty"]) > 1
    if several:
        lines[-2] = lines[-2][:-2] + " | uncertainty (mean) | random (mean) |"
        lines[-1] += "---:|---:|"
    means = {s: mean_curve(result["curves"][s]) for s in ("uncertainty", "random")}
    for k, size in enumerate(result["sizes"]):
        cells = [f"{100 * result['curves'][s][seed][k]['validation_micro_f1']:.2f}" for s in ("uncertainty", "random") for seed in result["curves"][s]]
        if several:
            cells += [f"{means[s][k]:.2f}" for s in ("uncertainty", "random")]
        lines.append(f"| {size} | " + " | ".join(cells) + " |")
    (out / "curve.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--out", default=str(ROOT / "eval" / "active_learning"))
    parser.add_argument("--keep", action="store_true",
                        help="take the curves of seeds already in OUT/curve.json (same sizes) instead of running them again: add a seed without redoing the others")
    parser.add_argument("--render-only", action="store_true", help="redraw curve.md and curve.png from OUT/curve.json; train nothing")
    args = parser.parse_args(argv)
    from conflict_spans.corpus.io import read_documents

    if args.render_only:
        render(json.loads((Path(args.out) / "curve.json").read_text(encoding="utf-8")), Path(args.out))
        return 0

    pool = read_documents(ROOT / "corpus" / "data" / "train.jsonl")
    validation = ROOT / "corpus" / "data" / "validation.jsonl"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python scripts/active_learning_sim.py --sizes " + " ".join(map(str, args.sizes)) + " --seeds " + " ".join(map(str, args.seeds))
    result = {"command": command, "sizes": args.sizes,
              "pool": len(pool), "validation": len(read_documents(validation)), "epoch_docs": EPOCH_DOCS, "curves": {"uncertainty": {}, "random": {}}}
    kept = {}
    if args.keep and (out / "curve.json").exists():
        earlier = json.loads((out / "curve.json").read_text(encoding="utf-8"))
        if earlier.get("sizes") == args.sizes and earlier.get("epoch_docs") == EPOCH_DOCS:
            kept = earlier["curves"]
    with tempfile.TemporaryDirectory(prefix="al-sim-") as tmp:
        for seed in args.seeds:
            for strategy in ("uncertainty", "random"):
                if str(seed) in kept.get(strategy, {}):
                    result["curves"][strategy][str(seed)] = kept[strategy][str(seed)]
                    print(f"{strategy} seed {seed}: kept from {out / 'curve.json'}", flush=True)
                    continue
                result["curves"][strategy][str(seed)] = curve(strategy, pool, validation, args.sizes, seed, Path(tmp) / f"{seed}")
    (out / "curve.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    render(result, out)
    print((out / "curve.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
