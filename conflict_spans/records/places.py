"""The place ranker: for each casualty figure, one place of the document (with the places listed beside it) or none.

Location links are decided per figure, not per pair: K7 gives a figure the
place of its event, so the question is *which* of the document's places that
is, if any. The ranker scores every LOCATION candidate of a figure and one
"no place" option, and takes a softmax over them (a conditional logit, as in
discrete-choice models; listwise ranking in the learning-to-rank sense). It
picks the highest; a place brings the places listed with it in its sentence
("around [Djaiba] and [Fataki]", "the [Komanda]–[Luna] road") and their
bracketed forms (K2.3, K6.2); a place chosen in another sentence is linked at
its mention in the figure's own sentence, if it has one (K7.3). A sub-count or
restatement whose own sentence names no place of harm then takes the places
chosen for its figure (K7.4).

A candidate's features are the pair features of ``records.learned`` (with the
rule linker's answer among them) and ``PLACE_FEATURES``: what lies between
the place and the figure (other places, other places of harm, time stamps of
a live blog, paragraphs), whether it is the latest place, or the latest place
of harm, before the figure, the chain it sits in ("[Dara] district,
[Panjshir]": the narrower or the wider), whether its name is in the headline,
and a superlative before it ("the worst attack in [Kashmir] since ...": a
comparison, not the place). The "no place" option has ``NONE_FEATURES``, among them a toll
over a whole war or country, or over a period or an area rather than one event (K7.5).

Training maximises the probability of the gold choice: the sum of the
softmax over the figure's gold places, or the "no place" option when gold
has none. It is convex; ``fit_ranker`` runs full-batch Adam from zero weights for a
fixed number of steps, so it is deterministic and takes seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from conflict_spans.document import Relation, Span
from conflict_spans.records.linker import CUMULATIVE, Context, _chained

PLACE_FEATURES: tuple[str, ...] = (
    "other_places_between", "other_harm_place_between", "latest_place", "latest_harm_place", "time_stamps_between",
    "figure_in_tail_sentence", "superlative_before", "paragraphs_apart", "named_in_headline", "total_has_place",
    "first_figure_place", "narrower_in_chain", "wider_in_chain", "rule_same_name", "rule_has_place", "own_harm_place",
)
NONE_FEATURES: tuple[str, ...] = ("bias", "own_harm_place", "cumulative", "rule_none", "head_headline", "no_place_before", "candidates",
                                  "period_toll")
# a toll over a period or an area rather than one event (K7.5): "in the period", "for the month so far",
# "in the first six months"
PERIOD_TOLL = re.compile(r"\b(?:in the (?:same )?period|for the (?:day|week|month|year)|so far|cumulative|in the war|in the fighting|"
                         r"in the (?:first|past|last) (?:[\w-]+ )?(?:days|weeks|months|years)|(?:toll|total) (?:since|for)|"
                         r"across the (?:[\w-]+ )?(?:areas|country|region|provinces)|"
                         r"over the (?:past|last) (?:[\w-]+ )?(?:days|weeks|months))\b", re.I)
L2 = 1e-3
STEPS = 1500
# a live blog's time stamp, a numbered paragraph or a list item at the start of a line
STAMP = re.compile(r"(?m)^\s*(?:\d{1,2}[:.]\d{2}|\d+\.|[-•*])\s")
SUPERLATIVE = re.compile(r"\b(?:worst|deadliest|bloodiest|biggest|largest|first|since)\b", re.I)


def place_rows(ctx: Context, head: Span, cands: Sequence[Span], rule: Collection[Relation]) -> list[list[float]]:
    """``PLACE_FEATURES`` of each candidate place in ``cands`` of the figure ``head`` (``rule``: the rule linker's links).
    What depends on the figure alone is worked out once, not once per candidate."""
    text = ctx.doc.text
    places = ctx.places
    index = {p: i for i, p in enumerate(places)}
    k = ctx.sent_of[head]
    before = [s for s in places if s.start < head.start and ctx.is_harm_place(s)]
    harm_before = [s for s in before if ctx.harm_sentence(ctx.sent_of[s])]
    latest, latest_harm = (before[-1] if before else None), (harm_before[-1] if harm_before else None)
    rule_names = {r.tail.text_in(text).lower() for r in rule if r.head == head and r.type == "location"}
    totals = sorted(r.tail for r in rule if r.head == head and r.type in ("part_of", "restates"))
    total_places = {r.tail for r in rule if totals and r.head == totals[0] and r.type == "location"}
    first_figure = next((s for s in ctx.spans if s.label == "CASUALTY"), None)
    first_figure_places = {r.tail for r in rule if r.head == first_figure and r.type == "location"}
    headline_names = {s.text_in(text).lower() for s in places if ctx.sent_of[s] == 0}
    figure_sentences = {ctx.sent_of[s] for s in ctx.spans if s.label == "CASUALTY"}
    rows = []
    for tail in cands:
        name = tail.text_in(text).lower()
        i = index[tail]
        lo, hi = sorted((tail, head))
        between = [s for s in places if lo.end <= s.start and s.end <= hi.start and ctx.is_harm_place(s)]
        values = {
            "other_places_between": min(3, len({s.text_in(text).lower() for s in between} - {name})) / 3,
            "other_harm_place_between": float(bool({s.text_in(text).lower() for s in between if ctx.harm_sentence(ctx.sent_of[s])} - {name})),
            "latest_place": float(tail == latest),
            "latest_harm_place": float(tail == latest_harm),
            "time_stamps_between": min(3, len(STAMP.findall(text[lo.end:hi.start]))) / 3,
            "figure_in_tail_sentence": float(ctx.sent_of[tail] in figure_sentences),
            "superlative_before": float(bool(SUPERLATIVE.search(text[max(0, tail.start - 60):tail.start]))),
            "paragraphs_apart": min(5, abs(ctx.paragraph(head) - ctx.paragraph(tail))) / 5,
            "named_in_headline": float(name in headline_names),
            "total_has_place": float(tail in total_places),
            "first_figure_place": float(tail in first_figure_places),
            "narrower_in_chain": float(i + 1 < len(places) and ctx.sent_of[places[i + 1]] == ctx.sent_of[tail]
                                       and _chained(ctx.between(tail, places[i + 1]))),
            "wider_in_chain": float(i > 0 and ctx.sent_of[places[i - 1]] == ctx.sent_of[tail] and _chained(ctx.between(places[i - 1], tail))),
            "rule_same_name": float(name in rule_names),
            "rule_has_place": float(bool(rule_names)),
            "own_harm_place": float(ctx.sent_of[tail] == k and ctx.is_harm_place(tail)),
        }
        rows.append([values[f] for f in PLACE_FEATURES])
    return rows


def none_features(ctx: Context, head: Span, cands: Sequence[Span], rule: Collection[Relation]) -> list[float]:
    """``NONE_FEATURES`` of the "no place" option of ``head``."""
    k = ctx.sent_of[head]
    values = {
        "bias": 1.0,
        "own_harm_place": float(any(ctx.sent_of[c] == k and ctx.is_harm_place(c) for c in cands)),
        "cumulative": float(bool(CUMULATIVE.search(ctx.sentence_text(k)))),
        "rule_none": float(not any(r.head == head and r.type == "location" for r in rule)),
        "head_headline": float(k == 0),
        "no_place_before": float(not any(c.start < head.start for c in cands)),
        "candidates": min(len(cands), 20) / 20,
        "period_toll": float(bool(PERIOD_TOLL.search(ctx.sentence_text(k)))),
    }
    return [values[f] for f in NONE_FEATURES]


def listed_with(ctx: Context, cands: Sequence[Span], seed: Span) -> list[Span]:
    """``seed`` and the places listed beside it in its sentence (``Context.place_group``: "Djaiba and Fataki" for either),
    or the most specific place of the chain it ends ("Dara district, Panjshir")."""
    same = [c for c in cands if ctx.sent_of[c] == ctx.sent_of[seed]]
    return ctx.place_group(same, seed)


@dataclass
class PlaceRanker:
    """Weights over the candidate features (the pair features, then ``PLACE_FEATURES``) and over ``NONE_FEATURES``."""
    weights: list[float]
    none_weights: list[float]

    def choose(self, ctx: Context, head: Span, cands: Sequence[Span], rows: Sequence[Sequence[float]],
               rule: Collection[Relation]) -> list[tuple[float, Span]]:
        """The chosen places with their softmax probability (the listed ones share the chosen place's), or []."""
        if not cands:
            return []
        scores = [sum(w * x for w, x in zip(self.weights, row)) for row in rows]
        none = sum(w * x for w, x in zip(self.none_weights, none_features(ctx, head, cands, rule)))
        top = max(range(len(cands)), key=lambda i: (scores[i], -cands[i].start))
        if none >= scores[top]:
            return []
        peak = max(none, scores[top])
        z = math.exp(none - peak) + sum(math.exp(s - peak) for s in scores)
        p = round(math.exp(scores[top] - peak) / z, 6)
        chosen = cands[top]
        k, text = ctx.sent_of[head], ctx.doc.text
        if ctx.sent_of[chosen] != k:  # K7.3: the mention of that place in the figure's own sentence, if it has one
            own = [i for i, c in enumerate(cands) if ctx.sent_of[c] == k and c.text_in(text).lower() == chosen.text_in(text).lower()]
            if own:
                chosen = cands[max(own, key=lambda i: (scores[i], -cands[i].start))]
        return [(p, c) for c in listed_with(ctx, cands, chosen)]


def fit_ranker(items: Sequence[tuple[list[list[float]], list[float], list[bool]]], *, l2: float = L2, steps: int = STEPS) -> PlaceRanker:
    """Weights that maximise the mean log-probability of each figure's gold choice, by full-batch Adam from zero.

    ``items``: per figure, its candidates' feature rows, its "no place" features, and which candidates gold links
    (none: the "no place" option is the gold choice)."""
    import numpy as np

    rows = [r for x, _, _ in items for r in x]
    width = len(rows[0]) if rows else 0
    x = np.asarray(rows, dtype=np.float64).reshape(len(rows), width)
    seg = np.repeat(np.arange(len(items)), [len(c) for c, _, _ in items])
    y = np.asarray([g for _, _, gold in items for g in gold], dtype=bool)
    n = np.asarray([nf for _, nf, _ in items], dtype=np.float64).reshape(len(items), len(NONE_FEATURES))
    y_none = np.asarray([not any(gold) for _, _, gold in items], dtype=bool)
    theta = np.zeros(width + n.shape[1])
    m1, m2 = np.zeros_like(theta), np.zeros_like(theta)
    rate, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        w, v = theta[:width], theta[width:]
        s, sn = x @ w, n @ v
        peak = sn.copy()
        np.maximum.at(peak, seg, s)
        e, en = np.exp(s - peak[seg]), np.exp(sn - peak)
        z = en + np.bincount(seg, e, minlength=len(items))
        p, pn = e / z[seg], en / z
        gold_p = np.bincount(seg, p * y, minlength=len(items)) + pn * y_none
        gs = p - np.where(y, p / gold_p[seg], 0.0)
        gn = pn - np.where(y_none, pn / gold_p, 0.0)
        grad = np.concatenate([x.T @ gs, n.T @ gn]) / len(items) + 2 * l2 * theta
        m1 = b1 * m1 + (1 - b1) * grad
        m2 = b2 * m2 + (1 - b2) * grad * grad
        theta -= rate * (m1 / (1 - b1 ** step)) / (np.sqrt(m2 / (1 - b2 ** step)) + eps)
    return PlaceRanker([round(float(t), 6) for t in theta[:width]], [round(float(t), 6) for t in theta[width:]])


def loss(ranker: PlaceRanker, items: Sequence[tuple[list[list[float]], list[float], list[bool]]], l2: float = L2) -> float:
    """The objective ``fit_ranker`` minimises (for tests and for checking convergence)."""
    total = 0.0
    for rows, nf, gold in items:
        scores = [sum(w * x for w, x in zip(ranker.weights, r)) for r in rows]
        none = sum(w * x for w, x in zip(ranker.none_weights, nf))
        peak = max([none, *scores])
        z = math.exp(none - peak) + sum(math.exp(s - peak) for s in scores)
        chosen = sum(math.exp(s - peak) for s, g in zip(scores, gold) if g) if any(gold) else math.exp(none - peak)
        total -= math.log(max(chosen / z, 1e-300))
    theta = ranker.weights + ranker.none_weights
    return total / max(1, len(items)) + l2 * sum(t * t for t in theta)
