"""Documents -> model windows (input ids, casing ids, IOB2 label ids).

A document longer than the model's maximum length is cut into overlapping
windows (``stride`` tokens shared between neighbours) so that no token is
lost. Only the first piece of each word carries a label; other pieces and
special tokens get ``-100``. Words come from the tokenizer's ``word_ids()``
and their character extents from the offset mapping (see ``align``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .align import IGNORE_INDEX, Misaligned, Word, spans_to_word_tags, words_from_encoding
from .casing import casing_ids
from .document import Document
from .schema import LABEL2ID


@dataclass
class Window:
    input_ids: list[int]
    attention_mask: list[int]
    casing_ids: list[int]
    labels: list[int]
    offsets: list[tuple[int, int]]
    word_ids: list[int | None]
    token_type_ids: list[int] | None = None

    def features(self) -> dict[str, list[int]]:
        out = {"input_ids": self.input_ids, "attention_mask": self.attention_mask, "casing_ids": self.casing_ids, "labels": self.labels}
        if self.token_type_ids is not None:
            out["token_type_ids"] = self.token_type_ids
        return out


@dataclass
class EncodedDocument:
    doc: Document
    windows: list[Window]
    words: list[Word]  # in text order
    word_tags: list[str] | None = None
    misaligned: list[Misaligned] = field(default_factory=list)


def model_max_length(tokenizer: Any, config: Any = None, cap: int = 512) -> int:
    limits = [cap]
    if getattr(tokenizer, "model_max_length", None) and tokenizer.model_max_length < 1_000_000:
        limits.append(int(tokenizer.model_max_length))
    if config is not None and getattr(config, "max_position_embeddings", None):
        limits.append(int(config.max_position_embeddings) - 2 if config.model_type in ("roberta", "xlm-roberta", "camembert") else int(config.max_position_embeddings))
    return min(limits)


def encode_document(tokenizer: Any, doc: Document, *, max_length: int, stride: int, with_labels: bool = True) -> EncodedDocument:
    # Words come from ONE encoding of the whole text: word ids of overflow windows are
    # not global in every transformers release, so window tokens are mapped to words by
    # their character start, which every release reports the same way.
    full = tokenizer(doc.text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    full_offsets = [tuple(o) for o in full["offset_mapping"]]
    words = words_from_encoding(full_offsets, full.word_ids())
    word_of_start = {s: wid for (s, e), wid in zip(full_offsets, full.word_ids()) if wid is not None and e > s}
    starts = {word.index: word.start for word in words}
    enc = tokenizer(doc.text, return_offsets_mapping=True, truncation=True, max_length=max_length,
                    stride=stride, return_overflowing_tokens=True, verbose=False)
    raw_windows = []
    for w in range(len(enc["input_ids"])):
        offsets = [tuple(o) for o in enc["offset_mapping"][w]]
        word_ids = [word_of_start.get(s) if e > s else None for (s, e) in offsets]
        raw_windows.append((w, offsets, word_ids))
    tag_of_word: dict[int, str] = {}
    word_tags = None
    misaligned: list[Misaligned] = []
    if with_labels:
        word_tags, misaligned = spans_to_word_tags(doc.text, doc.spans, words, doc.id)
        tag_of_word = {word.index: tag for word, tag in zip(words, word_tags)}
    windows = []
    for w, offsets, word_ids in raw_windows:
        labels = []
        for (s, e), wid in zip(offsets, word_ids):
            first_piece = wid is not None and e > s and s == starts.get(wid)
            labels.append(LABEL2ID[tag_of_word[wid]] if (with_labels and first_piece) else IGNORE_INDEX)
        windows.append(Window(
            input_ids=list(enc["input_ids"][w]),
            attention_mask=list(enc["attention_mask"][w]),
            casing_ids=casing_ids(doc.text, offsets, word_ids),
            labels=labels,
            offsets=offsets,
            word_ids=word_ids,
            token_type_ids=list(enc["token_type_ids"][w]) if "token_type_ids" in enc else None,
        ))
    return EncodedDocument(doc, windows, words, word_tags, misaligned)


def first_piece_positions(encoded: EncodedDocument) -> dict[int, list[tuple[int, int, float]]]:
    """For each word id: (window, position, centrality) of every window holding its first piece.

    Centrality is the distance to the nearer window edge; merging picks the most
    central occurrence (earliest window on ties), so results are deterministic.
    """
    starts = {w.index: w.start for w in encoded.words}
    out: dict[int, list[tuple[int, int, float]]] = {}
    for wi, window in enumerate(encoded.windows):
        length = len(window.input_ids)
        for pos, ((s, e), wid) in enumerate(zip(window.offsets, window.word_ids)):
            if wid is None or e <= s or s != starts.get(wid):
                continue
            out.setdefault(wid, []).append((wi, pos, min(pos, length - 1 - pos)))
    return out
