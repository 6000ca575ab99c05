"""Duplicate and near-duplicate texts: word 5-gram shingles compared pairwise."""

from __future__ import annotations

import re
from dataclasses import dataclass

SHINGLE = 5
THRESHOLD = 0.5  # overlap coefficient |A & B| / min(|A|, |B|)

_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = SHINGLE) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


@dataclass(frozen=True)
class NearDuplicate:
    a: str
    b: str
    overlap: float


def find_near_duplicates(texts: dict[str, str], threshold: float = THRESHOLD) -> list[NearDuplicate]:
    """Pairs of ids whose texts share at least ``threshold`` of the smaller shingle set."""
    sets = {doc_id: shingles(text) for doc_id, text in texts.items()}
    index: dict[tuple[str, ...], list[str]] = {}
    for doc_id, sh in sets.items():
        for s in sh:
            index.setdefault(s, []).append(doc_id)
    shared: dict[tuple[str, str], int] = {}
    for ids in index.values():
        if len(ids) < 2 or len(ids) > 50:
            continue
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                key = (a, b) if a < b else (b, a)
                shared[key] = shared.get(key, 0) + 1
    out = []
    for (a, b), count in shared.items():
        denom = min(len(sets[a]), len(sets[b])) or 1
        score = count / denom
        if score >= threshold:
            out.append(NearDuplicate(a, b, score))
    # identical texts with very common shingles are still caught here
    seen: dict[str, str] = {}
    for doc_id, text in texts.items():
        key = " ".join(_WORD.findall(text.lower()))
        if key in seen and not any({d.a, d.b} == {seen[key], doc_id} for d in out):
            out.append(NearDuplicate(*sorted((seen[key], doc_id)), 1.0))
        seen.setdefault(key, doc_id)
    return sorted(out, key=lambda d: (-d.overlap, d.a, d.b))
