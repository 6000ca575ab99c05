"""Documents -> model windows (conflict_spans.model.windows) with the real MiniLM tokenizer.

The random-text properties are in test_align_property.py; these are the
worked cases and the bundled corpus.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conflict_spans.align import IGNORE_INDEX, align_corpus
from conflict_spans.corpus.build import load_splits
from conflict_spans.document import Document, Span
from conflict_spans.model.casing import N_CASING_IDS, PAD_CASING_ID
from conflict_spans.model.windows import encode_document, first_piece_positions, model_max_length, special_token_template, window_bounds
from conflict_spans.schema import ID2LABEL, LABEL2ID

from conftest import REPO_ROOT

TEXT = "Shelling hit Zaporizhzhia overnight, the governor said."
DOC = Document("enc-1", TEXT, [Span(13, 25, "LOCATION"), Span(41, 49, "ATTRIBUTION")])


@pytest.fixture(scope="module")
def tok(minilm_tokenizer):
    return minilm_tokenizer


@pytest.mark.parametrize("n_tokens, content_length, stride, expected", [
    (5, 10, 2, [(0, 5)]),
    (10, 10, 2, [(0, 10)]),
    (11, 10, 2, [(0, 10), (8, 11)]),
    (20, 8, 4, [(0, 8), (4, 12), (8, 16), (12, 20)]),
    (0, 8, 4, [(0, 0)]),
    (9, 4, 4, [(0, 4), (1, 5), (2, 6), (3, 7), (4, 8), (5, 9)]),  # stride >= length still advances
])
def test_window_bounds(n_tokens, content_length, stride, expected):
    assert window_bounds(n_tokens, content_length, stride) == expected


def test_special_token_template_of_bert_is_cls_and_sep(tok):
    assert special_token_template(tok) == ([tok.cls_token_id], [tok.sep_token_id])


def test_model_max_length_takes_the_smallest_limit(tok):
    assert model_max_length(tok) == 512
    assert model_max_length(tok, cap=128) == 128
    assert model_max_length(tok, SimpleNamespace(model_type="bert", max_position_embeddings=256)) == 256
    assert model_max_length(tok, SimpleNamespace(model_type="roberta", max_position_embeddings=514)) == 512


def test_a_short_document_is_one_window_with_labels_on_first_pieces_only(tok):
    encoded = encode_document(tok, DOC, max_length=64, stride=8)
    (window,) = encoded.windows
    tokens = tok.convert_ids_to_tokens(window.input_ids)
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    tagged = [(t, ID2LABEL[label]) for t, label in zip(tokens, window.labels) if label != IGNORE_INDEX]
    assert tagged == [("shell", "O"), ("hit", "O"), ("za", "B-LOCATION"), ("overnight", "O"), (",", "O"), ("the", "O"),
                      ("governor", "B-ATTRIBUTION"), ("said", "O"), (".", "O")]
    assert window.labels[tokens.index("##por")] == IGNORE_INDEX
    assert window.attention_mask == [1] * len(window.input_ids) and window.token_type_ids == [0] * len(window.input_ids)
    assert len(window.casing_ids) == len(window.input_ids)
    assert window.casing_ids[0] == window.casing_ids[-1] == PAD_CASING_ID
    assert all(0 <= c < N_CASING_IDS for c in window.casing_ids)
    assert set(window.features()) == {"input_ids", "attention_mask", "casing_ids", "labels", "token_type_ids"}
    assert encoded.word_tags == ["O", "O", "B-LOCATION", "O", "O", "O", "B-ATTRIBUTION", "O", "O"]
    assert encoded.misaligned == []


def test_a_long_document_is_cut_into_windows_that_overlap_by_the_stride(tok):
    full = tok(TEXT, add_special_tokens=False)["input_ids"]
    encoded = encode_document(tok, DOC, max_length=8, stride=2)
    contents = [w.input_ids[1:-1] for w in encoded.windows]
    assert all(len(w.input_ids) <= 8 for w in encoded.windows)
    assert contents[0] == full[:6] and contents[1][:2] == full[4:6]
    rebuilt = contents[0] + [t for c in contents[1:] for t in c[2:]]
    assert rebuilt == full, "every token is in a window, in order"


def test_a_word_split_across_windows_is_labelled_once_at_its_first_piece(tok):
    encoded = encode_document(tok, DOC, max_length=6, stride=1)
    location_word = next(w for w, t in zip(encoded.words, encoded.word_tags) if t == "B-LOCATION")
    labelled = [(wi, pos) for wi, w in enumerate(encoded.windows) for pos, (wid, label) in enumerate(zip(w.word_ids, w.labels))
                if wid == location_word.index and label != IGNORE_INDEX]
    assert len(labelled) >= 1
    assert all(encoded.windows[wi].labels[pos] == LABEL2ID["B-LOCATION"] for wi, pos in labelled)
    assert all(encoded.windows[wi].offsets[pos][0] == location_word.start for wi, pos in labelled)


def test_first_piece_positions_prefer_the_most_central_window(tok):
    encoded = encode_document(tok, DOC, max_length=8, stride=4)
    positions = first_piece_positions(encoded)
    assert set(positions) == {w.index for w in encoded.words}
    for occurrences in positions.values():
        for wi, pos, centrality in occurrences:
            length = len(encoded.windows[wi].input_ids)
            assert centrality == min(pos, length - 1 - pos) and 0 < pos < length - 1


def test_without_labels_every_position_is_ignored(tok):
    encoded = encode_document(tok, DOC, max_length=16, stride=4, with_labels=False)
    assert encoded.word_tags is None and encoded.misaligned == []
    assert all(label == IGNORE_INDEX for w in encoded.windows for label in w.labels)


def test_a_span_the_tokenizer_cannot_carry_is_reported_with_the_record(tok):
    text = "Drones hit Odesa🚨 at dawn, officials said."
    doc = Document("enc-emoji", text, [Span(11, 16, "LOCATION"), Span(27, 36, "ATTRIBUTION")])
    encoded = encode_document(tok, doc, max_length=16, stride=4)
    assert [(m.doc_id, m.text, m.reason) for m in encoded.misaligned] == [("enc-emoji", "Odesa", "end is not a token end")]
    assert "B-ATTRIBUTION" in encoded.word_tags


# ---- the bundled corpus -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_docs():
    return [d for docs in load_splits(REPO_ROOT / "corpus" / "data").values() for d in docs]


def test_every_span_of_the_bundled_corpus_aligns_with_the_tokenizer(tok, corpus_docs):
    report = align_corpus(tok, corpus_docs)
    assert report.ok, report.summary() + "\n" + "\n".join(m.format() for m in report.misaligned[:20])
    assert report.total_spans == sum(len(d.spans) for d in corpus_docs)


def test_bundled_corpus_encodes_without_loss_at_training_length(tok, corpus_docs):
    for doc in corpus_docs[::5]:
        encoded = encode_document(tok, doc, max_length=128, stride=32)
        assert encoded.misaligned == []
        assert sum(t.startswith("B-") for t in encoded.word_tags) == len(doc.spans), doc.id
