"""The layout rules of ARCHITECTURE.md, checked on every import in the package.

Imports inside functions count as much as those at the top of a module: a
lazy import still ties the two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "conflict_spans"

CORE = {"conflict_spans.schema", "conflict_spans.document", "conflict_spans.problems", "conflict_spans.paths",
        "conflict_spans.resources"}
TEXT = {"conflict_spans.align", "conflict_spans.words", "conflict_spans.sentences"}
STAGES = ("corpus", "model", "evaluation", "annotation", "records")
# the pure modules of another stage that a stage may use (ARCHITECTURE.md, "Between stages")
PURE = {
    "model": {"conflict_spans.evaluation.scoring"},
    "evaluation": {"conflict_spans.annotation", "conflict_spans.annotation.labelstudio", "conflict_spans.annotation.labelstudio.config",
                   "conflict_spans.annotation.labelstudio.results", "conflict_spans.annotation.labelstudio.tasks"},
    "annotation": set(),
    "corpus": set(),
    "records": set(),
}
STAGE_MAY_USE = {"corpus": set(), "model": {"corpus"}, "annotation": {"corpus", "model", "records"}, "evaluation": {"corpus", "model", "records"},
                 "records": {"corpus"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def imports_of(path: Path, name: str) -> set[str]:
    """Every ``conflict_spans`` module that ``path`` imports, resolved to a module of the package."""
    known = modules()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            if target.split(".")[0] == "conflict_spans":
                while target not in known:
                    target = target.rsplit(".", 1)[0]
                if target != name:
                    out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    return {name: imports_of(path, name) for name, path in modules().items()}


def tier(name: str) -> str:
    if name == "conflict_spans":
        return "api"  # the package's own namespace: load_corpus and __version__
    if name in CORE:
        return "core"
    if name in TEXT:
        return "text"
    parts = name.split(".")
    if parts[1] in STAGES:
        return parts[1]
    if parts[1] == "cli":
        return "cli"
    raise AssertionError(f"{name} belongs to no tier of ARCHITECTURE.md: add it to one")


def allowed(source: str, target: str) -> bool:
    src, dst = tier(source), tier(target)
    if src in ("cli", "api"):
        return dst != "cli" or src == "cli"
    if dst == "api":
        return False
    if dst == "cli":
        return False
    if src == "core":
        return dst == "core"
    if src == "text":
        return dst in {"core", "text"}
    if dst in {"core", "text"} or dst == src:
        return True
    return dst in STAGE_MAY_USE[src] or target in PURE[src]


def violations(g: dict[str, set[str]]) -> list[str]:
    return [f"{source} imports {target} ({tier(source)} -> {tier(target)})" for source, targets in sorted(g.items())
            for target in sorted(targets) if not allowed(source, target)]


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_every_import_runs_downward_or_to_an_allowed_stage():
    assert violations(graph()) == []


def test_there_are_no_import_cycles():
    assert cycles(graph()) == []


def test_every_module_belongs_to_a_tier():
    for name in modules():
        tier(name)


# ---- the checker itself can fail ----------------------------------------------------------------

@pytest.mark.parametrize("source, target", [
    ("conflict_spans.corpus.validate", "conflict_spans.model.predict"),
    ("conflict_spans.corpus.audit.rules", "conflict_spans.evaluation.errorlist"),
    ("conflict_spans.evaluation.run", "conflict_spans.annotation.labelstudio.client"),
    ("conflict_spans.schema", "conflict_spans.corpus.io"),
    ("conflict_spans.align", "conflict_spans.model.windows"),
    ("conflict_spans.model.train", "conflict_spans.evaluation.run"),
    ("conflict_spans.model.predict", "conflict_spans.cli"),
])
def test_a_forbidden_import_is_reported(source, target):
    g = graph()
    g[source] = g[source] | {target}
    assert f"{source} imports {target}" in "\n".join(violations(g))


def test_a_cycle_is_reported():
    g = graph()
    g["conflict_spans.corpus.io"] = g["conflict_spans.corpus.io"] | {"conflict_spans.corpus.validate"}
    assert any({"conflict_spans.corpus.io", "conflict_spans.corpus.validate"} <= set(c) for c in cycles(g))


def test_lazy_imports_inside_functions_count(tmp_path):
    path = PACKAGE_DIR / "corpus" / "stats.py"
    assert "conflict_spans.corpus.conflicts" in imports_of(path, "conflict_spans.corpus.stats")
