"""Alignment with the real tokenizer, as property tests over random multilingual texts.

Texts are sequences of words (Latin with precomposed and combining accents,
Arabic with harakat, CJK, Cyrillic, Devanagari with its vowel signs and virama,
Greek, Hebrew, several digit systems, emoji and other symbols) separated by
spaces, CRLF and punctuation. Spans cover runs of whole words that start and end
with a letter/digit word, which is what ``conflict-spans validate`` accepts.
Two paths must carry every span back exactly: word tags
(``words_from_encoding`` -> ``spans_to_word_tags`` -> ``word_tags_to_spans``) and
model windows (``encoding.encode_document`` at a small ``max_length`` ->
one-hot log-probabilities from the window labels -> ``Predictor.decode``).
A span the tokenizer cannot carry is reported by count and record id, never
turned into ``O``.
"""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conflict_spans.align import (IGNORE_INDEX, AlignmentReport, Word, align_corpus, explain_alignment, spans_to_word_tags, word_tags_to_spans,
                                  words_from_encoding)
from conflict_spans.document import Document, Span, check_spans
from conflict_spans.model.windows import encode_document
from conflict_spans.schema import ID2LABEL, LABEL_NAMES, LABELS_WITH_STATUS, OUTSIDE, STATUS_VALUES, TAGS

from support import spans_from_marks

PROPERTY_SETTINGS = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _chars(first: int, last: int) -> list[str]:
    return [chr(c) for c in range(first, last + 1) if unicodedata.category(chr(c))[0] in "LN" and not 0xD800 <= c <= 0xDFFF]


# (base characters, combining marks that may follow a base character)
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "latin": (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") + list("éñüøłçÅßĳİŒœ"), ["\u0301", "\u0303", "\u0308", "\u0327"]),
    "arabic": (_chars(0x0621, 0x063A) + _chars(0x0641, 0x064A), [chr(c) for c in range(0x064B, 0x0653)]),
    "cjk": (_chars(0x4E00, 0x4FFF) + _chars(0x6C00, 0x6CFF), []),
    "cyrillic": (_chars(0x0400, 0x044F), ["\u0301"]),
    "devanagari": (_chars(0x0915, 0x0939), [chr(c) for c in range(0x093E, 0x094E)]),
    "greek": (_chars(0x0391, 0x03A9) + _chars(0x03B1, 0x03C9), ["\u0301"]),
    "hebrew": (_chars(0x05D0, 0x05EA), [chr(c) for c in range(0x05B0, 0x05BD)]),
    "digits": (list("0123456789") + _chars(0x0660, 0x0669) + _chars(0x0966, 0x096F), []),
    # any letter or number of any script, with any combining mark
    "any": (_chars(0x20, 0x2FFFF), [chr(c) for c in range(0x20, 0x30000) if unicodedata.category(chr(c))[0] == "M"]),
}
# Stand-alone non-word "words": the tokenizer glues a symbol to an adjacent letter,
# so the generator always puts whitespace around them.
SYMBOLS = ["😀", "👍🏽", "🇺🇦", "👨\u200d👩\u200d👧", "❤️", "€", "©", "°", "№", "½"]
SEPARATORS = [" ", " ", " ", "  ", "\r\n", "\r\n\r\n", "\n", "\t", "\u00a0", ", ", ". ", " — ", " (", ") ", " “", "” ",
              "’", "-", "/", "،", "。", "। ", ": ", "'", "!", "?\r\n", " \"", "\" "]
SPACE_SEPARATORS = [" ", "\r\n", " \r\n", "  ", "\n\n", "\t"]


def random_word(rng: random.Random) -> tuple[str, bool]:
    """One word from ``rng``: (text, is a letter/digit word); about one in ten is a symbol."""
    if rng.random() < 0.1:
        return rng.choice(SYMBOLS), False
    bases, marks = SCRIPTS[rng.choice(sorted(SCRIPTS))]
    out = []
    for _ in range(rng.randint(1, 7)):
        out.append(rng.choice(bases))
        if marks and rng.random() < 0.25:
            out.append(rng.choice(marks))
    return "".join(out), True


SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def documents(draw, *, max_words: int = 40) -> Document:
    """A text of words and separators with random word-aligned, non-overlapping spans.

    Each word (with the separator before it) comes from one drawn seed and each
    span from another, which keeps 2,000 examples fast; hypothesis still shrinks
    a failure to fewer words and spans.
    """
    n_words = draw(st.integers(1, max_words))
    items = [(random.Random(seed), *random_word(random.Random(seed))) for seed in draw(st.lists(SEEDS, min_size=n_words, max_size=n_words))]
    parts: list[str] = []
    extents: list[tuple[int, int]] = []
    pos = 0
    edges = random.Random(draw(SEEDS))
    if edges.random() < 0.5:
        parts.append(edges.choice(SEPARATORS))
        pos += len(parts[-1])
    line_break_before: set[int] = set()  # words after a separator with a line break: no span crosses it (spec G10)
    for k, (rng, piece, is_word) in enumerate(items):
        if k:
            symbol_near = not (is_word and items[k - 1][2])
            parts.append(rng.choice(SPACE_SEPARATORS if symbol_near else SEPARATORS))
            pos += len(parts[-1])
            if "\n" in parts[-1] or "\r" in parts[-1]:
                line_break_before.add(k)
        parts.append(piece)
        extents.append((pos, pos + len(piece)))
        pos += len(piece)
    if edges.random() < 0.5:
        parts.append(edges.choice(SEPARATORS))
    text = "".join(parts)

    content = [k for k, (_, _, is_word) in enumerate(items) if is_word]
    spans: list[Span] = []
    taken: set[int] = set()
    n_spans = draw(st.integers(0, min(8, len(content))))
    for seed in draw(st.lists(SEEDS, min_size=n_spans, max_size=n_spans)):
        rng = random.Random(seed)
        first = rng.choice(content)
        last = rng.choice([k for k in content if first <= k <= first + 5 and not line_break_before & set(range(first + 1, k + 1))])
        if taken & set(range(first, last + 1)):
            continue
        taken |= set(range(first, last + 1))
        label = rng.choice(LABEL_NAMES)
        status = rng.choice(STATUS_VALUES) if label in LABELS_WITH_STATUS else None
        spans.append(Span(extents[first][0], extents[last][1], label, status))
    return Document("prop-doc", text, sorted(spans), {})


def doc_with(doc_id: str, text: str, marks: list[tuple[str, str]]) -> Document:
    """A document whose spans are given by surface text, found left to right."""
    return Document(doc_id, text, spans_from_marks(text, [(s, label, "killed" if label in LABELS_WITH_STATUS else None) for s, label in marks]))


def triples(spans) -> list[tuple[int, int, str]]:
    return sorted((s.start, s.end, s.label) for s in spans)


@pytest.fixture(scope="module")
def tok(minilm_tokenizer):
    return minilm_tokenizer


@pytest.fixture(scope="module")
def predictor(minilm_tokenizer):
    """A Predictor whose model is never called: decode() is fed one-hot log-probs."""
    import torch

    from conflict_spans.model.predict import Predictor

    return Predictor(torch.nn.Linear(1, 1), minilm_tokenizer, max_length=32, stride=8)


def one_hot_log_probs(labels: list[int]) -> np.ndarray:
    """0 at the gold tag and -10 elsewhere; rows without a label (-100) are uniform."""
    out = np.full((len(labels), len(TAGS)), -10.0)
    for i, label in enumerate(labels):
        if label == IGNORE_INDEX:
            out[i] = np.log(1 / len(TAGS))
        else:
            out[i, label] = 0.0
    return out


# ---- the generator itself produces what validate accepts ---------------------------

@settings(max_examples=200, deadline=None)
@given(doc=documents())
def test_generated_documents_pass_the_span_checks(doc):
    assert check_spans(doc) == []


# ---- spans -> word tags -> spans, and spans -> windows -> decode -> spans ------------

def assert_word_tag_round_trip(tok, doc: Document) -> None:
    enc = tok(doc.text, return_offsets_mapping=True)
    words = words_from_encoding(enc["offset_mapping"], enc.word_ids())
    tags, misaligned = spans_to_word_tags(doc.text, doc.spans, words, doc.id)
    assert misaligned == [], [m.format() for m in misaligned]
    assert sum(t.startswith("B-") for t in tags) == len(doc.spans)
    assert triples(word_tags_to_spans(doc.text, tags, words)) == triples(doc.spans), "word-tag path"


def assert_window_round_trip(tok, predictor, doc: Document, max_length: int, stride: int) -> None:
    encoded = encode_document(tok, doc, max_length=max_length, stride=stride)
    assert encoded.misaligned == [], [m.format() for m in encoded.misaligned]
    tag_of_word = {w.index: t for w, t in zip(encoded.words, encoded.word_tags)}
    for window in encoded.windows:
        assert len(window.input_ids) <= max_length
        assert len(window.labels) == len(window.input_ids) == len(window.offsets) == len(window.word_ids)
        for label, wid in zip(window.labels, window.word_ids):
            if wid is None:
                assert label == IGNORE_INDEX
            elif label != IGNORE_INDEX:
                assert ID2LABEL[label] == tag_of_word[wid]
    window_lp = [one_hot_log_probs(w.labels) for w in encoded.windows]
    assert triples(predictor.decode(encoded, window_lp)) == triples(doc.spans), "window/decode path"


# One test runs both paths on each generated document: generation is most of the
# cost, and 2,000 documents per run are the point.
@PROPERTY_SETTINGS
@given(doc=documents(), max_length=st.integers(16, 32), stride=st.integers(4, 8))
@example(doc=Document("ex", "Cafe\u0301 attack in Ivano-Frankivsk\r\nनमस्ते दुनिया",
                      [Span(0, 5, "LOCATION"), Span(16, 31, "LOCATION"), Span(33, 46, "ACTOR")]), max_length=16, stride=4)
@example(doc=Document("ex", "北京市 😀 مرحبا بالعالم, Привет", [Span(0, 3, "LOCATION"), Span(6, 19, "ACTOR")]), max_length=16, stride=8)
def test_spans_round_trip_exactly_through_word_tags_and_windows(tok, predictor, doc, max_length, stride):
    assert_word_tag_round_trip(tok, doc)
    assert_window_round_trip(tok, predictor, doc, max_length, stride)


@pytest.mark.parametrize("max_length, stride", [(16, 4), (24, 8), (128, 32)])
def test_a_long_document_is_cut_into_overlapping_windows_that_decode_exactly(tok, predictor, max_length, stride):
    text = ("KHARTOUM — Shelling by the Rapid Support Forces (RSF) killed at least 12 civilians in El Fasher "
            "on Sunday, the state health ministry said.\r\n\r\n") * 6
    marks = [("Rapid Support Forces", "ACTOR", None), ("RSF", "ACTOR", None), ("at least 12 civilians", "CASUALTY", "killed"),
             ("El Fasher", "LOCATION", None), ("state health ministry", "ATTRIBUTION", None)]
    doc = Document("long-1", text, spans_from_marks(text, marks * 6))
    assert len(doc.spans) == 30 and doc.spans[-1].start > 5 * len(text) // 6
    encoded = encode_document(tok, doc, max_length=max_length, stride=stride)
    assert len(encoded.windows) > 1
    assert_window_round_trip(tok, predictor, doc, max_length, stride)


# ---- spans the tokenizer cannot carry are reported ---------------------------------

GLUE = "😀"  # not punctuation for BERT, so "abc😀" is one word and one [UNK]


def _is_cjk(ch: str) -> bool:
    """BERT's basic tokenizer makes each of these characters a word of its own."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                                             (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


def _cjk_edge(text: str, pos: int) -> bool:
    """Whether the letter at ``pos`` (or the base under a combining mark there) is CJK."""
    while pos > 0 and unicodedata.category(text[pos])[0] == "M":
        pos -= 1
    return _is_cjk(text[pos])


def glue_symbols(doc: Document, where: list[str | None]) -> tuple[Document, set[tuple[int, int, str]]]:
    """Glue an emoji to the start or end of chosen spans, shifting later offsets.

    ``"abc😀"`` and ``"😀abc"`` are one [UNK] for the tokenizer, so the span
    ``abc`` starts or ends inside a token. A CJK letter is a word of its own for
    BERT, so a span edge on one stays aligned and is not glued.
    """
    text, spans, broken, shift = doc.text, [], set(), 0
    for span, edge in zip(doc.spans, where + [None] * len(doc.spans)):
        start, end = span.start + shift, span.end + shift
        if edge == "end" and not _cjk_edge(doc.text, span.end - 1):
            text = text[:end] + GLUE + text[end:]
            shift += len(GLUE)
            broken.add((start, end, span.label))
        elif edge == "start" and not _cjk_edge(doc.text, span.start):
            text = text[:start] + GLUE + text[start:]
            shift += len(GLUE)
            start, end = start + len(GLUE), end + len(GLUE)
            broken.add((start, end, span.label))
        spans.append(Span(start, end, span.label, span.status))
    return Document(doc.id, text, spans, doc.meta), broken


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(max_words=25), where=st.lists(st.sampled_from([None, "start", "end"]), min_size=8, max_size=8))
def test_spans_glued_to_a_symbol_are_reported_never_silently_outside(tok, doc, where):
    glued, broken = glue_symbols(doc, where)
    assert check_spans(glued) == []  # validate accepts them: the symbol is outside the span
    enc = tok(glued.text, return_offsets_mapping=True)
    words = words_from_encoding(enc["offset_mapping"], enc.word_ids())
    tags, misaligned = spans_to_word_tags(glued.text, glued.spans, words, glued.id)
    assert {(m.span.start, m.span.end, m.span.label) for m in misaligned} == broken
    assert len(misaligned) == len(broken) and all(m.doc_id == glued.id for m in misaligned)
    carried = triples(word_tags_to_spans(glued.text, tags, words))
    assert carried == sorted(set(triples(glued.spans)) - broken)
    encoded = encode_document(tok, glued, max_length=24, stride=6)
    assert {(m.span.start, m.span.end, m.span.label) for m in encoded.misaligned} == broken


def test_alignment_report_counts_and_names_the_documents(tok):
    docs = [
        doc_with("ok-1", "Gunmen killed 12 people in Goma.", [("Gunmen", "ACTOR"), ("12 people", "CASUALTY"), ("Goma", "LOCATION")]),
        doc_with("emoji-1", "Protesters in Kyiv😀 said the army fired.", [("Kyiv", "LOCATION"), ("army", "ACTOR")]),
        doc_with("shy-1", "Shelling hit Zapo\u00adrizhzhia overnight.", [("Zapo", "LOCATION")]),  # soft hyphen: one word for BERT
    ]
    report = align_corpus(tok, docs)
    assert isinstance(report, AlignmentReport) and not report.ok
    assert report.total_spans == 6
    assert [(m.doc_id, m.text) for m in report.misaligned] == [("emoji-1", "Kyiv"), ("shy-1", "Zapo")]
    assert report.summary().startswith("2 of 6 spans misaligned in 2 documents: emoji-1, shy-1")
    message = report.misaligned[0].format()
    assert "'emoji-1'" in message and "'Kyiv'" in message and "[14, 18)" in message and "explain_alignment" in message


def test_explain_alignment_shows_the_token_that_swallows_the_span(tok):
    text = "Protesters in Kyiv😀 said"
    shown = explain_alignment(tok, text, 14, 18)
    assert "'Kyiv'" in shown and "[UNK]" in shown and "[14, 19)" in shown


def test_overlapping_spans_are_reported_by_the_aligner(tok):
    text = "Rapid Support Forces fighters"
    enc = tok(text, return_offsets_mapping=True)
    words = words_from_encoding(enc["offset_mapping"], enc.word_ids())
    spans = [Span(0, 20, "ACTOR"), Span(6, 29, "ACTOR")]
    tags, misaligned = spans_to_word_tags(text, spans, words, "ovl-1")
    assert [m.reason for m in misaligned] == ["overlaps another span"]
    assert tags[:3] == ["B-ACTOR", "I-ACTOR", "I-ACTOR"] and tags[3] == OUTSIDE


@pytest.mark.parametrize("tags, expected", [
    (["B-ACTOR", "I-ACTOR", "O"], [(0, 13, "ACTOR")]),
    (["I-ACTOR", "I-ACTOR", "O"], [(0, 13, "ACTOR")]),  # conlleval: a stray I- opens a span
    (["B-ACTOR", "B-ACTOR", "O"], [(0, 5, "ACTOR"), (6, 13, "ACTOR")]),
    (["B-ACTOR", "I-LOCATION", "I-LOCATION"], [(0, 5, "ACTOR"), (6, 20, "LOCATION")]),
    (["O", "O", "O"], []),
])
def test_word_tags_to_spans_follows_iob2(tags, expected):
    text = "Rapid Support Forces"
    words = [Word(0, 0, 5, ()), Word(1, 6, 13, ()), Word(2, 14, 20, ())]
    assert triples(word_tags_to_spans(text, tags, words)) == expected
