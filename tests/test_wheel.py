"""The wheel is self-contained: installed outside the checkout, run from another folder, it works.

The test builds the wheel from this checkout, installs it with ``--no-deps``
into a fresh virtual environment in a temporary folder, and runs the commands
a new user runs first, from a third folder. The dependencies are the pinned
ones already installed in this checkout's ``.venv``: the fresh environment sees
them through a ``.pth`` path entry (a plain path, so the checkout's editable
install, which needs its own ``.pth`` processed, stays invisible), and
``pip check`` confirms that they satisfy what the wheel declares. Installing
them again from the registry would take minutes and prove nothing more about
the wheel.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def run(cmd: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CONFLICT_SPANS_ROOT")}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    return result


def corpus_files() -> tuple[str, ...]:
    """setup.py's CORPUS_FILES, read without running setup.py, so that this copy never drifts from what the wheel ships."""
    tree = ast.parse((REPO_ROOT / "setup.py").read_text(encoding="utf-8"))
    (value,) = [node.value for node in tree.body if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "CORPUS_FILES" for t in node.targets)]
    return ast.literal_eval(value)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # build from a copy of what the sdist carries, so that no build/ folder is left in (or reused from) the checkout
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "conflict_spans", source / "conflict_spans", ignore=shutil.ignore_patterns("__pycache__"))
    for name in corpus_files():
        (source / "corpus" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / "corpus" / name, source / "corpus" / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist, source], cwd=dist)
    (built,) = dist.glob("conflict_spans-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (no deps); returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", venv], cwd=venv)  # pip runs from here, --python
    site = Path(run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=venv).stdout.strip())
    (site / "checkout_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps", "--no-index", wheel], cwd=venv)
    return venv / "bin"


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory) -> Path:
    """A working folder outside the checkout, with a user's own file in it."""
    work = tmp_path_factory.mktemp("user")
    lines = (REPO_ROOT / "corpus" / "data" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    (work / "mine.jsonl").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    return work


def test_the_wheel_holds_the_runtime_files_and_the_corpus(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("spacy_label_map.json", "re3d_label_map.json", "spacy_config.cfg", "corpus/data/train.jsonl", "corpus/data/validation.jsonl",
                 "corpus/data/test.jsonl", "corpus/conflicts.json", "corpus/README.md", "corpus/provenance_review.tsv", "corpus/counts_gold.tsv"):
        assert f"conflict_spans/resources/{name}" in names, name
    assert not any(n.startswith(("tests/", "corpus/", "eval/", "training/")) for n in names)


def test_the_installed_package_is_the_wheel_and_its_dependencies_are_satisfied(installed, elsewhere):
    out = run([installed / "python", "-c", "import conflict_spans, conflict_spans.paths as p; print(conflict_spans.__file__); print(p.CHECKOUT)"],
              cwd=elsewhere).stdout.split("\n")
    assert Path(out[0]).is_relative_to(installed.parent), out[0]
    assert out[1] == "None"
    run([sys.executable, "-m", "pip", "--python", installed / "python", "check"], cwd=elsewhere)


def test_validate_stats_conll_and_ls_config_from_another_folder(installed, elsewhere):
    cli = installed / "conflict-spans"
    assert "3 documents checked: 0 errors" in run([cli, "validate", "mine.jsonl"], cwd=elsewhere).stdout
    stats = run([cli, "stats"], cwd=elsewhere).stdout
    assert "609" in stats and "ACTOR" in stats
    run([cli, "conll", "mine.jsonl", "mine.conll"], cwd=elsewhere)
    assert "\tB-" in (elsewhere / "mine.conll").read_text(encoding="utf-8")
    config = run([cli, "ls", "config"], cwd=elsewhere).stdout
    assert config.startswith("<View") and 'value="CASUALTY"' in config


def test_load_corpus_from_the_wheel(installed, elsewhere):
    out = run([installed / "python", "-c", "import conflict_spans; d = conflict_spans.load_corpus(); print({k: len(v) for k, v in d.items()})"],
              cwd=elsewhere).stdout
    assert out.strip() == "{'train': 492, 'validation': 64, 'test': 53}"


def test_predict_and_evaluate_with_a_tiny_model_from_another_folder(installed, elsewhere, tmp_path_factory):
    from support import make_tiny_model

    model = make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", epochs=2)
    cli = installed / "conflict-spans"
    run([cli, "predict", "--model", model, "mine.jsonl", "-o", "predicted.jsonl"], cwd=elsewhere)
    records = [json.loads(line) for line in (elsewhere / "predicted.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 3 and all("spans" in r for r in records)
    run([cli, "evaluate", "--model", model, "--baselines", "spacy-pretrained", "--out", "results", "--resamples", "20"], cwd=elsewhere)
    report = json.loads((elsewhere / "results" / "report.json").read_text(encoding="utf-8"))
    assert set(report["systems"]) == {"model", "spacy-pretrained"} and report["documents"] == 53
