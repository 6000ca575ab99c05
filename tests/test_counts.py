"""Casualty counts: every row of the table on its own examples, the bounds on generated phrases,
every CASUALTY span of the bundled corpus, and the committed annotation/COUNTS.md."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conflict_spans.corpus.io import read_documents
from conflict_spans.records.counts import CONTEXT_WORDS, FIGURES, RULE, RULES, Count, counts_table_markdown, normalise

from conftest import REPO_ROOT

COMMITTED_TABLE = REPO_ROOT / "annotation" / "COUNTS.md"
PROPERTY_SETTINGS = settings(max_examples=1000, deadline=None)


# ---- the table ----------------------------------------------------------------------------------

@pytest.mark.parametrize("rule_id, text, low, best, high, point",
                         [pytest.param(rule.id, *example, id=f"{rule.id}: {example[0]}") for rule in RULES for example in rule.examples])
def test_each_row_reads_its_examples(rule_id, text, low, best, high, point):
    count = normalise(text)
    assert (count.rule, count.low, count.best, count.high, count.point) == (rule_id, low, best, high, point)
    assert count.qualifier == RULE[rule_id].qualifier


def test_every_row_is_well_formed():
    assert len(RULE) == len(RULES), "two rows share an id"
    for rule in RULES:
        assert rule.examples, f"{rule.id} has no example"
        assert {rule.low, rule.best, rule.high, rule.point} <= set(FIGURES), rule.id
        assert (rule.value is None) == (not rule.words), f"{rule.id}: vague words need a value, and only they"
    cues = [c for rule in RULES for c in rule.cues + rule.words]
    assert len(cues) == len(set(cues)), "a cue word selects two rows"


def test_the_committed_table_is_the_generated_one():
    assert COMMITTED_TABLE.read_text(encoding="utf-8") == counts_table_markdown(), \
        "annotation/COUNTS.md drifted from RULES: run `python -m conflict_spans.records.counts > annotation/COUNTS.md`"


def test_a_count_with_bounds_out_of_order_is_refused():
    with pytest.raises(ValueError, match="low <= best <= high"):
        Count(low=50, best=40, high=None, qualifier="exact", point=40, rule="exact")


def test_a_count_is_a_row():
    assert normalise("at least 12 civilians").to_dict() == {"low": 12, "best": 12, "high": None, "qualifier": "at-least",
                                                           "point": 12, "rule": "at-least"}


# ---- generated phrases --------------------------------------------------------------------------

WRITTEN = {"one": 1, "two": 2, "three": 3, "eleven": 11, "twenty-three": 23, "Fifty-one": 51, "ninety nine": 99,
           "one hundred and twenty": 120, "two thousand five hundred": 2500, "a dozen": 12, "two dozen": 24, "a hundred": 100}
VAGUE = [w for rule in RULES for w in rule.words]
CUES = [c for rule in RULES for c in rule.cues]
NOUNS = ["", " people", " civilians", " of the wounded", " dead", " soldiers and police", " more", " of the 22", " children"]


def _digits(n: int, style: str) -> str:
    return {"plain": str(n), "comma": f"{n:,}", "space": f"{n:,}".replace(",", " "), "dot": f"{n:,}".replace(",", ".")}[style]


numbers = st.one_of(
    st.builds(_digits, st.integers(0, 10**7), st.sampled_from(["plain", "comma", "space", "dot"])),
    st.sampled_from(sorted(WRITTEN)),
    st.sampled_from(VAGUE),
)
phrases = st.builds(
    lambda context, cue, first, join, upper_cue, second, noun: f"{context}{cue}{first}{join + upper_cue + second if join else ''}{noun}",
    st.sampled_from(["", "including ", "rose to ", "the "]),
    st.sampled_from([""] + [c + " " for c in CUES]),
    numbers,
    st.sampled_from(["", "", " to ", "-", " and ", " or ", "–"]),
    st.sampled_from(["", "", "more than ", "about ", "nearly "]),
    numbers,
    st.sampled_from(NOUNS),
)


@PROPERTY_SETTINGS
@given(phrases)
def test_bounds_are_in_order_on_generated_phrases(text):
    count = normalise(text)
    bounds = [v for v in (count.low, count.best, count.high) if v is not None]
    assert bounds == sorted(bounds), (text, count)
    assert count.rule in RULE and count.qualifier == RULE[count.rule].qualifier
    assert (count.best is None) == (count.point is None) == (count.rule == "no-number"), (text, count)


@PROPERTY_SETTINGS
@given(st.integers(0, 10**9), st.sampled_from(["plain", "comma", "space", "dot"]), st.sampled_from(NOUNS))
def test_a_stated_number_is_read_back_in_any_separator_style(n, style, noun):
    count = normalise(_digits(n, style) + noun)
    assert (count.rule, count.low, count.best, count.high) == ("exact", n, n, n)


@PROPERTY_SETTINGS
@given(st.integers(0, 10**6), st.sampled_from(CUES), st.sampled_from(NOUNS))
def test_a_qualified_number_keeps_the_number_as_best(n, cue, noun):
    count = normalise(f"{cue} {n:,}{noun}")
    assert count.best == n and count.point == n, (cue, count)


@PROPERTY_SETTINGS
@given(st.text())
def test_any_text_gives_a_count(text):
    assert isinstance(normalise(text), Count)


@pytest.mark.parametrize("text", [f"{w} 12 people" for w in CONTEXT_WORDS])
def test_context_words_before_the_count_are_skipped(text):
    assert normalise(text).best == 12


# ---- the bundled corpus -------------------------------------------------------------------------

def test_every_casualty_span_of_the_corpus_is_read():
    documents = read_documents(REPO_ROOT / "corpus" / "data")
    texts = [s.text_in(d.text) for d in documents for s in d.spans if s.label == "CASUALTY"]
    assert texts
    counts = [normalise(t) for t in texts]  # no span raises
    unread = sorted({t for t, c in zip(texts, counts) if c.best is None})
    assert not [t for t in unread if re.search(r"\d", t)], "a span with digits was not read"
    assert all(c.rule == "no-number" for c in counts if c.best is None)
