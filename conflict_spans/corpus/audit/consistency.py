"""Consistency: the same string treated differently between the same neighbouring words."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from conflict_spans.corpus.audit.findings import Finding, Words, context_of, covered, in_apposition, inside_any
from conflict_spans.corpus.audit.rules import POSSESSIVE, PRONOUNS
from conflict_spans.document import Document, Span


def consistency_findings(docs: Sequence[Document]) -> list[Finding]:
    """Same surface string, same neighbouring words, different treatment."""
    # (surface, word before, word after) -> label -> [(doc, span)]
    labelled: dict[tuple[str, str, str], dict[str, list[tuple[Document, Span]]]] = defaultdict(lambda: defaultdict(list))
    surfaces_by_first: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    words_of: dict[str, Words] = {}
    for doc in docs:
        words = words_of[doc.id] = Words(doc.text)
        for span in doc.spans:
            idx = words.span_words(span)
            if idx is None:
                continue
            surface = tuple(words.lower[idx[0]:idx[1] + 1])
            key = (" ".join(surface), words.before(span.start), words.after(span.end))
            labelled[key][span.label].append((doc, span))
            surfaces_by_first[surface[0]].add(surface)
    out: list[Finding] = []
    for (surface, before, after), by_label in sorted(labelled.items()):
        if len(by_label) < 2:
            continue
        counts = {label: len(v) for label, v in sorted(by_label.items(), key=lambda kv: -len(kv[1]))}
        majority = next(iter(counts))
        for label, members in by_label.items():
            if label == majority:
                continue
            for doc, span in members:
                others = {lab: sorted({d.id for d, _ in m}) for lab, m in by_label.items() if lab != label}
                out.append(Finding("label-conflict", doc.id, span.start, span.end, doc.text[span.start:span.end], label,
                                   f"{label} here; between {before!r} and {after!r} also " + ", ".join(f"{lab} x{counts[lab]}" for lab in others),
                                   context_of(doc.text, span.start, span.end), details={"counts": counts, "docs": others}))
    # plain occurrences of labelled strings
    for doc in docs:
        words = words_of[doc.id]
        ranges = covered(doc.spans)
        for i, first in enumerate(words.lower):
            for surface in surfaces_by_first.get(first, ()):
                j = i + len(surface) - 1
                if j >= len(words.lower) or tuple(words.lower[i:j + 1]) != surface:
                    continue
                start, end = words.offsets[i][0], words.offsets[j][1]
                if inside_any(start, end, ranges) or (len(surface) == 1 and surface[0] in PRONOUNS):
                    continue  # pronouns are spans by role only (T1, D10): attribution-no-cue covers them
                if in_apposition(doc, words, i) and words.lower_at(j + 1) not in POSSESSIVE:
                    continue  # "Zabihullah Mujahid, a spokesman for ...": a description, no span (G9); a possessor still is one
                key = (" ".join(surface), words.lower_at(i - 1), words.lower_at(j + 1))
                by_label = labelled.get(key)
                if not by_label:
                    continue
                counts = {label: len(v) for label, v in by_label.items()}
                docs_of = {label: sorted({d.id for d, _ in v}) for label, v in by_label.items()}
                out.append(Finding("unlabelled-occurrence", doc.id, start, end, doc.text[start:end], None,
                                   f"plain here; between {key[1]!r} and {key[2]!r} a span elsewhere: " + ", ".join(f"{lab} x{n}" for lab, n in counts.items()),
                                   context_of(doc.text, start, end), details={"counts": counts, "docs": docs_of}))
    return out
