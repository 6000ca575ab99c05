"""eval/active_learning/curve.md and curve.png are what scripts/active_learning_sim.py renders from curve.json."""

from __future__ import annotations

import json
from pathlib import Path

import support

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    return support.load_script(ROOT / "scripts" / "active_learning_sim.py", "active_learning_sim")


def test_the_committed_table_is_rendered_from_the_committed_results(tmp_path):
    result = json.loads((ROOT / "eval" / "active_learning" / "curve.json").read_text(encoding="utf-8"))
    load_script().render(result, tmp_path)
    assert (tmp_path / "curve.md").read_text(encoding="utf-8") == (ROOT / "eval" / "active_learning" / "curve.md").read_text(encoding="utf-8"), \
        "eval/active_learning/curve.md is stale: python scripts/active_learning_sim.py --render-only"
    assert (tmp_path / "curve.png").stat().st_size > 10_000


def point(n, f1):
    return {"documents": n, "validation_micro_f1": f1, "epochs": 1, "seconds": 1.0}


def test_several_seeds_get_mean_columns(tmp_path):
    result = {"command": "x", "sizes": [10, 20], "pool": 5, "validation": 2, "epoch_docs": 200,
              "curves": {"uncertainty": {"1": [point(10, 0.5), point(20, 0.6)], "2": [point(10, 0.7), point(20, 0.9)]},
                         "random": {"1": [point(10, 0.5), point(20, 0.5)], "2": [point(10, 0.7), point(20, 0.6)]}}}
    load_script().render(result, tmp_path)
    lines = (tmp_path / "curve.md").read_text(encoding="utf-8").splitlines()
    assert lines[-4].endswith("| uncertainty (mean) | random (mean) |") and lines[-3] == "|---:|" + "---:|" * 6
    assert lines[-1] == "| 20 | 60.00 | 90.00 | 50.00 | 60.00 | 75.00 | 55.00 |"


def test_one_seed_has_no_mean_columns(tmp_path):
    result = {"command": "x", "sizes": [10], "pool": 5, "validation": 2, "epoch_docs": 200,
              "curves": {"uncertainty": {"1": [point(10, 0.5)]}, "random": {"1": [point(10, 0.4)]}}}
    load_script().render(result, tmp_path)
    assert (tmp_path / "curve.md").read_text(encoding="utf-8").splitlines()[-1] == "| 10 | 50.00 | 40.00 |"
