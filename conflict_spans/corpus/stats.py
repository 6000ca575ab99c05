"""Counts per label, per split and per conflict."""

from __future__ import annotations

from collections import Counter, defaultdict

from conflict_spans.corpus.conflicts import load_conflicts
from conflict_spans.corpus.forms import FORMS
from conflict_spans.document import Document, check_schema
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABEL_NAMES, RELATION_NAMES, STATUS_VALUES

LONG_DOCUMENT_WORDS = 700


def word_count(doc: Document) -> int:
    return len(doc.text.split())


def shape_counts(docs: list[Document]) -> dict[str, int]:
    """Documents without a CASUALTY span, over LONG_DOCUMENT_WORDS words, and carrying each form."""
    out = {
        "documents": len(docs),
        "no CASUALTY span": sum(1 for d in docs if not any(s.label == "CASUALTY" for s in d.spans)),
        f"over {LONG_DOCUMENT_WORDS} words": sum(1 for d in docs if word_count(d) > LONG_DOCUMENT_WORDS),
    }
    for name, (detect, _) in FORMS.items():
        out[name] = sum(1 for d in docs if detect(d))
    return out


def label_counts(docs: list[Document]) -> Counter:
    counts: Counter = Counter()
    for doc in docs:
        for span in doc.spans:
            counts[span.label] += 1
            if span.status:
                counts[f"{span.label}:{span.status}"] += 1
    return counts


def stats_table(docs_by_split: dict[str, list[Document]]) -> str:
    """A Markdown report: per split, per label, per conflict; a span outside the schema is an error, never left out."""
    all_docs = [d for docs in docs_by_split.values() for d in docs]
    unknown = [p for d in all_docs for p in check_schema(d)]
    if unknown:
        raise CorpusError(unknown)
    cols = list(LABEL_NAMES)
    lines = ["## Per split", "", "| split | docs | words | " + " | ".join(cols) + " | spans |", "|" + "---|" * (len(cols) + 4)]
    for split, docs in list(docs_by_split.items()) + [("all", all_docs)]:
        c = label_counts(docs)
        words = sum(len(d.text.split()) for d in docs)
        lines.append(f"| {split} | {len(docs)} | {words} | " + " | ".join(str(c[label]) for label in cols) + f" | {sum(c[label] for label in cols)} |")
    c = label_counts(all_docs)
    lines += ["", "CASUALTY status: " + ", ".join(f"{s} {c['CASUALTY:' + s]}" for s in STATUS_VALUES), ""]
    lines += ["Links (annotation/LINKS.md), on the documents whose links were annotated:", "",
              "| split | documents with links | " + " | ".join(RELATION_NAMES) + " | links |", "|" + "---|" * (len(RELATION_NAMES) + 3)]
    for split, docs in list(docs_by_split.items()) + [("all", all_docs)]:
        rc = Counter(r.type for d in docs for r in d.relations)
        lines.append(f"| {split} | {sum(1 for d in docs if d.relations)} | " + " | ".join(str(rc[t]) for t in RELATION_NAMES) + f" | {sum(rc.values())} |")
    lines.append("")
    by_conflict: dict[str, list[Document]] = defaultdict(list)
    split_of = {d.id: s for s, docs in docs_by_split.items() for d in docs}
    for doc in all_docs:
        by_conflict[str(doc.meta.get("conflict", "(none)"))].append(doc)
    lines += ["## Per conflict", "", "| conflict | docs | share | " + " | ".join(s for s in docs_by_split) + " | " + " | ".join(cols) + " |", "|" + "---|" * (3 + len(docs_by_split) + len(cols))]
    for conflict in sorted(by_conflict):
        docs = by_conflict[conflict]
        cc = label_counts(docs)
        per_split = [sum(1 for d in docs if split_of[d.id] == s) for s in docs_by_split]
        lines.append(f"| {conflict} | {len(docs)} | {len(docs) / max(1, len(all_docs)):.1%} | " + " | ".join(map(str, per_split)) + " | " + " | ".join(str(cc[label]) for label in cols) + " |")
    known = load_conflicts()
    period = [c for c in by_conflict if c in known and known[c].first_year >= 1990 and known[c].last_year <= 2019]
    largest = max(by_conflict, key=lambda c: (len(by_conflict[c]), c)) if by_conflict else None
    if largest is not None:
        lines += ["", f"{len(by_conflict)} conflicts; {len(period)} of them within 1990-2019 (years in corpus/conflicts.json); "
                      f"largest: {largest}, {len(by_conflict[largest])} documents ({len(by_conflict[largest]) / max(1, len(all_docs)):.1%})."]
    genres = Counter(str(d.meta.get("genre", "(none)")) for d in all_docs)
    lines += ["", "## Per genre", "", ", ".join(f"{g} {n}" for g, n in sorted(genres.items()))]
    n = max(1, len(all_docs))
    lines += ["", "## Lengths, genres without casualties, and the forms of real wire copy", "",
              "Documents that carry each (forms: guidelines §8.11, detectors in conflict_spans/corpus/forms.py).", "",
              "| what | documents | share | detector |", "|---|---|---|---|"]
    what = {name: about for name, (_, about) in FORMS.items()}
    for name, count in shape_counts(all_docs).items():
        if name != "documents":
            lines.append(f"| {name} | {count} | {count / n:.1%} | {what.get(name, '')} |")
    return "\n".join(lines) + "\n"
