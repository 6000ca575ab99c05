"""Documents -> model windows (input ids, casing ids, IOB2 label ids).

A document longer than the model's maximum length is cut into overlapping
windows (``stride`` tokens shared between neighbours) so that no token is
lost. The cutting is done here, from one encoding of the whole text, so it
does not depend on a tokenizer release's overflow behaviour. Only the first piece of each word carries a label; other pieces and
special tokens get ``-100``. Words come from the tokenizer's ``word_ids()``
and their character extents from the offset mapping (see ``align``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conflict_spans.align import IGNORE_INDEX, Misaligned, Word, spans_to_word_tags, words_from_encoding
from conflict_spans.document import Document
from conflict_spans.model.casing import casing_ids
from conflict_spans.schema import LABEL2ID


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


def special_token_template(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens a tokenizer puts before and after one sequence (``[CLS]`` / ``[SEP]``, ``<s>`` / ``</s>``)."""
    probe = tokenizer("a", return_special_tokens_mask=True)
    mask = probe["special_tokens_mask"]
    content = [i for i, m in enumerate(mask) if not m]
    ids = list(probe["input_ids"])
    return ids[: content[0]], ids[content[-1] + 1:]


def window_bounds(n_tokens: int, content_length: int, stride: int, *, full_last: bool = False) -> list[tuple[int, int]]:
    """Start/end token indices of overlapping windows covering ``n_tokens`` (at least one window).

    With ``full_last`` (prediction) the last window is moved back to hold
    ``content_length`` tokens like the others, so the words at the end of a long
    document are read with a full window of context before them rather than
    with as little as ``stride`` tokens. Training windows keep the plain grid.
    """
    if n_tokens <= content_length:
        return [(0, n_tokens)]
    step = max(1, content_length - stride)
    bounds, start = [], 0
    while True:
        end = min(start + content_length, n_tokens)
        if end == n_tokens and full_last:
            start = n_tokens - content_length  # > the previous window's start, which did not reach the end
        bounds.append((start, end))
        if end == n_tokens:
            return bounds
        start += step


def encode_document(tokenizer: Any, doc: Document, *, max_length: int, stride: int, with_labels: bool = True,
                    full_last: bool = False) -> EncodedDocument:
    # One encoding of the whole text, cut into windows here rather than by the
    # tokenizer's overflow mechanism, whose behaviour differs between releases.
    # ``full_last``: see window_bounds (prediction and evaluation windows; training keeps the plain grid).
    full = tokenizer(doc.text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    full_ids = list(full["input_ids"])
    full_offsets = [tuple(o) for o in full["offset_mapping"]]
    full_word_ids = list(full.word_ids())
    words = words_from_encoding(full_offsets, full_word_ids)
    starts = {word.index: word.start for word in words}
    prefix, suffix = special_token_template(tokenizer)
    content_length = max(1, max_length - len(prefix) - len(suffix))
    with_types = "token_type_ids" in getattr(tokenizer, "model_input_names", ())
    raw_windows = []
    for start, end in window_bounds(len(full_ids), content_length, stride, full_last=full_last):
        ids = prefix + full_ids[start:end] + suffix
        offsets = [(0, 0)] * len(prefix) + full_offsets[start:end] + [(0, 0)] * len(suffix)
        word_ids = [None] * len(prefix) + full_word_ids[start:end] + [None] * len(suffix)
        raw_windows.append((ids, offsets, word_ids))
    tag_of_word: dict[int, str] = {}
    word_tags = None
    misaligned: list[Misaligned] = []
    if with_labels:
        word_tags, misaligned = spans_to_word_tags(doc.text, doc.spans, words, doc.id)
        tag_of_word = {word.index: tag for word, tag in zip(words, word_tags)}
    windows = []
    for ids, offsets, word_ids in raw_windows:
        labels = []
        for (s, e), wid in zip(offsets, word_ids):
            first_piece = wid is not None and e > s and s == starts.get(wid)
            labels.append(LABEL2ID[tag_of_word[wid]] if (with_labels and first_piece) else IGNORE_INDEX)
        windows.append(Window(
            input_ids=ids,
            attention_mask=[1] * len(ids),
            casing_ids=casing_ids(doc.text, offsets, word_ids),
            labels=labels,
            offsets=offsets,
            word_ids=word_ids,
            token_type_ids=[0] * len(ids) if with_types else None,
        ))
    return EncodedDocument(doc, windows, words, word_tags, misaligned)


def _first_pieces(encoded: EncodedDocument):
    """``(word id, window, position, centrality)`` for every window position that holds a word's first piece, in
    window order; centrality is the distance to the nearer window edge."""
    starts = {w.index: w.start for w in encoded.words}
    for wi, window in enumerate(encoded.windows):
        last = len(window.input_ids) - 1
        for pos, ((s, e), wid) in enumerate(zip(window.offsets, window.word_ids)):
            if wid is not None and e > s and s == starts.get(wid):
                yield wid, wi, pos, min(pos, last - pos)


def first_piece_positions(encoded: EncodedDocument) -> dict[int, list[tuple[int, int, float]]]:
    """For each word id: (window, position, centrality) of every window holding its first piece.

    Centrality is the distance to the nearer window edge; merging picks the most
    central occurrence (earliest window on ties), so results are deterministic.
    """
    out: dict[int, list[tuple[int, int, float]]] = {}
    for wid, wi, pos, centrality in _first_pieces(encoded):
        out.setdefault(wid, []).append((wi, pos, centrality))
    return out


def central_positions(encoded: EncodedDocument) -> dict[int, tuple[int, int]]:
    """For each word id, ``(window, position)`` of the occurrence :func:`first_piece_positions` ranks first: the most
    central, the earliest window on ties (one pass, keeping only the best)."""
    best: dict[int, tuple[int, int, int]] = {}  # word id -> (centrality, window, position)
    for wid, wi, pos, centrality in _first_pieces(encoded):
        if wid not in best or centrality > best[wid][0]:
            best[wid] = (centrality, wi, pos)
    return {wid: (wi, pos) for wid, (_, wi, pos) in best.items()}
