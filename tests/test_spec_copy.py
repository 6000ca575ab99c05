"""annotation/SPEC.md is the project's copy of the binding spec; it stays in step with the workplace copy."""

from __future__ import annotations

import re

import pytest

from conftest import REPO_ROOT

PROJECT_SPEC = REPO_ROOT / "annotation" / "SPEC.md"
WORKPLACE_SPEC = REPO_ROOT.parent / "shared" / "spec" / "ANNOTATION_SPEC.md"


def test_project_spec_equals_the_workplace_spec():
    if not WORKPLACE_SPEC.is_file():
        pytest.skip("no workplace spec beside this checkout (../shared/spec)")
    assert PROJECT_SPEC.read_text(encoding="utf-8") == WORKPLACE_SPEC.read_text(encoding="utf-8"), \
        "annotation/SPEC.md drifted from the binding spec: copy ../shared/spec/ANNOTATION_SPEC.md over it"


def test_every_spec_rule_is_a_guidelines_heading():
    rules = set(re.findall(r"^- ([GALCT]\d+) ", PROJECT_SPEC.read_text(encoding="utf-8"), re.M))
    guidelines = (REPO_ROOT / "annotation" / "GUIDELINES.md").read_text(encoding="utf-8")
    assert {"G1", "G10", "A1", "L1", "C1", "T1"} <= rules
    missing = [r for r in sorted(rules) if not re.search(rf"^###+ .*\b{r}\b", guidelines, re.M)]
    assert not missing, f"guidelines have no section for {missing}"


def test_no_project_document_links_outside_the_repository():
    link = re.compile(r"\]\(([^)#\s]+)")
    offenders = []
    root = REPO_ROOT.resolve()
    for path in list(REPO_ROOT.glob("*.md")) + list(REPO_ROOT.glob("*/**/*.md")):
        if any(part.startswith(".") or part in ("node_modules", "runs") for part in path.relative_to(REPO_ROOT).parts):
            continue  # virtual environments, server data and training runs are not the project's documents
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "shared/spec/" in line:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{n} names the workplace spec")
            for target in link.findall(line):
                if "://" in target or target.startswith("mailto:"):
                    continue
                if not (path.parent / target).resolve().is_relative_to(root):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{n} links to {target}")
    assert not offenders, offenders
