"""Pairwise span agreement: table-driven cases over short news sentences."""

from __future__ import annotations

import random

import pytest

from conflict_spans.corpus.agreement import format_agreement, pairwise_agreement
from conflict_spans.document import Document, Span
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABEL_NAMES

TEXT = "Rebels killed 12 people in Goma, the army said."
#       0123456789012345678901234567890123456789012345678
REBELS = Span(0, 6, "ACTOR")
TWELVE = Span(14, 23, "CASUALTY", "killed")
TWELVE_INJ = Span(14, 23, "CASUALTY", "injured")
TWELVE_SHORT = Span(14, 16, "CASUALTY", "killed")  # "12"
GOMA = Span(27, 31, "LOCATION")
GOMA_AS_ACTOR = Span(27, 31, "ACTOR")
ARMY = Span(37, 41, "ATTRIBUTION")
THE_ARMY = Span(33, 41, "ATTRIBUTION")  # "the army": overlaps ARMY


def doc(*spans: Span, doc_id: str = "d1", text: str = TEXT) -> Document:
    return Document(doc_id, text, list(spans), {})


def test_spans_point_at_the_words_they_name():
    assert [TEXT[s.start:s.end] for s in (REBELS, TWELVE, TWELVE_SHORT, GOMA, ARMY, THE_ARMY)] == \
        ["Rebels", "12 people", "12", "Goma", "army", "the army"]


# (case, spans A, spans B, micro strict (agree, n_a, n_b, P, R, F1), micro overlap (agree_a, agree_b, P, R, F1))
CASES = [
    ("identical", [REBELS, TWELVE, GOMA, ARMY], [REBELS, TWELVE, GOMA, ARMY], (4, 4, 4, 1.0, 1.0, 1.0), (4, 4, 1.0, 1.0, 1.0)),
    ("boundary differs: overlap only", [REBELS, ARMY], [REBELS, THE_ARMY], (1, 2, 2, 0.5, 0.5, 0.5), (2, 2, 1.0, 1.0, 1.0)),
    ("label differs: no match either way", [GOMA], [GOMA_AS_ACTOR], (0, 1, 1, 0.0, 0.0, 0.0), (0, 0, 0.0, 0.0, 0.0)),
    ("A misses one", [REBELS], [REBELS, GOMA], (1, 1, 2, 1.0, 0.5, 2 / 3), (1, 1, 1.0, 0.5, 2 / 3)),
    ("B misses one", [REBELS, GOMA], [REBELS], (1, 2, 1, 0.5, 1.0, 2 / 3), (1, 1, 0.5, 1.0, 2 / 3)),
    ("status is not part of the span match", [TWELVE], [TWELVE_INJ], (1, 1, 1, 1.0, 1.0, 1.0), (1, 1, 1.0, 1.0, 1.0)),
    ("shorter casualty span", [TWELVE_SHORT], [TWELVE], (0, 1, 1, 0.0, 0.0, 0.0), (1, 1, 1.0, 1.0, 1.0)),
    ("both empty: zero_division", [], [], (0, 0, 0, 0.0, 0.0, 0.0), (0, 0, 0.0, 0.0, 0.0)),
    ("one side empty", [REBELS], [], (0, 1, 0, 0.0, 0.0, 0.0), (0, 0, 0.0, 0.0, 0.0)),
]


@pytest.mark.parametrize("case, a, b, strict, overlap", CASES, ids=[c[0] for c in CASES])
def test_micro_agreement(case, a, b, strict, overlap):
    result = pairwise_agreement([doc(*a)], [doc(*b)])
    s, o = result["micro"]["strict"], result["micro"]["overlap"]
    agree, n_a, n_b, p, r, f1 = strict
    assert (s["agree_a"], s["agree_b"], s["n_a"], s["n_b"]) == (agree, agree, n_a, n_b)
    assert (s["precision"], s["recall"], s["f1"]) == pytest.approx((p, r, f1))
    agree_a, agree_b, p, r, f1 = overlap
    assert (o["agree_a"], o["agree_b"]) == (agree_a, agree_b)
    assert (o["precision"], o["recall"], o["f1"]) == pytest.approx((p, r, f1))


def test_per_label_rows_follow_the_schema():
    result = pairwise_agreement([doc(REBELS, GOMA, ARMY)], [doc(REBELS, GOMA_AS_ACTOR, THE_ARMY)])
    assert list(result["labels"]) == list(LABEL_NAMES)
    actor = result["labels"]["ACTOR"]["strict"]
    assert (actor["agree_a"], actor["n_a"], actor["n_b"]) == (1, 1, 2)
    assert (actor["precision"], actor["recall"]) == pytest.approx((1.0, 0.5))
    location = result["labels"]["LOCATION"]["strict"]
    assert (location["n_a"], location["n_b"], location["f1"]) == (1, 0, 0.0)
    attribution = result["labels"]["ATTRIBUTION"]
    assert attribution["strict"]["f1"] == 0.0 and attribution["overlap"]["f1"] == 1.0
    casualty = result["labels"]["CASUALTY"]["strict"]
    assert (casualty["n_a"], casualty["n_b"], casualty["f1"]) == (0, 0, 0.0)


def test_zero_division_is_explicit():
    result = pairwise_agreement([doc(REBELS)], [doc(REBELS)], zero_division=1.0)
    assert result["labels"]["CASUALTY"]["strict"]["f1"] == 1.0  # nobody marked one: full agreement by convention
    assert result["labels"]["ACTOR"]["strict"]["f1"] == 1.0


def test_one_span_overlapping_two_counts_once_on_each_side():
    text = "Army of the North and South"
    a = [Span(0, 27, "ACTOR")]
    b = [Span(0, 4, "ACTOR"), Span(22, 27, "ACTOR")]
    o = pairwise_agreement([doc(*a, text=text)], [doc(*b, text=text)])["micro"]["overlap"]
    assert (o["agree_a"], o["n_a"], o["agree_b"], o["n_b"]) == (1, 1, 2, 2)


def test_status_agreement_among_strict_casualty_matches():
    result = pairwise_agreement([doc(TWELVE), doc(TWELVE, doc_id="d2")], [doc(TWELVE_INJ), doc(TWELVE, doc_id="d2")])
    assert result["status"] == {"compared": 2, "agree": 1, "agreement": 0.5}


def test_documents_on_one_side_only_are_listed_not_counted():
    result = pairwise_agreement([doc(REBELS), doc(GOMA, doc_id="only-a")], [doc(REBELS), doc(ARMY, doc_id="only-b")])
    assert result["documents"] == 1
    assert (result["only_a"], result["only_b"]) == (["only-a"], ["only-b"])
    assert result["micro"]["strict"]["f1"] == 1.0


@pytest.mark.parametrize("a, b, code", [
    ([doc(REBELS)], [doc(REBELS, text=TEXT + " More.")], "text-mismatch"),
    ([doc(Span(0, 6, "PERSON"))], [doc(REBELS)], "unknown-label"),
    ([doc(REBELS), doc(GOMA)], [doc(REBELS)], "duplicate-id"),
])
def test_bad_input_is_an_error_naming_the_record(a, b, code):
    with pytest.raises(CorpusError) as err:
        pairwise_agreement(a, b)
    assert err.value.problems[0].code == code
    assert err.value.problems[0].record == "d1"


def test_swapping_sides_swaps_precision_and_recall():
    rng = random.Random(7)
    words = [(i * 5, i * 5 + 4) for i in range(20)]
    text = " ".join(["word"] * 20)
    for _ in range(50):
        def sample():
            return [Span(s, e, rng.choice(LABEL_NAMES)) for s, e in rng.sample(words, rng.randint(0, 8))]
        a, b = doc(*sample(), text=text), doc(*sample(), text=text)
        ab, ba = pairwise_agreement([a], [b]), pairwise_agreement([b], [a])
        for view in ("strict", "overlap"):
            x, y = ab["micro"][view], ba["micro"][view]
            assert (x["precision"], x["recall"]) == pytest.approx((y["recall"], y["precision"]))
            assert x["f1"] == pytest.approx(y["f1"])


def test_format_agreement_has_a_row_per_label_and_micro():
    table = format_agreement(pairwise_agreement([doc(REBELS, ARMY)], [doc(REBELS, THE_ARMY)]), title="A vs B")
    lines = table.splitlines()
    assert lines[0] == "A vs B"
    for name in (*LABEL_NAMES, "micro"):
        assert any(line.startswith(name) for line in lines), name
    micro = next(line for line in lines if line.startswith("micro"))
    assert "0.500" in micro and "1.000" in micro
