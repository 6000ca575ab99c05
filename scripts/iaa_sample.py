#!/usr/bin/env python3
"""Draw the blind agreement sample (corpus part 2) and write the second annotator's packet.

    python scripts/iaa_sample.py --out corpus/iaa/blind            # sample.json, frozen guidelines, frozen first pass
    python scripts/iaa_sample.py --out corpus/iaa/blind --packet DIR   # also the plain texts for the annotator

The draw is seeded and depends only on the built corpus (corpus/data): the same
corpus always gives the same 60 documents. It is stratified by conflict and
genre: documents are taken in a seeded order, a document is skipped while its
conflict already has its share (60 / conflicts, rounded up) or its genre has
its share (60 / genres, rounded up), and at least ``--min-test`` come from the
test split. ``OUT/first/`` freezes the corpus's annotation of the sample as it
was at the draw (the first pass), so later corrections to the corpus do not
change what the second pass is compared with. The packet holds only what the
annotator may see: the plain texts (a header with id, conflict, country and
genre, then the text; no spans), the spec and a frozen copy of the guidelines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from conflict_spans.corpus.build import load_splits  # noqa: E402
from conflict_spans.corpus.io import atomic_write_text  # noqa: E402
from conflict_spans.corpus.markup import document_to_markup  # noqa: E402
from conflict_spans.document import Document  # noqa: E402

SEED = "conflict-spans-blind-iaa-2026"


def _order(doc_id: str) -> str:
    return hashlib.sha256(f"{SEED}:{doc_id}".encode()).hexdigest()


def draw(docs_by_split: dict[str, list], size: int, min_test: int) -> list[tuple[str, object]]:
    everything = [(split, d) for split, docs in docs_by_split.items() for d in docs]
    conflicts = {d.meta["conflict"] for _, d in everything}
    genres = {d.meta["genre"] for _, d in everything}
    conflict_cap = math.ceil(size / len(conflicts))
    genre_cap = math.ceil(size / len(genres))
    chosen: list[tuple[str, object]] = []
    chosen_ids: set[str] = set()
    by_conflict: Counter = Counter()
    by_genre: Counter = Counter()

    def take(candidates, quota):
        for split, doc in sorted(candidates, key=lambda sd: _order(sd[1].id)):
            if len(chosen) >= quota:
                return
            if doc.id in chosen_ids:
                continue
            if by_conflict[doc.meta["conflict"]] >= conflict_cap or by_genre[doc.meta["genre"]] >= genre_cap:
                continue
            chosen.append((split, doc))
            chosen_ids.add(doc.id)
            by_conflict[doc.meta["conflict"]] += 1
            by_genre[doc.meta["genre"]] += 1

    take([sd for sd in everything if sd[0] == "test"], min_test)
    take(everything, size)
    if len(chosen) < size:  # the caps were too tight for this corpus: fill in seeded order
        conflict_cap = genre_cap = size
        take(everything, size)
    return chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for sample.json and GUIDELINES.frozen.md")
    ap.add_argument("--packet", type=Path, help="also write the annotator's packet here (plain texts, spec, frozen guidelines)")
    ap.add_argument("--size", type=int, default=60)
    ap.add_argument("--min-test", type=int, default=24)
    args = ap.parse_args(argv)

    splits = load_splits()
    chosen = draw(splits, args.size, args.min_test)
    sample = {
        "seed": SEED,
        "size": len(chosen),
        "by_split": dict(Counter(split for split, _ in chosen)),
        "by_conflict": dict(sorted(Counter(d.meta["conflict"] for _, d in chosen).items())),
        "by_genre": dict(sorted(Counter(d.meta["genre"] for _, d in chosen).items())),
        "documents": [{"id": d.id, "split": split, "conflict": d.meta["conflict"], "genre": d.meta["genre"]}
                      for split, d in sorted(chosen, key=lambda sd: sd[1].id)],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "sample.json", json.dumps(sample, ensure_ascii=False, indent=1) + "\n")
    frozen = args.out / "GUIDELINES.frozen.md"
    if not frozen.exists():
        shutil.copyfile(REPO / "annotation" / "GUIDELINES.md", frozen)
    for _, doc in chosen:
        first = args.out / "first" / doc.meta["conflict"] / f"{doc.id}.txt"
        if not first.exists():  # the first pass is frozen once, at the draw
            first.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(first, document_to_markup(doc))
    if args.packet:
        texts = args.packet / "texts"
        texts.mkdir(parents=True, exist_ok=True)
        for _, doc in chosen:
            plain = Document(doc.id, doc.text, [], {k: doc.meta[k] for k in ("conflict", "country", "genre") if k in doc.meta})
            atomic_write_text(texts / f"{doc.id}.txt", document_to_markup(plain))
        shutil.copyfile(frozen, args.packet / "GUIDELINES.md")
        shutil.copyfile(REPO / "annotation" / "SPEC.md", args.packet / "SPEC.md")
    print(f"{len(chosen)} documents: " + ", ".join(f"{k} {v}" for k, v in sample["by_split"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
