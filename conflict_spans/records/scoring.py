"""Scores for links, restatement groups and count normalisation (evaluation and ``train-linker`` share them).

- Links: a predicted link is correct when gold has a link of the same type
  between the same two spans (label and offsets). Per type and micro P/R/F1.
- Restatement groups: B-cubed precision and recall over the CASUALTY spans both
  sides have (Bagga & Baldwin 1998): for each mention, the share of its
  predicted group that is in its gold group, and the other way round.
- Counts: the best value of ``counts.normalise`` against a hand-written gold
  value (exact), and the range (low and high both equal).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from conflict_spans.document import Relation, Span
from conflict_spans.schema import GROUPING_RELATION, RELATION_NAMES


def link_key(rel: Relation) -> tuple:
    return (rel.head.start, rel.head.end, rel.head.label, rel.type, rel.tail.start, rel.tail.end, rel.tail.label)


def link_counts(gold: Iterable[Relation], predicted: Iterable[Relation]) -> dict[str, list[int]]:
    """Per relation type ``[true positives, predicted, gold]`` for one document."""
    g = {link_key(r) for r in gold}
    p = {link_key(r) for r in predicted}
    out = {t: [0, 0, 0] for t in RELATION_NAMES}
    for key in p:
        if key[3] in out:
            out[key[3]][1] += 1
            out[key[3]][0] += int(key in g)
    for key in g:
        if key[3] in out:
            out[key[3]][2] += 1
    return out


def prf(tp: int, predicted: int, gold: int) -> dict[str, float | int]:
    p = tp / predicted if predicted else 0.0
    r = tp / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "predicted": predicted, "gold": gold}


def link_scores(per_doc: Sequence[dict[str, list[int]]]) -> dict[str, dict[str, float | int]]:
    """Per type and ``micro`` P/R/F1 summed over documents."""
    total = {t: [sum(d[t][k] for d in per_doc) for k in range(3)] for t in RELATION_NAMES}
    out = {t: prf(*total[t]) for t in RELATION_NAMES}
    out["micro"] = prf(*(sum(total[t][k] for t in RELATION_NAMES) for k in range(3)))
    return out


def groups(heads: Iterable[Span], relations: Iterable[Relation]) -> dict[tuple, int]:
    """Each CASUALTY span's restatement group, as the key of its first mention."""
    first: dict[tuple, tuple] = {}
    links = sorted((r for r in relations if r.type == GROUPING_RELATION), key=lambda r: r.head.start)
    keys = {(s.start, s.end) for s in heads}
    parent = {(r.head.start, r.head.end): (r.tail.start, r.tail.end) for r in links}
    for key in sorted(keys):
        root, seen = key, set()
        while root in parent and root not in seen:
            seen.add(root)
            root = parent[root]
        first[key] = root
    ids = {root: i for i, root in enumerate(sorted(set(first.values())))}
    return {key: ids[root] for key, root in first.items()}


def bcubed_counts(heads: Sequence[Span], gold: Iterable[Relation], predicted: Iterable[Relation]) -> tuple[float, float, int]:
    """Sums of per-mention B-cubed precision and recall over ``heads``, and the number of mentions."""
    g = groups(heads, gold)
    p = groups(heads, predicted)
    g_members = Counter(g.values())
    p_members = Counter(p.values())
    both: Counter = Counter((g[k], p[k]) for k in g)
    precision = sum(both[(g[k], p[k])] / p_members[p[k]] for k in g)
    recall = sum(both[(g[k], p[k])] / g_members[g[k]] for k in g)
    return precision, recall, len(g)


def bcubed(per_doc: Sequence[tuple[float, float, int]]) -> dict[str, float | int]:
    n = sum(x[2] for x in per_doc)
    p = sum(x[0] for x in per_doc) / n if n else 0.0
    r = sum(x[1] for x in per_doc) / n if n else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "mentions": n}
