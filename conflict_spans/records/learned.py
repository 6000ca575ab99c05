"""The learned linker: a pairwise logistic-regression classifier per relation type, and a place ranker.

Sources, perpetrators, sub-counts and restatements are decided pair by pair.
Places are chosen per figure by ``records.places.PlaceRanker``: one of the
document's places (with those listed beside it) or none, since K7 gives a
figure the place of its event; its candidates carry the pair features below
and ``places.PLACE_FEATURES``.

For each CASUALTY span and each span a link of the type may end at (within a
window of sentences, or the dateline; for places the whole document, since K7
carries an event's place across it), ``pair_features`` describes the pair:
where the two sit (same sentence, previous sentence, paragraph, distance,
how many candidates lie between, whether the tail is the nearest one; for
places also how many sentences back, whether the previous figure has it, how
often it is named, whether its sentence tells of harm), the
words between them (saying verbs, harm words, "of", "by", "in"), the kind of
tail (dateline, headline, pronoun, a speaker's or a hospital's place), the
dependency parse (``records.syntax``: the tail hangs from the harm through a
preposition, is its subject or "by" agent, or says the figure) and the rule
linker's own answer. The weights are trained on the train split's gold
links (``conflict-spans train-linker``) and shipped as package data
(``resources/linker.json``), with the validation scores that decided, per
relation type, whether the learned linker or the rule linker is the default
(``CombinedLinker`` serves each type from its winner).

Training is plain batch gradient descent from zero weights (Adam for the
place ranker): deterministic, seconds on a CPU, and readable
(``conflict-spans train-linker`` prints the largest weights of each type).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conflict_spans.document import Document, Relation, Span
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.records.linker import (CUMULATIVE, HARM, SAYING, SUBCOUNT, SUBCOUNT_AFTER, TREATMENT_PLACE, Context, RuleLinker, allowed_tails,
                                           is_pronoun)
from conflict_spans.records.places import NONE_FEATURES, PLACE_FEATURES, PlaceRanker, fit_ranker, none_features, place_rows
from conflict_spans.schema import GROUPING_RELATION, RELATION_BY_NAME, RELATION_NAMES

FEATURES: tuple[str, ...] = (
    "bias", "rule", "rule_other", "same_sentence", "previous_sentence", "earlier_sentence", "later_sentence", "same_paragraph",
    "tail_before", "log_distance", "nearest_in_sentence", "nearest", "rank", "same_label_between", "casualty_between",
    "dateline", "tail_headline", "head_headline", "saying_between", "harm_between", "of_before_tail", "by_before_tail",
    "in_before_tail", "speaker_place", "treatment_place", "pronoun", "same_best", "same_status", "subcount_cue", "same_words",
    "harm_after_tail", "harm_in_head_sentence", "head_sentence_has_label", "first_in_sentence", "rule_and_same_sentence",
    "harm_place", "same_qualifier", "syntax_attached", "syntax_agent", "syntax_sayer", "syntax_near",
    "previous_figure_tail", "sentences_back", "mentions", "harm_in_tail_sentence", "cumulative", "first_place",
)
# sentences before (and after) the head's sentence in which a tail is a candidate
WINDOW_BEFORE = {"source": 1, "location": 10_000, "perpetrator": 1, "part_of": 8, "restates": 10_000}  # K1.2, K7.1, K3.2
WINDOW_AFTER = {"source": 0, "location": 10_000, "perpetrator": 0, "part_of": 0, "restates": 0}  # K7.6: a headline figure's place comes later
THRESHOLD = 0.5
DEFAULT_WEIGHTS = "linker.json"
# the types decided pair by pair; a figure's places are chosen together by the place ranker (records.places)
PAIRWISE: tuple[str, ...] = tuple(t for t in RELATION_NAMES if t != "location")
CANDIDATE_FEATURES: tuple[str, ...] = FEATURES + PLACE_FEATURES


def candidates(ctx: Context, head: Span, type_: str) -> list[Span]:
    k = ctx.sent_of[head]
    lo, hi = k - WINDOW_BEFORE[type_], k + WINDOW_AFTER[type_]
    dateline = ctx.dateline_for(head) if type_ == "location" else None
    return [s for s in allowed_tails(ctx, head, type_) if (lo <= ctx.sent_of[s] <= hi or s == dateline)
            and not (type_ == "perpetrator" and ctx.weapon_only(s))]  # K3.4: a weapon that names no party is no perpetrator


def pair_features(ctx: Context, head: Span, tail: Span, type_: str, cands: list[Span], rule: set[Relation]) -> list[float]:
    text = ctx.doc.text
    k, j = ctx.sent_of[head], ctx.sent_of[tail]
    lo, hi = sorted((head, tail))
    gap = text[lo.end:hi.start]
    dist = abs((tail.start + tail.end) - (head.start + head.end)) / 2
    in_sentence = [c for c in cands if ctx.sent_of[c] == k]
    by_distance = sorted(cands, key=lambda c: abs((c.start + c.end) - (head.start + head.end)))
    rank = by_distance.index(tail)
    before_tail = text[max(0, tail.start - 12):tail.start]
    rule_links = {r.tail for r in rule if r.head == head and r.type == type_}
    previous = ctx.previous_figure.get(head)
    previous_tails = {r.tail for r in rule if previous is not None and r.head == previous and r.type == type_}
    values = {
        "bias": 1.0,
        "rule": float(tail in rule_links),
        "rule_other": float(bool(rule_links) and tail not in rule_links),
        "same_sentence": float(j == k),
        "previous_sentence": float(j == k - 1),
        "earlier_sentence": float(j < k - 1),
        "later_sentence": float(j > k),
        "same_paragraph": float(ctx.paragraph(tail) == ctx.paragraph(head)),
        "tail_before": float(tail.start < head.start),
        "log_distance": math.log1p(dist) / 5,
        "nearest_in_sentence": float(bool(in_sentence) and tail == min(in_sentence, key=lambda c: abs((c.start + c.end) - (head.start + head.end)))),
        "nearest": float(rank == 0),
        "rank": 1 / (rank + 1),
        "same_label_between": min(3, sum(1 for s in ctx.spans if s.label == tail.label and lo.end <= s.start and s.end <= hi.start)) / 3,
        "casualty_between": min(3, sum(1 for s in ctx.spans if s.label == "CASUALTY" and lo.end <= s.start and s.end <= hi.start)) / 3,
        "dateline": float(tail in ctx.datelines),
        "tail_headline": float(j == 0),
        "head_headline": float(k == 0),
        "saying_between": float(bool(SAYING.search(gap))),
        "harm_between": float(bool(HARM.search(gap))),
        "of_before_tail": float(bool(re.search(r"\bof(?: the)?\s*$", before_tail, re.I))),
        "by_before_tail": float(bool(re.search(r"\bby(?: the)?\s*$", before_tail, re.I))),
        "in_before_tail": float(bool(re.search(r"\b(?:in|at|near|on)(?: the)?\s*$", before_tail, re.I))),
        "speaker_place": float(ctx.is_speaker_place(tail)),
        "treatment_place": float(bool(TREATMENT_PLACE.search(tail.text_in(text)))),
        "pronoun": float(is_pronoun(tail.text_in(text))),
        "same_best": float(tail.label == "CASUALTY" and ctx.counts[tail].best is not None and ctx.counts[tail].best == ctx.counts[head].best),
        "same_status": float(tail.status == head.status),
        "subcount_cue": float(bool(SUBCOUNT.search(gap) or SUBCOUNT_AFTER.match(text[head.end:head.end + 60]))),
        "same_words": float(tail.text_in(text).lower() == head.text_in(text).lower()),
        "harm_after_tail": float(bool(HARM.search(text[tail.end:tail.end + 50]))),
        "harm_in_head_sentence": float(ctx.harm_sentence(k)) if ctx.sents else 0.0,
        "head_sentence_has_label": float(bool(in_sentence)),
        "first_in_sentence": float(tail == min((c for c in cands if ctx.sent_of[c] == j), default=None, key=lambda c: c.start)),
        "rule_and_same_sentence": float(tail in rule_links and j == k),
        "harm_place": float(tail.label == "LOCATION" and ctx.is_harm_place(tail)),
        "same_qualifier": float(tail.label == "CASUALTY" and ctx.counts[tail].qualifier == ctx.counts[head].qualifier),
        "syntax_attached": float(j == k and ctx.syntax.attached(head, tail)),
        "syntax_agent": float(j == k and ctx.syntax.agent(head, tail)),
        "syntax_sayer": float(j == k and ctx.syntax.sayer(head, tail)),
        "syntax_near": 1 / (1 + (ctx.syntax.path_length(head, tail) or 99)) if j == k else 0.0,
        "previous_figure_tail": float(tail in previous_tails),
        "sentences_back": min(10, max(0, k - j)) / 10,
        "mentions": min(5, ctx.mentions[(tail.label, tail.text_in(text).lower())]) / 5,
        "harm_in_tail_sentence": float(ctx.harm_sentence(j)),
        "cumulative": float(bool(CUMULATIVE.search(ctx.sentence_text(k)))),
        "first_place": float(tail.label == "LOCATION" and tail == ctx.first_harm_place),
    }
    return [values[name] for name in FEATURES]


def candidate_rows(ctx: Context, head: Span, cands: list[Span], rule: set[Relation]) -> list[list[float]]:
    """The place ranker's features of each of ``head``'s place candidates: the pair features, then ``PLACE_FEATURES``."""
    places = place_rows(ctx, head, cands, rule)
    return [pair_features(ctx, head, c, "location", cands, rule) + row for c, row in zip(cands, places)]


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


@dataclass
class LearnedLinker:
    """Per pairwise relation type, weights over ``FEATURES``, and the place ranker; ``link(doc)`` as ``RuleLinker.link``."""
    weights: dict[str, list[float]]
    places: PlaceRanker
    info: dict[str, Any]

    name = "learned"

    def score(self, type_: str, feats: list[float]) -> float:
        return _sigmoid(sum(w * x for w, x in zip(self.weights[type_], feats)))

    def link(self, doc: Document, rule: Sequence[Relation] | None = None) -> list[Relation]:
        """``rule``: the rule linker's links of ``doc`` (a feature), when the caller has them already."""
        ctx = Context(doc)
        rule = set(RuleLinker().link(doc) if rule is None else rule)
        out: list[Relation] = []
        first: dict[Span, Span] = {}
        for head in [s for s in ctx.spans if s.label == "CASUALTY"]:
            for type_ in PAIRWISE:
                cands = candidates(ctx, head, type_)
                scored = [(self.score(type_, pair_features(ctx, head, c, type_, cands, rule)), c) for c in cands]
                # the best candidate needs the type's threshold (cross-validated on train); a second one needs
                # THRESHOLD as well, and single-valued types keep the best only
                threshold = self.info.get("thresholds", {}).get(type_, THRESHOLD)
                ranked = sorted(scored, key=lambda pc: (-pc[0], pc[1].start))
                chosen = _decode(ranked, threshold, RELATION_BY_NAME[type_].single)
                for p, c in chosen:
                    if type_ in (GROUPING_RELATION, "part_of"):
                        c = first.get(c, c)  # the first mention of the figure (K5, K6.3)
                    out.append(Relation(head, c, type_, round(p, 6)))
            grouped = [r for r in out if r.head == head and r.type == GROUPING_RELATION]
            first[head] = grouped[0].tail if grouped else head
            out += self.places_of(ctx, head, out, rule)
        return out

    def places_of(self, ctx: Context, head: Span, links: list[Relation], rule: set[Relation]) -> list[Relation]:
        """``head``'s location links: the place ranker's choice; for a sub-count or restatement whose sentence names
        no place of harm, the places of the figure it belongs to or restates (K7.4)."""
        target = next((r.tail for r in links if r.head == head and r.type in ("part_of", GROUPING_RELATION)), None)
        cands = candidates(ctx, head, "location")
        if target is not None and not any(ctx.sent_of[c] == ctx.sent_of[head] and ctx.is_harm_place(c) for c in cands):
            return [Relation(head, r.tail, "location", r.score) for r in links if r.head == target and r.type == "location"]
        rows = candidate_rows(ctx, head, cands, rule)
        return [Relation(head, c, "location", p) for p, c in self.places.choose(ctx, head, cands, rows, rule)]

    def to_json(self) -> str:
        return json.dumps({"features": list(FEATURES), "weights": self.weights, "place_features": list(CANDIDATE_FEATURES),
                           "none_features": list(NONE_FEATURES), "places": {"weights": self.places.weights, "none_weights": self.places.none_weights},
                           "info": self.info}, indent=1) + "\n"

    @classmethod
    def from_file(cls, path: str | Path | None = None, option: str = "--weights") -> "LearnedLinker":
        """Weights written by ``to_json`` (default: the shipped ``resources/linker.json``); a ``CorpusError`` naming the file,
        ``option`` and the fix when the file cannot be read or was trained with other features."""
        if path is None:
            from conflict_spans.resources import resource_path

            path = resource_path(DEFAULT_WEIGHTS)
        fix = "give a file written by `conflict-spans train-linker` with this version, or leave the option out for the shipped weights"
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorpusError(Problem("linker-weights", f"{option} {path}: cannot read the linker weights ({exc})", fix, path=str(path))) from None
        places = raw.get("places") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or not isinstance(places, dict):
            raise CorpusError(Problem("linker-weights", f"{option} {path}: not a linker weights file (no 'places' object)", fix, path=str(path)))
        widths = {t: len(w) if isinstance(w, list) else -1 for t, w in (raw.get("weights") or {}).items()}
        if (raw.get("features") != list(FEATURES) or raw.get("place_features") != list(CANDIDATE_FEATURES)
                or raw.get("none_features") != list(NONE_FEATURES) or widths != dict.fromkeys(PAIRWISE, len(FEATURES))
                or len(places.get("weights") or []) != len(CANDIDATE_FEATURES) or len(places.get("none_weights") or []) != len(NONE_FEATURES)):
            raise CorpusError(Problem("linker-weights", f"{option} {path}: the weights were trained with other features or relation types",
                                      "retrain with `conflict-spans train-linker`, or leave the option out for the shipped weights", path=str(path)))
        return cls(raw["weights"], PlaceRanker(places["weights"], places["none_weights"]), raw.get("info", {}))


def training_pairs(docs: Sequence[Document], type_: str) -> tuple[list[list[float]], list[int]]:
    xs: list[list[float]] = []
    ys: list[int] = []
    for doc in docs:
        if not doc.relations:
            continue  # only documents whose links were annotated
        ctx = Context(doc)
        rule = set(RuleLinker().link(doc))
        gold = {(r.head, r.tail) for r in doc.relations if r.type == type_}
        for head in [s for s in ctx.spans if s.label == "CASUALTY"]:
            cands = candidates(ctx, head, type_)
            for c in cands:
                xs.append(pair_features(ctx, head, c, type_, cands, rule))
                ys.append(int((head, c) in gold))
    return xs, ys


def fit(xs: list[list[float]], ys: list[int], *, epochs: int = 800, rate: float = 0.5, l2: float = 1e-3) -> list[float]:
    """Logistic regression by batch gradient descent from zero weights (deterministic)."""
    import numpy as np

    if not xs:
        return [0.0] * len(FEATURES)
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    w = np.zeros(x.shape[1])
    for _ in range(epochs):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) / len(y) + l2 * w
        w -= rate * grad
    return [round(float(v), 6) for v in w]


FOLDS = 5


def _decode(ranked: list[tuple[float, Span]], threshold: float, single: bool) -> list[tuple[float, Span]]:
    """The best candidate when it reaches ``threshold``; for a multi-valued type, also the others that reach THRESHOLD too."""
    chosen = ranked[:1] if ranked and ranked[0][0] >= threshold else []
    if chosen and not single:
        chosen += [(p, c) for p, c in ranked[1:] if p >= max(threshold, THRESHOLD)]
    return chosen


def _threshold(docs: Sequence[Document], type_: str) -> float:
    """The decision threshold with the best F1 of the decoded links over ``FOLDS``-fold cross-validation on the training documents."""
    single = RELATION_BY_NAME[type_].single
    grid = [i / 20 for i in range(2, 19)]
    tp = dict.fromkeys(grid, 0)
    pred = dict.fromkeys(grid, 0)
    gold_total = 0
    for fold in range(FOLDS):
        held = [d for i, d in enumerate(docs) if i % FOLDS == fold]
        w = fit(*training_pairs([d for i, d in enumerate(docs) if i % FOLDS != fold], type_))
        for doc in held:
            ctx = Context(doc)
            rule = set(RuleLinker().link(doc))
            gold = {(r.head, r.tail) for r in doc.relations if r.type == type_}
            gold_total += len(gold)
            for head in [s for s in ctx.spans if s.label == "CASUALTY"]:
                cands = candidates(ctx, head, type_)
                ranked = sorted(((_sigmoid(sum(a * b for a, b in zip(w, pair_features(ctx, head, c, type_, cands, rule)))), c) for c in cands),
                                key=lambda pc: (-pc[0], pc[1].start))
                for t in grid:
                    chosen = _decode(ranked, t, single)
                    pred[t] += len(chosen)
                    tp[t] += sum(1 for _, c in chosen if (head, c) in gold)
    f1 = {t: 2 * tp[t] / (pred[t] + gold_total) if pred[t] + gold_total else 0.0 for t in grid}
    return max(grid, key=lambda t: (round(f1[t], 9), -abs(t - THRESHOLD)))


def place_choices(docs: Sequence[Document]) -> list[tuple[list[list[float]], list[float], list[bool]]]:
    """Per CASUALTY span of the documents with links: its place candidates' features, its "no place" features and
    which candidates gold links (the place ranker's training data)."""
    items = []
    for doc in docs:
        if not doc.relations:
            continue
        ctx = Context(doc)
        rule = set(RuleLinker().link(doc))
        gold = {(r.head, r.tail) for r in doc.relations if r.type == "location"}
        for head in [s for s in ctx.spans if s.label == "CASUALTY"]:
            cands = candidates(ctx, head, "location")
            items.append((candidate_rows(ctx, head, cands, rule), none_features(ctx, head, cands, rule), [(head, c) in gold for c in cands]))
    return items


def train(docs: Sequence[Document]) -> LearnedLinker:
    annotated = [d for d in docs if d.relations]
    weights = {}
    counts = {}
    thresholds = {}
    for type_ in PAIRWISE:
        xs, ys = training_pairs(annotated, type_)
        weights[type_] = fit(xs, ys)
        thresholds[type_] = _threshold(annotated, type_)
        counts[type_] = {"pairs": len(ys), "links": int(sum(ys))}
    choices = place_choices(annotated)
    places = fit_ranker(choices)
    counts["location"] = {"figures": len(choices), "candidates": sum(len(g) for _, _, g in choices),
                          "links": sum(sum(g) for _, _, g in choices), "no_place": sum(not any(g) for _, _, g in choices)}
    return LearnedLinker(weights, places, {"documents": len(annotated), "pairs": counts, "thresholds": thresholds})


class CombinedLinker:
    """Per relation type, the links of the linker chosen for that type (``info["default_per_type"]``: the one with the
    higher validation F1), so that a learned linker that wins on sources but loses on places serves sources only."""

    name = "combined"

    def __init__(self, learned: LearnedLinker, per_type: dict[str, str]):
        self.learned, self.rule, self.per_type, self.info = learned, RuleLinker(), dict(per_type), learned.info

    def link(self, doc: Document) -> list[Relation]:
        rule = self.rule.link(doc)  # the learned linker's feature too: made once
        out = [r for r in rule if self.per_type.get(r.type, "rule") == "rule"]
        if "learned" in self.per_type.values():
            out += [r for r in self.learned.link(doc, rule) if self.per_type.get(r.type) == "learned"]
        return out


LINKERS = ("auto", "rule", "learned", "combined")


def load_linker(name: str = "auto", weights: str | Path | None = None) -> RuleLinker | LearnedLinker | CombinedLinker:
    """``rule``, ``learned``, ``combined`` (per type, the one that scored higher on validation), or ``auto``: the one the
    shipped weights' validation scores chose."""
    if name == "rule":
        return RuleLinker()
    learned = LearnedLinker.from_file(weights)
    chosen = learned.info.get("default", "rule") if name == "auto" else name
    if chosen == "learned":
        return learned
    if chosen == "combined":
        return CombinedLinker(learned, learned.info.get("default_per_type") or dict.fromkeys(RELATION_NAMES, "rule"))
    return RuleLinker()


def choose_default(learned: LearnedLinker, validation: Sequence[Document]) -> dict[str, Any]:
    """Score both linkers on validation with gold spans. Per relation type the learned linker is chosen only where its F1
    is higher; the default is ``learned`` or ``rule`` when one wins every type, else ``combined`` (that choice per type)."""
    from conflict_spans.records.scoring import link_counts, link_scores

    annotated = [d for d in validation if d.relations or any(s.label == "CASUALTY" for s in d.spans)]
    scores = {}
    for linker in (RuleLinker(), learned):
        scores[linker.name] = link_scores([link_counts(d.relations, linker.link(d)) for d in annotated])
    per_type = {t: "learned" if scores["learned"][t]["f1"] > scores["rule"][t]["f1"] else "rule" for t in RELATION_NAMES}
    default = next(iter(set(per_type.values()))) if len(set(per_type.values())) == 1 else "combined"
    if default == "combined":
        combined = CombinedLinker(learned, per_type)
        scores["combined"] = link_scores([link_counts(d.relations, combined.link(d)) for d in annotated])
    return {"default": default, "default_per_type": per_type, "validation_documents": len(annotated),
            "validation_micro_f1": {name: round(s["micro"]["f1"], 6) for name, s in scores.items()},
            "validation_f1": {name: {t: round(v["f1"], 6) for t, v in s.items()} for name, s in scores.items()}}
