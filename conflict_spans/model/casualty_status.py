"""A CASUALTY span's ``status`` (killed | injured) from the words around it.

The tagger predicts the four labels; the status attribute is read off the
nearest outcome cue in the same sentence (spec C5: the verb carries it). This
is a transparent rule. The evaluation scores it on the CASUALTY spans a system
predicts at gold offsets (``bootstrap_status_accuracy`` in
``conflict_spans/evaluation/bootstrap.py``): ``report.json`` (each system's
``status``), the "CASUALTY status" table of ``report.md`` and the model card.
"""

from __future__ import annotations

import re

KILLED = re.compile(r"\b(kill\w*|dead|death\w*|died|die|dies|dying|bod(y|ies)|fatalit\w*|lives|massacre\w*|executed|slain|perish\w*)\b", re.I)
INJURED = re.compile(r"\b(wound\w*|injur\w*|hurt|casualt\w*|maimed|hospitali[sz]ed|treated)\b", re.I)
SENTENCE_END = re.compile(r"[.!?\n]")


def guess_status(text: str, start: int, end: int) -> str:
    left_bound = max((m.end() for m in SENTENCE_END.finditer(text, 0, start)), default=0)
    right = SENTENCE_END.search(text, end)
    right_bound = right.start() if right else len(text)
    best: tuple[int, str] | None = None
    for pattern, status in ((KILLED, "killed"), (INJURED, "injured")):
        for m in pattern.finditer(text, left_bound, right_bound):
            distance = m.start() - end if m.start() >= end else start - m.end()
            # a cue after the count ("12 people were killed") is the usual case: prefer it slightly
            weight = distance if m.start() >= end else distance + 8
            if best is None or weight < best[0]:
                best = (weight, status)
    return best[1] if best else "killed"
