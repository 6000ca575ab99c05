#!/usr/bin/env python
"""Hyper-parameter sweep on the validation split.

    python training/sweep.py --grid GRID.yaml --out runs/sweep --parallel 4

GRID.yaml maps train.py argument names to lists of values, e.g.
``learning_rate: [0.0002, 0.0004]``; every combination is run.

Each grid point runs training/train.py in its own process and writes one line
to ``results.jsonl``: the arguments and the validation strict micro/per-label F1.
The test split is never read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml


def grid_points(grid: dict) -> list[dict]:
    keys = sorted(grid)
    values = [grid[k] if isinstance(grid[k], list) else [grid[k]] for k in keys]
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]


def run_point(point: dict, out: Path, extra: list[str]) -> dict:
    name = "-".join(f"{k}={v}" for k, v in sorted(point.items()))
    run_dir = out / name.replace("/", "_")
    args = [sys.executable, str(Path(__file__).with_name("train.py")), "--output-dir", str(run_dir), "--disable-tqdm", "true",
            "--save-strategy", "no", "--load-best-model-at-end", "false", *extra]
    for key, value in point.items():
        args += [f"--{key}", str(value)]
    started = time.time()
    proc = subprocess.run(args, capture_output=True, text=True)
    record = {"point": point, "seconds": round(time.time() - started, 1), "returncode": proc.returncode}
    metrics_file = run_dir / "metrics.json"
    if proc.returncode == 0 and metrics_file.exists():
        metrics = json.loads(metrics_file.read_text())
        record["validation_f1"] = metrics["validation_micro_f1"]
        record["per_label_f1"] = {k: round(v["f1"], 4) for k, v in metrics["validation"].items()}
        record["f1_by_epoch"] = [round(h["eval_f1"], 4) for h in metrics["log_history"] if "eval_f1" in h]
    else:
        record["error"] = proc.stderr[-2000:]
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", required=True, help="YAML mapping of train.py argument -> list of values")
    parser.add_argument("--out", required=True, help="folder for the runs and results.jsonl")
    parser.add_argument("--parallel", type=int, default=1, help="runs at a time")
    parser.add_argument("extra", nargs="*", help="arguments passed to every run (after --)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    points = grid_points(yaml.safe_load(Path(args.grid).read_text()))
    with ThreadPoolExecutor(args.parallel) as pool, (out / "results.jsonl").open("a") as fh:
        for record in pool.map(lambda p: run_point(p, out, args.extra), points):
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            print(json.dumps({k: record.get(k) for k in ("point", "validation_f1", "f1_by_epoch", "seconds")}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
