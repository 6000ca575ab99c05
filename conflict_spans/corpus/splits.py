"""Deterministic, stable, stratified document-level splits.

Each story group (``meta.group``, else the document id) is assigned once and
the assignment is kept in ``corpus/splits.json``; a new group never moves an
old one. A new group goes first to a split that its conflict does not yet cover (once
train holds two of its groups), otherwise to the split furthest below its
target share within the conflict; groups are taken in the order of a hash of
their id. So every split covers every conflict with at least four story
groups, and the shares stay near 80/10/10.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path

from conflict_spans.document import Document
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import SPLITS

TARGETS: dict[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}


def group_of(doc: Document) -> str:
    return str(doc.meta.get("group") or doc.id)


def _hash(value: str) -> int:
    return int(hashlib.sha256(value.encode("utf-8")).hexdigest()[:12], 16)


def assign_splits(docs: list[Document], existing: dict[str, str] | None = None) -> dict[str, str]:
    """Return ``{group: split}`` covering every group in ``docs``; ``existing`` is never changed."""
    assignment = dict(existing or {})
    groups: dict[str, list[Document]] = defaultdict(list)
    for doc in docs:
        groups[group_of(doc)].append(doc)
    by_conflict: dict[str, list[str]] = defaultdict(list)
    for group, members in groups.items():
        by_conflict[str(members[0].meta.get("conflict", ""))].append(group)
    for conflict in sorted(by_conflict):
        sizes = Counter()
        for group in by_conflict[conflict]:
            if group in assignment:
                sizes[assignment[group]] += len(groups[group])
        new = sorted((g for g in by_conflict[conflict] if g not in assignment), key=lambda g: (_hash(g), g))
        for group in new:
            total = sum(sizes.values()) + len(groups[group])
            # deficit of each split after adding this group elsewhere
            def priority(split: str) -> tuple[bool, float, int]:
                # coverage first: once train holds two groups, an empty split of this conflict is filled
                uncovered = sizes[split] == 0 and (split == "train" or sizes["train"] >= 2)
                return (uncovered, TARGETS[split] * total - sizes[split], -SPLITS.index(split))
            split = max(SPLITS, key=priority)
            assignment[group] = split
            sizes[split] += len(groups[group])
    return assignment


def load_assignment(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    fix = 'restore the file from version control; it is {"groups": {"<group>": "train" | "validation" | "test"}}'
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(Problem("splits", f"split assignment file is not valid JSON ({exc})", fix, path=str(path))) from None
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, dict):
        raise CorpusError(Problem("splits", "split assignment file has no 'groups' object", fix, path=str(path)))
    bad = [Problem("splits", f"group {group!r} is assigned to an unknown split", f"use one of {', '.join(SPLITS)}", path=str(path), record=str(group), value=str(split))
           for group, split in groups.items() if split not in SPLITS]
    if bad:
        raise CorpusError(bad)
    return dict(groups)


def dump_assignment(assignment: dict[str, str]) -> str:
    return json.dumps({"about": "story group -> split; assigned once, never moved (conflict_spans/corpus/splits.py)", "groups": dict(sorted(assignment.items()))}, indent=1, ensure_ascii=False) + "\n"


def split_documents(docs: list[Document], assignment: dict[str, str]) -> dict[str, list[Document]]:
    out: dict[str, list[Document]] = {s: [] for s in SPLITS}
    for doc in sorted(docs, key=lambda d: d.id):
        out[assignment[group_of(doc)]].append(doc)
    return out
