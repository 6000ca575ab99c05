"""The place ranker (records.places): its fit, its choice among a figure's places or none, the places listed with the
chosen one, and the learned linker's K7.4 step (a sub-count without a place of its own takes its total's places)."""

from __future__ import annotations

import math

import pytest

from conflict_spans.document import Document, Relation
from conflict_spans.records.learned import CANDIDATE_FEATURES, LearnedLinker, candidate_rows, candidates
from conflict_spans.records.linker import Context, RuleLinker
from conflict_spans.records.places import NONE_FEATURES, PLACE_FEATURES, PlaceRanker, fit_ranker, listed_with, loss, none_features, place_rows

from support import spans_from_marks


def toy_items():
    """Figures whose gold place is the candidate with feature 0 set; the third figure's gold is "no place",
    which its "no place" feature 1 announces."""
    return [
        ([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0], [True, False]),
        ([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]], [1.0, 0.0], [False, True, False]),
        ([[0.0, 1.0], [0.0, 0.0]], [1.0, 1.0], [False, False]),
    ]


def padded(items, width):
    return [([r + [0.0] * (width - len(r)) for r in rows], nf + [0.0] * (len(NONE_FEATURES) - len(nf)), gold) for rows, nf, gold in items]


def test_fit_is_deterministic_and_lowers_the_loss():
    items = padded(toy_items(), 2)
    ranker = fit_ranker(items)
    assert fit_ranker(items) == ranker
    zero = PlaceRanker([0.0, 0.0], [0.0] * len(NONE_FEATURES))
    assert loss(ranker, items) < loss(zero, items) - 0.5
    assert ranker.weights[0] > ranker.weights[1]  # the gold places' feature weighs for a place
    assert ranker.none_weights[1] > 0  # and the "no place" feature for no place


def test_fit_reaches_the_optimum():
    """The objective is convex: a few more steps do not lower it (Adam has converged)."""
    items = padded(toy_items(), 2)
    assert loss(fit_ranker(items), items) == pytest.approx(loss(fit_ranker(items, steps=4000), items), abs=1e-4)


def test_fit_takes_any_of_several_gold_places():
    """A figure linked to two places: the probability of the gold choice is their sum, so either may win."""
    items = padded([([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [1.0], [True, True, False])], 2)
    ranker = fit_ranker(items)
    assert ranker.weights[0] > ranker.weights[1]


TEXT = ("Gunmen attacked villages around Djaiba and Fataki on Monday, killing 51 people, officials in Bunia said. "
        "Among them were 18 women.")
MARKS = [("Gunmen", "ACTOR"), ("Djaiba", "LOCATION"), ("Fataki", "LOCATION"), ("51 people", "CASUALTY", "killed"),
              ("officials", "ATTRIBUTION"), ("Bunia", "LOCATION"), ("18 women", "CASUALTY", "killed")]


def document() -> tuple[Document, Context]:
    doc = Document("d", TEXT, spans_from_marks(TEXT, MARKS))
    return doc, Context(doc)


def span(ctx: Context, text: str):
    return next(s for s in ctx.spans if s.text_in(ctx.doc.text) == text)


@pytest.mark.parametrize("seed", ["Djaiba", "Fataki"])
def test_a_chosen_place_brings_the_places_listed_with_it(seed):
    doc, ctx = document()
    cands = [s for s in ctx.spans if s.label == "LOCATION"]
    got = listed_with(ctx, cands, span(ctx, seed))
    assert [s.text_in(TEXT) for s in got] == ["Djaiba", "Fataki"]


def ranker_for(weights: dict[str, float], none: dict[str, float]) -> PlaceRanker:
    return PlaceRanker([weights.get(f, 0.0) for f in CANDIDATE_FEATURES], [none.get(f, 0.0) for f in NONE_FEATURES])


def choose(ranker: PlaceRanker, doc: Document, ctx: Context, head_text: str):
    head = span(ctx, head_text)
    rule = set(RuleLinker().link(doc))
    cands = candidates(ctx, head, "location")
    rows = candidate_rows(ctx, head, cands, rule)
    assert all(len(r) == len(CANDIDATE_FEATURES) for r in rows)
    return ranker.choose(ctx, head, cands, rows, rule)


def test_choose_takes_the_best_place_with_its_probability():
    doc, ctx = document()
    # a weight on "in_before_tail" alone: Djaiba ("around"), Fataki ("and") and Bunia ("in") - Bunia scores highest
    chosen = choose(ranker_for({"in_before_tail": 2.0}, {"bias": 0.0}), doc, ctx, "51 people")
    assert [c.text_in(TEXT) for _, c in chosen] == ["Bunia"]
    p = chosen[0][0]
    assert p == pytest.approx(math.exp(2) / (math.exp(2) + 3))  # Bunia against Djaiba, Fataki and "no place", all at 0


def test_choose_gives_no_place_when_that_option_wins():
    doc, ctx = document()
    assert choose(ranker_for({"same_sentence": 1.0}, {"bias": 2.0}), doc, ctx, "51 people") == []


def test_a_place_chosen_in_another_sentence_is_linked_at_its_mention_in_the_figures_sentence():
    """K7.3: the headline's "Aleppo" wins on the weights, and the figure's own sentence names Aleppo too: that mention."""
    text = "Shelling kills 12 in Aleppo\n\nMedics at a hospital in Aleppo said 12 people died."
    doc = Document("d", text, spans_from_marks(text, [("12", "CASUALTY", "killed"), ("Aleppo", "LOCATION"), ("Aleppo", "LOCATION"),
                                                      ("12 people", "CASUALTY", "killed")]))
    ctx = Context(doc)
    ranker = ranker_for({"tail_headline": 5.0}, {})
    chosen = choose(ranker, doc, ctx, "12 people")
    assert [(c.text_in(text), c.start) for _, c in chosen] == [("Aleppo", text.rindex("Aleppo"))]
    # without a mention in its own sentence the chosen one stays
    assert [c.start for _, c in choose(ranker, doc, ctx, "12")] == [text.index("Aleppo")]


def test_a_sub_count_without_a_place_takes_its_totals_places():
    """K7.4 in the learned linker: '18 women' (part of '51 people', no place in its sentence) gets the total's places,
    whatever the ranker would choose; a figure whose sentence names a place of harm is ranked."""
    doc, ctx = document()
    total, sub = span(ctx, "51 people"), span(ctx, "18 women")
    places = [span(ctx, "Djaiba"), span(ctx, "Fataki")]
    links = [Relation(total, p, "location", 0.9) for p in places] + [Relation(sub, total, "part_of", 0.8)]
    linker = LearnedLinker({}, ranker_for({}, {"bias": 5.0}), {})  # the ranker alone would give no place
    rule = set(RuleLinker().link(doc))
    assert linker.places_of(ctx, sub, links, rule) == [Relation(sub, p, "location") for p in places]
    assert linker.places_of(ctx, total, [], rule) == []  # its own sentence names places: the ranker decides


@pytest.mark.parametrize("sentence, period", [
    ("Local rights groups said the death toll for the month so far exceeded 40.", True),
    ("In the first six months of the campaign, more than 600 militants were killed.", True),
    ("The total for the day in the three southernmost provinces was at least ten dead.", True),
    ("Gunmen killed 12 people in the market on Monday.", False),
])
def test_a_toll_over_a_period_or_an_area_is_a_no_place_feature(sentence, period):
    text = "Gunmen attacked the market in Beni. " + sentence
    figure = next(f for f in ("40", "more than 600 militants", "at least ten dead", "12 people") if f in sentence)
    doc = Document("d", text, spans_from_marks(text, [("Beni", "LOCATION"), (figure, "CASUALTY", "killed")]))
    ctx = Context(doc)
    head = span(ctx, figure)
    values = dict(zip(NONE_FEATURES, none_features(ctx, head, candidates(ctx, head, "location"), set())))
    assert values["period_toll"] == float(period)


def test_place_features_are_named_once():
    assert len(set(PLACE_FEATURES)) == len(PLACE_FEATURES) and len(set(CANDIDATE_FEATURES)) == len(CANDIDATE_FEATURES)
    doc, ctx = document()
    head = span(ctx, "51 people")
    rule = set(RuleLinker().link(doc))
    values = dict(zip(PLACE_FEATURES, place_rows(ctx, head, [span(ctx, "Bunia")], rule)[0]))
    assert values["own_harm_place"] == 0.0  # "officials in Bunia said": a speaker's place, not a place of harm
    assert values["latest_place"] == 0.0 and values["paragraphs_apart"] == 0.0
    fataki = dict(zip(PLACE_FEATURES, place_rows(ctx, head, [span(ctx, "Fataki")], rule)[0]))
    assert fataki["own_harm_place"] == 1.0 and fataki["latest_harm_place"] == 1.0
