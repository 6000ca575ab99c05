"""README's speed table is the one scripts/benchmark_predict.py renders from eval/benchmarks/speed.json (and onnx_f1.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import support

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    return support.load_script(ROOT / "scripts" / "benchmark_predict.py", "benchmark_predict")


def test_the_readme_speed_table_is_rendered_from_the_benchmark_output():
    script = load_script()
    speed, f1 = script.readme_inputs(ROOT / "eval" / "benchmarks")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert script.readme_block(speed, f1) in readme, "README.md's speed table is stale: python scripts/benchmark_predict.py --markdown-only --readme README.md"


def test_the_goal_line_compares_the_fastest_engine_with_spacy():
    script = load_script()
    runs = [{"engine": "torch-fp32", "batch_size": 1, "words_per_second": {"whole_process": 100, "predict": 120, "model_only": 150}, "peak_rss_mb": 1, "load_before": 0},
            {"engine": "onnx-int8", "batch_size": 32, "words_per_second": {"whole_process": 300, "predict": 330, "model_only": 400}, "peak_rss_mb": 1, "load_before": 0},
            {"engine": "spacy-sm-ner", "batch_size": 0, "words_per_second": {"whole_process": 200, "predict": 220, "model_only": None}, "peak_rss_mb": 1, "load_before": 0}]
    lines = script.speed_table({"runs": runs})
    assert lines[-1].startswith("The goal is 1.5x") and "onnx-int8 at batch 32, does 1.50x" in lines[-1] and "1.50x in the predict call" in lines[-1]
    assert "| spacy-sm-ner | - | 200 | 220 | - | 1.00 | 1.00 |" in "\n".join(lines)


def test_a_readme_without_the_markers_is_refused_and_left_alone(tmp_path):
    script = load_script()
    readme = tmp_path / "README.md"
    readme.write_text("# x\n", encoding="utf-8")
    speed, f1 = script.readme_inputs(ROOT / "eval" / "benchmarks")
    with pytest.raises(SystemExit, match="speed-table"):
        script.update_readme(readme, speed, f1)
    assert readme.read_text(encoding="utf-8") == "# x\n"
    assert json.loads((ROOT / "eval" / "benchmarks" / "speed.json").read_text(encoding="utf-8"))["runs"]
