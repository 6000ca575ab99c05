"""Scoring: hand-computed cases on short news sentences, and differential tests
against seqeval (strict IOB2) and nervaluate 1.2.1 on generated documents."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conflict_spans.align import Word, spans_to_word_tags
from conflict_spans.document import Span
from conflict_spans.evaluation.scoring import (SCHEMES, match_document, nervaluate_scores, overlap_percentage, relabel, strict_scores, word_confusion,
                                               word_labels)
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABEL_NAMES
from conflict_spans.words import word_offsets

from support import spans_from_marks

TEXT = "Houthi drones struck a tanker off Hodeidah, the army said."


GOLD_MARKS = [("Houthi drones", "ACTOR"), ("Hodeidah", "LOCATION"), ("army", "ATTRIBUTION")]
HOUTHI_DRONES, HODEIDAH, ARMY = GOLD_MARKS
GOLD = spans_from_marks(TEXT, GOLD_MARKS)

# (name, predicted spans as (surface, label) in text order, strict (tp, n_pred, n_gold),
#  nervaluate counts per scheme as (correct, incorrect, partial, missed, spurious))
CASES = [
    ("perfect", GOLD_MARKS, (3, 3, 3),
     {"strict": (3, 0, 0, 0, 0), "exact": (3, 0, 0, 0, 0), "partial": (3, 0, 0, 0, 0), "ent_type": (3, 0, 0, 0, 0)}),
    ("wrong label, same offsets", [HOUTHI_DRONES, HODEIDAH, ("army", "ACTOR")], (2, 3, 3),
     {"strict": (2, 1, 0, 0, 0), "exact": (3, 0, 0, 0, 0), "partial": (3, 0, 0, 0, 0), "ent_type": (2, 1, 0, 0, 0)}),
    ("partial overlap, same label", [("drones", "ACTOR"), HODEIDAH, ARMY], (2, 3, 3),
     {"strict": (2, 1, 0, 0, 0), "exact": (2, 1, 0, 0, 0), "partial": (2, 0, 1, 0, 0), "ent_type": (3, 0, 0, 0, 0)}),
    ("partial overlap, wrong label", [("Houthi", "LOCATION"), HODEIDAH, ARMY], (2, 3, 3),
     {"strict": (2, 1, 0, 0, 0), "exact": (2, 1, 0, 0, 0), "partial": (2, 0, 1, 0, 0), "ent_type": (2, 1, 0, 0, 0)}),
    ("missed and spurious", [HOUTHI_DRONES, ("tanker", "ACTOR"), ARMY], (2, 3, 3),
     {"strict": (2, 0, 0, 1, 1), "exact": (2, 0, 0, 1, 1), "partial": (2, 0, 0, 1, 1), "ent_type": (2, 0, 0, 1, 1)}),
    ("nothing predicted", [], (0, 0, 3),
     {"strict": (0, 0, 0, 3, 0), "exact": (0, 0, 0, 3, 0), "partial": (0, 0, 0, 3, 0), "ent_type": (0, 0, 0, 3, 0)}),
    ("one prediction over two gold spans", [("Hodeidah, the army", "LOCATION")], (0, 1, 3),
     {"strict": (0, 1, 0, 2, 0), "exact": (0, 1, 0, 2, 0), "partial": (0, 0, 1, 2, 0), "ent_type": (1, 0, 0, 2, 0)}),
]


@pytest.mark.parametrize("name,marks,strict,schemes", CASES, ids=[c[0] for c in CASES])
def test_hand_computed_cases(name, marks, strict, schemes):
    pred = spans_from_marks(TEXT, marks)
    report = strict_scores([GOLD], [pred], LABEL_NAMES)
    tp, n_pred, n_gold = strict
    assert (report.micro.tp, report.micro.n_pred, report.micro.n_gold) == strict
    assert report.micro.precision == pytest.approx(tp / n_pred if n_pred else 0.0)
    assert report.micro.recall == pytest.approx(tp / n_gold)
    nerv = nervaluate_scores([GOLD], [pred], LABEL_NAMES)
    for scheme, expected in schemes.items():
        c = nerv[scheme].overall
        assert (c.correct, c.incorrect, c.partial, c.missed, c.spurious) == expected, scheme


def test_partial_credit_formula():
    pred = spans_from_marks(TEXT, [("drones", "ACTOR"), HODEIDAH, ARMY])
    partial = nervaluate_scores([GOLD], [pred], LABEL_NAMES)["partial"].overall
    assert partial.precision == pytest.approx(2.5 / 3)
    assert partial.recall == pytest.approx(2.5 / 3)
    strict = nervaluate_scores([GOLD], [pred], LABEL_NAMES)["strict"].overall
    assert strict.precision == pytest.approx(2 / 3)


def test_wrong_label_per_label_rows():
    report = strict_scores([GOLD], [spans_from_marks(TEXT, [HOUTHI_DRONES, HODEIDAH, ("army", "ACTOR")])], LABEL_NAMES)
    assert report.per_label["ACTOR"].to_dict() == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1, "predicted": 2, "tp": 1, "fp": 1, "fn": 0})
    assert report.per_label["ATTRIBUTION"].recall == 0.0
    assert report.per_label["ATTRIBUTION"].precision == 0.0  # zero_division=0, no warning, no NaN
    assert report.per_label["CASUALTY"].n_gold == 0
    assert report.labels_in_use == ("ACTOR", "LOCATION", "ATTRIBUTION")
    assert report.macro()["f1"] == pytest.approx((2 / 3 + 1 + 0) / 3)


@pytest.mark.parametrize("gold,pred", [([], []), ([[]], [[]]), ([[], []], [[], []])])
def test_empty_documents(gold, pred):
    report = strict_scores(gold, pred, LABEL_NAMES)
    assert report.micro.f1 == 0.0 and report.macro() == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    for result in nervaluate_scores(gold, pred, LABEL_NAMES).values():
        assert result.overall.f1 == 0.0 and result.overall.actual == 0


def test_unknown_label_is_an_error():
    with pytest.raises(CorpusError, match="VICTIM"):
        strict_scores([GOLD], [[Span(0, 6, "VICTIM")]], LABEL_NAMES)
    with pytest.raises(CorpusError, match="VICTIM"):
        nervaluate_scores([[Span(0, 6, "VICTIM")]], [[]], LABEL_NAMES)


def test_parallel_lists_required():
    with pytest.raises(ValueError, match="parallel"):
        strict_scores([GOLD], [], LABEL_NAMES)


def test_relabel_maps_drops_and_refuses_unknown():
    mapped = relabel([GOLD], {"ACTOR": "PARTY", "ATTRIBUTION": "PARTY", "LOCATION": "LOCATION", "CASUALTY": None})
    assert [s.label for s in mapped[0]] == ["PARTY", "LOCATION", "PARTY"]
    assert relabel([[Span(0, 6, "CASUALTY", "killed")]], {"CASUALTY": None}) == [[]]
    with pytest.raises(CorpusError, match="mapping file"):
        relabel([GOLD], {"ACTOR": "PARTY"})


def test_overlap_percentage_counts_gold_share():
    gold = Span(10, 20, "ACTOR")
    assert overlap_percentage(Span(15, 30, "ACTOR"), gold) == 50.0
    assert overlap_percentage(Span(20, 30, "ACTOR"), gold) == 0.0  # adjacent, half-open
    counts, _ = match_document([gold], [Span(19, 30, "ACTOR")], "partial", min_overlap_percentage=20.0)
    assert (counts.partial, counts.spurious, counts.missed) == (0, 1, 1)


def test_word_confusion():
    text = "Houthi drones hit Hodeidah"
    gold = [Span(0, 13, "ACTOR"), Span(18, 26, "LOCATION")]
    pred = [Span(7, 13, "ACTOR"), Span(18, 26, "ACTOR")]
    assert word_labels(text, pred) == ["O", "ACTOR", "O", "ACTOR"]
    matrix, axis = word_confusion([text], [gold], [pred], LABEL_NAMES)
    assert axis == (*LABEL_NAMES, "O")
    idx = {label: i for i, label in enumerate(axis)}
    assert matrix[idx["ACTOR"], idx["O"]] == 1
    assert matrix[idx["ACTOR"], idx["ACTOR"]] == 1
    assert matrix[idx["LOCATION"], idx["ACTOR"]] == 1
    assert matrix[idx["O"], idx["O"]] == 1
    assert matrix.sum() == 4


# ---- differential tests ---------------------------------------------------------------

TOKENS = ["the", "army", "shelled", "El", "Fasher", "37", "people", "UN", "said", "Kyiv", "rebels", ",", ".", "—", "’", "Türk"]


@st.composite
def word_spans(draw, n_words: int, flat: bool, max_spans: int = 8) -> list[tuple[int, int, str]]:
    """Spans over word indices [first, last] with labels; flat (no overlap) unless asked otherwise."""
    raw = draw(st.lists(st.tuples(st.integers(0, max(n_words - 1, 0)), st.integers(1, 4), st.sampled_from(LABEL_NAMES)),
                        max_size=max_spans if n_words else 0))
    out: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    for first, length, label in sorted(raw):
        last = min(first + length - 1, n_words - 1)
        if flat and taken & set(range(first, last + 1)):
            continue
        if (first, last, label) in out:
            continue
        taken |= set(range(first, last + 1))
        out.append((first, last, label))
    return out


@st.composite
def perturbed(draw, gold: list[tuple[int, int, str]], n_words: int, flat: bool) -> list[tuple[int, int, str]]:
    """A prediction made from the gold spans: kept, relabelled, moved, grown, shrunk or dropped, plus extra spans."""
    out = []
    for first, last, label in gold:
        action = draw(st.sampled_from(["keep", "keep", "relabel", "start", "end", "drop"]))
        if action == "relabel":
            label = draw(st.sampled_from(LABEL_NAMES))
        elif action == "start":
            first = min(max(0, first + draw(st.integers(-2, 2))), last)
        elif action == "end":
            last = max(min(n_words - 1, last + draw(st.integers(-2, 2))), first)
        if action != "drop":
            out.append((first, last, label))
    out += draw(word_spans(n_words, flat=False, max_spans=3))
    if flat:
        kept, taken = [], set()
        for first, last, label in out:
            if not taken & set(range(first, last + 1)):
                kept.append((first, last, label))
                taken |= set(range(first, last + 1))
        out = kept
    return sorted(set(out))


@st.composite
def documents(draw, flat: bool = True):
    tokens = draw(st.lists(st.sampled_from(TOKENS), max_size=30))
    text = " ".join(tokens)
    words = word_offsets(text)
    gold = draw(word_spans(len(words), flat=True))
    pred = draw(perturbed(gold, len(words), flat))

    def to_chars(spans):
        return [Span(words[f][0], words[l][1], label) for f, l, label in spans]

    return text, words, to_chars(gold), to_chars(pred)


CORPORA = st.lists(documents(), min_size=2, max_size=8)  # 150 examples: at least 300 documents per run
DIFF_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def iob2(text, words, spans):
    tags, misaligned = spans_to_word_tags(text, spans, [Word(i, s, e, ()) for i, (s, e) in enumerate(words)])
    assert not misaligned
    return tags


@DIFF_SETTINGS
@given(CORPORA)
def test_strict_equals_seqeval(corpus):
    """At least 300 generated documents per run; per-label, micro and macro P/R/F1 agree with seqeval's strict IOB2 mode."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    y_true = [iob2(text, words, gold) for text, words, gold, _ in corpus]
    y_pred = [iob2(text, words, pred) for text, words, _, pred in corpus]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # seqeval averages an empty list when there are no entities
        reference = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    ours = strict_scores([g for *_, g, _ in corpus], [p for *_, p in corpus], LABEL_NAMES)
    for label in LABEL_NAMES:
        if label in reference:
            assert ours.per_label[label].precision == pytest.approx(reference[label]["precision"])
            assert ours.per_label[label].recall == pytest.approx(reference[label]["recall"])
            assert ours.per_label[label].f1 == pytest.approx(reference[label]["f1-score"])
            assert ours.per_label[label].n_gold == reference[label]["support"]
        else:
            assert label not in ours.labels_in_use
    for key in ("precision", "recall"):
        assert getattr(ours.micro, key) == pytest.approx(reference["micro avg"][key])
    assert ours.micro.f1 == pytest.approx(reference["micro avg"]["f1-score"])
    macro = reference["macro avg"]
    if math.isnan(macro["f1-score"]):
        assert ours.macro()["f1"] == 0.0 and not ours.labels_in_use
    else:
        assert ours.macro()["precision"] == pytest.approx(macro["precision"])
        assert ours.macro()["recall"] == pytest.approx(macro["recall"])
        assert ours.macro()["f1"] == pytest.approx(macro["f1-score"])


def _nervaluate(gold_docs, pred_docs, min_overlap):
    from nervaluate import Evaluator

    def to_dicts(docs):  # nervaluate counts inclusive ends
        return [[{"label": s.label, "start": s.start, "end": s.end - 1} for s in sorted(doc)] for doc in docs]

    return Evaluator(to_dicts(gold_docs), to_dicts(pred_docs), tags=list(LABEL_NAMES), loader="dict",
                     min_overlap_percentage=min_overlap).evaluate()


def _assert_counts_equal(ours, theirs):
    for name in ("correct", "incorrect", "partial", "missed", "spurious", "actual", "possible"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.precision == pytest.approx(theirs.precision)
    assert ours.recall == pytest.approx(theirs.recall)
    assert ours.f1 == pytest.approx(theirs.f1)


@DIFF_SETTINGS
@given(st.lists(documents(flat=False), min_size=2, max_size=8), st.sampled_from([1.0, 30.0, 50.0, 100.0]))
def test_schemes_equal_nervaluate(corpus, min_overlap):
    """Overall and per-label counts of the four schemes, and which spans they fall on, agree with nervaluate 1.2.1."""
    gold_docs = [g for *_, g, _ in corpus]
    pred_docs = [p for *_, p in corpus]
    reference = _nervaluate(gold_docs, pred_docs, min_overlap)
    ours = nervaluate_scores(gold_docs, pred_docs, LABEL_NAMES, min_overlap_percentage=min_overlap)
    for scheme in SCHEMES:
        _assert_counts_equal(ours[scheme].overall, reference["overall"][scheme])
        for label in LABEL_NAMES:
            if label in reference["entities"]:
                _assert_counts_equal(ours[scheme].per_label[label], reference["entities"][label][scheme])
            else:
                assert ours[scheme].per_label[label].actual == ours[scheme].per_label[label].possible == 0
        indices = reference["overall_indices"][scheme]
        for category in ("correct", "incorrect", "partial", "spurious", "missed"):
            theirs = sorted(getattr(indices, f"{category}_indices"))
            side = gold_docs if category == "missed" else pred_docs
            mine = sorted((o.doc, sorted(side[o.doc]).index(o.span)) for o in ours[scheme].outcomes if o.category == category)
            assert mine == theirs, (scheme, category)


def random_corpus(seed: int, n_docs: int) -> list[tuple[str, list, list[Span], list[Span]]]:
    """Seeded documents in the manner of the hypothesis strategies, for one large comparison."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n_docs):
        text = " ".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 40)))
        words = word_offsets(text)
        taken: set[int] = set()
        gold = []
        for _ in range(rng.randint(0, 8) if words else 0):
            first = rng.randrange(len(words))
            last = min(first + rng.randint(0, 3), len(words) - 1)
            if not taken & set(range(first, last + 1)):
                taken |= set(range(first, last + 1))
                gold.append(Span(words[first][0], words[last][1], rng.choice(LABEL_NAMES)))
        pred = []
        for span in gold:
            roll = rng.random()
            if roll < 0.5:
                pred.append(span)
            elif roll < 0.65:
                pred.append(Span(span.start, span.end, rng.choice(LABEL_NAMES)))
            elif roll < 0.85:
                ends = [e for s, e in words if e >= span.start + 1]
                pred.append(Span(span.start, rng.choice(ends[:4]), span.label))
        if words and rng.random() < 0.3:
            first = rng.randrange(len(words))
            pred.append(Span(words[first][0], words[first][1], rng.choice(LABEL_NAMES)))
        out.append((text, words, gold, sorted(set(pred))))
    return out


def test_bulk_seeded_comparison():
    """1,000 seeded documents at once: nervaluate's overall counts and seqeval's micro F1 on a large corpus."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    corpus = random_corpus(seed=2024, n_docs=1000)
    gold_docs, pred_docs = [c[2] for c in corpus], [c[3] for c in corpus]
    reference = _nervaluate(gold_docs, pred_docs, 1.0)
    ours = nervaluate_scores(gold_docs, pred_docs, LABEL_NAMES)
    for scheme in SCHEMES:
        _assert_counts_equal(ours[scheme].overall, reference["overall"][scheme])
    flat = [(t, w, g, p) for t, w, g, p in corpus if not any(b.start < a.end for a, b in zip(p, p[1:]))]
    report = classification_report([iob2(t, w, g) for t, w, g, _ in flat], [iob2(t, w, p) for t, w, _, p in flat],
                                   mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    mine = strict_scores([g for _, _, g, _ in flat], [p for *_, p in flat], LABEL_NAMES)
    assert len(flat) > 750
    assert mine.micro.f1 == pytest.approx(report["micro avg"]["f1-score"])
    assert mine.macro()["f1"] == pytest.approx(report["macro avg"]["f1-score"])
