"""Load a trained model and turn texts into character spans in the corpus convention.

Decoded spans are made to obey the rules ``validate`` applies to gold spans
(spec G1 edges, G10 no line break, G2 no overlap) by :func:`conform_spans`:
a span is cut at its first line break, trimmed of whitespace, punctuation and
symbols at its edges, and widened to whole words where the tokenizer cut a
word (one CJK character out of a run). A span is dropped only when nothing
valid is left, and every adjustment is counted in ``Predictor.span_fixes``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from conflict_spans import problems as catalogue
from conflict_spans.align import word_tags_to_spans
from conflict_spans.document import LINE_BREAKS, Document, Span, check_spans, ends_with_abbreviation, is_word_char
from conflict_spans.model.casualty_status import guess_status
from conflict_spans.model.decoding import greedy, viterbi
from conflict_spans.model.folders import check_model_folder, read_json_object
from conflict_spans.model.ort import runs_on_onnx
from conflict_spans.model.windows import EncodedDocument, central_positions, encode_document, model_max_length
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import ID2LABEL, OUTSIDE, TAGS

PREDICT_CONFIG = "predict_config.json"
# the span checks of ``validate`` that concern a span's extent (not its label or status)
EXTENT_CHECKS = frozenset({"edge-space", "edge-punct", "word-boundary", "line-break", "overlap"})


# ---- predicted spans obey the corpus's own span rules -------------------------------------------

@dataclass
class SpanFixes:
    """What :func:`conform_spans` did to decoded spans, counted so that nothing is hidden.

    One span can be counted under several adjustments (cut at a line break,
    then trimmed); ``adjusted`` counts each changed or dropped span once.
    """

    spans: int = 0  # decoded spans looked at
    adjusted: int = 0  # spans changed or dropped
    cut: int = 0  # cut at a line break (spec G10)
    trimmed: int = 0  # whitespace, punctuation or a symbol removed from an edge (spec G1)
    widened: int = 0  # extended to a whole word the tokenizer had cut (spec G1 word boundary)
    merged: int = 0  # overlapped another span once widened: merged into it (same label) or the weaker one dropped
    dropped: int = 0  # nothing valid was left

    def add(self, other: "SpanFixes") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def problem(self) -> Problem | None:
        """A warning for the log, or None when no span needed adjusting."""
        if not self.adjusted:
            return None
        return catalogue.predicted_spans_adjusted(self.adjusted, self.spans, cut=self.cut, trimmed=self.trimmed, widened=self.widened,
                                                  merged=self.merged, dropped=self.dropped)


def _extent_problems(text: str, spans: list[Span]) -> list:
    return [p for p in check_spans(Document("", text, spans)) if p.code in EXTENT_CHECKS]


def _can_start(ch: str) -> bool:
    return is_word_char(ch) and unicodedata.category(ch)[0] != "M"


def _fit(text: str, start: int, end: int) -> tuple[int, int, set[str]] | None:
    """``[start, end)`` (no line break inside) trimmed to G1 edges and widened to whole words; None when nothing is left."""
    done: set[str] = set()
    s, e = start, end
    while s < e and not _can_start(text[s]):
        s += 1
    while s < e and not (is_word_char(text[e - 1]) or (text[e - 1] == "." and ends_with_abbreviation(text[s:e]))):
        e -= 1
    if s >= e:
        return None
    if (s, e) != (start, end):
        done.add("trimmed")
    ws, we = s, e
    while s > 0 and is_word_char(text[s - 1]) and is_word_char(text[s]):
        s -= 1
    while e < len(text) and is_word_char(text[e]) and (is_word_char(text[e - 1]) or unicodedata.category(text[e])[0] == "M"):
        e += 1
    if (s, e) != (ws, we):
        done.add("widened")
    return s, e, done


def conform_span(text: str, span: Span) -> tuple[Span | None, set[str]]:
    """``span`` made to pass validate's extent checks, and what was done (``cut``, ``trimmed``, ``widened``, ``dropped``).

    The span is cut at its first line break (spec G10); when the part before it
    has nothing valid, the next line's part is tried, and so on.
    """
    pieces, s = [], span.start
    for i in range(span.start, span.end):
        if text[i] in LINE_BREAKS:
            pieces.append((s, i))
            s = i + 1
    pieces.append((s, span.end))
    done = {"cut"} if len(pieces) > 1 else set()
    for start, end in pieces:
        fitted = _fit(text, start, end) if start < end else None
        if fitted is None:
            continue
        s, e, how = fitted
        candidate = replace(span, start=s, end=e)
        if not _extent_problems(text, [candidate]):
            return candidate, done | how
    return None, done | {"dropped"}


def conform_spans(text: str, spans: Sequence[Span]) -> tuple[list[Span], SpanFixes]:
    """Decoded spans made to pass the checks ``validate`` applies to gold spans (G1, G2, G10), and the count of adjustments."""
    fixes = SpanFixes(spans=len(spans))
    fitted: list[tuple[Span, bool]] = []  # (span, already counted as adjusted)
    for span in sorted(spans):
        new, done = conform_span(text, span)
        for what in done:
            setattr(fixes, what, getattr(fixes, what) + 1)
        fixes.adjusted += bool(done)
        if new is not None:
            fitted.append((new, bool(done)))
    # widening can make two spans share a word: merge them (same label) or keep the stronger one
    out: list[tuple[Span, bool]] = []
    for span, counted in sorted(fitted, key=lambda pair: pair[0]):
        if out and span.start < out[-1][0].end:
            previous, previous_counted = out[-1]
            fixes.merged += 1
            fixes.adjusted += (not counted) + (not previous_counted)
            if previous.label == span.label:
                scores = [x for x in (previous.score, span.score) if x is not None]
                out[-1] = (replace(previous, end=max(previous.end, span.end), score=max(scores) if scores else None), True)
            elif (span.score or 0.0) > (previous.score or 0.0):
                out[-1] = (span, True)
            else:
                out[-1] = (previous, True)
            continue
        out.append((span, counted))
    return [span for span, _ in out], fixes


class Predictor:
    """A token-classification model plus its tokenizer, windowing and decoding settings."""

    def __init__(self, model, tokenizer, *, max_length: int, stride: int, decoding: str = "viterbi",
                 batch_size: int = 16, model_version: str = "model", device: str | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.stride = stride
        self.decoding = decoding
        self.batch_size = batch_size
        self.model_version = model_version
        self.device = device or ("cpu" if getattr(model, "runs_on_numpy", False) else next(model.parameters()).device.type)
        self.span_fixes = SpanFixes()  # every adjustment conform_spans made, over all documents decoded

    # ---- core ------------------------------------------------------------------
    def window_log_probs(self, encoded: Sequence[EncodedDocument]) -> list[list[np.ndarray]]:
        """Log-probabilities ``[tokens, tags]`` for every window of every document."""
        if getattr(self.model, "runs_on_numpy", False):  # an ONNX Runtime network (model/ort.py): numpy in and out, no torch
            return self._window_log_probs(encoded, lambda rows: np.asarray(rows, dtype=np.int64), _log_softmax, casing=self.model.casing_features)
        import torch

        from conflict_spans.model.network import uses_casing

        with torch.no_grad():
            return self._window_log_probs(encoded, lambda rows: torch.tensor(rows, device=self.device),
                                          lambda logits: torch.log_softmax(logits.float(), dim=-1).cpu().numpy(), casing=uses_casing(self.model))

    def _window_log_probs(self, encoded, tensor, log_softmax, *, casing: bool) -> list[list[np.ndarray]]:
        flat = [(d, w) for d, enc in enumerate(encoded) for w in range(len(enc.windows))]
        out: list[list[np.ndarray]] = [[None] * len(enc.windows) for enc in encoded]  # type: ignore[list-item]
        pad_id = self.tokenizer.pad_token_id or 0
        for i in range(0, len(flat), self.batch_size):
            chunk = flat[i:i + self.batch_size]
            windows = [encoded[d].windows[w] for d, w in chunk]
            width = max(len(w.input_ids) for w in windows)

            def pad(rows, value):
                return tensor([r + [value] * (width - len(r)) for r in rows])

            batch = {"input_ids": pad([w.input_ids for w in windows], pad_id),
                     "attention_mask": pad([w.attention_mask for w in windows], 0)}
            if windows[0].token_type_ids is not None:
                batch["token_type_ids"] = pad([w.token_type_ids for w in windows], 0)
            if casing:
                batch["casing_ids"] = pad([w.casing_ids for w in windows], 0)
            log_probs = log_softmax(self.model(**batch).logits)
            for (d, w), lp, window in zip(chunk, log_probs, windows):
                out[d][w] = lp[: len(window.input_ids)]
        return out

    def decode(self, encoded: EncodedDocument, window_lp: list[np.ndarray]) -> list[Span]:
        return self.decode_with_confidence(encoded, window_lp)[0]

    def decode_with_confidence(self, encoded: EncodedDocument, window_lp: list[np.ndarray]) -> tuple[list[Span], float]:
        """The spans, and the document's confidence: the geometric mean, over its words, of the probability of the tag
        the decoding chose (exp of the maximum normalized log-probability, MNLP, of Shen et al. 2018, "Deep Active
        Learning for Named Entity Recognition"); 1.0 for a document without words. Normalized by length, it does not
        call every long document uncertain; low means unsure (uncertainty sampling takes the lowest first)."""
        lp = word_log_probs(encoded, window_lp)
        path = viterbi(lp) if self.decoding == "viterbi" else greedy(lp)
        tags = [ID2LABEL[i] for i in path]
        chosen = lp[np.arange(len(path)), path]  # the log-probability of each word's chosen tag
        probs = np.exp(chosen).tolist()
        text = encoded.doc.text
        spans, fixes = conform_spans(text, word_tags_to_spans(text, tags, encoded.words, probs))
        self.span_fixes.add(fixes)
        confidence = float(np.exp(chosen.mean())) if len(path) else 1.0
        return [replace(s, status=guess_status(text, s.start, s.end)) if s.label == "CASUALTY" else s for s in spans], confidence

    # ---- public API --------------------------------------------------------------
    def predict_documents(self, docs: Iterable[Document]) -> list[Document]:
        docs = list(docs)
        encoded = [encode_document(self.tokenizer, d, max_length=self.max_length, stride=self.stride, with_labels=False, full_last=True) for d in docs]
        lps = self.window_log_probs(encoded)
        return [Document(enc.doc.id, enc.doc.text, self.decode(enc, lp), dict(enc.doc.meta)) for enc, lp in zip(encoded, lps)]

    def predict_documents_by_length(self, docs: Sequence[Document]) -> list[Document]:
        """What :meth:`predict_documents` returns, with the windows of all ``docs`` batched longest first (length
        bucketing: a batch holds windows of about one length, so little padding), and the documents in input order."""
        from types import SimpleNamespace

        encoded = [encode_document(self.tokenizer, d, max_length=self.max_length, stride=self.stride, with_labels=False, full_last=True) for d in docs]
        order = sorted(((d, w) for d, enc in enumerate(encoded) for w in range(len(enc.windows))),
                       key=lambda dw: -len(encoded[dw[0]].windows[dw[1]].input_ids))
        # one window per pseudo-document: window_log_probs batches them in the order given
        by_length = self.window_log_probs([SimpleNamespace(windows=[encoded[d].windows[w]]) for d, w in order])  # type: ignore[misc]
        lps: list[list[np.ndarray]] = [[None] * len(enc.windows) for enc in encoded]  # type: ignore[list-item]
        for (d, w), [lp] in zip(order, by_length):
            lps[d][w] = lp
        return [Document(enc.doc.id, enc.doc.text, self.decode(enc, lp), dict(enc.doc.meta)) for enc, lp in zip(encoded, lps)]

    def predict_spans(self, text: str) -> list[Span]:
        return self.predict_documents([Document("text", text, [])])[0].spans

    def predict_spans_with_confidence(self, text: str) -> tuple[list[Span], float]:
        """The spans of ``text`` and the document's confidence (:meth:`decode_with_confidence`), for uncertainty sampling."""
        enc = encode_document(self.tokenizer, Document("text", text, []), max_length=self.max_length, stride=self.stride, with_labels=False,
                              full_last=True)
        return self.decode_with_confidence(enc, self.window_log_probs([enc])[0])


def word_log_probs(encoded: EncodedDocument, window_lp: list[np.ndarray]) -> np.ndarray:
    """``[words, tags]``: each word's row from the window that holds its first piece most centrally
    (``windows.central_positions``); a word no window holds (none here, but possible with odd offsets) is O."""
    positions = central_positions(encoded)
    if not encoded.words:
        return np.zeros((0, len(TAGS)))
    missing = [k for k, word in enumerate(encoded.words) if word.index not in positions]
    dtype = np.result_type(*(lp.dtype for lp in window_lp), *([np.float64] if missing else []))
    out = np.empty((len(encoded.words), len(TAGS)), dtype=dtype)
    rows_of: dict[int, tuple[list[int], list[int]]] = {}  # window -> (word rows, positions)
    for k, word in enumerate(encoded.words):
        if word.index in positions:
            wi, pos = positions[word.index]
            rows, poss = rows_of.setdefault(wi, ([], []))
            rows.append(k)
            poss.append(pos)
    for wi, (rows, poss) in rows_of.items():
        out[rows] = window_lp[wi][poss]
    for k in missing:
        out[k] = -1e4
        out[k, TAGS.index(OUTSIDE)] = 0.0
    return out


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits.astype(np.float32, copy=False)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def check_batch_size(batch_size, option: str = "--batch-size") -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise CorpusError(catalogue.predict_option(option, batch_size, "must be a whole number of windows, 1 or more"))


def check_device(device: str | None) -> None:
    """Raise unless ``device`` is None or a torch device this machine has (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    if device is None:
        return
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise CorpusError(catalogue.unknown_device(str(device), str(exc))) from None
    if dev.type == "cpu":
        return
    if dev.type == "mps":
        available, count = torch.backends.mps.is_available(), 1
    else:
        backend = getattr(torch, dev.type, None)
        if backend is None or not hasattr(backend, "is_available"):
            raise CorpusError(catalogue.device_unavailable(str(device), f"this build of torch cannot run models on {dev.type}"))
        available = bool(backend.is_available())
        count = int(backend.device_count()) if available and hasattr(backend, "device_count") else (1 if available else 0)
    if not available:
        raise CorpusError(catalogue.device_unavailable(str(device), f"torch finds no {dev.type} device here"))
    if dev.index is not None and dev.index >= count:
        raise CorpusError(catalogue.device_unavailable(str(device), f"{count} {dev.type} device(s): {dev.type}:0 to {dev.type}:{count - 1}"))


def load_predictor(model_dir: str | Path, *, device: str | None = None, batch_size: int = 16, option: str = "--model",
                   int8: bool = False, threads: int | None = None) -> Predictor:
    """The model of a train.py output folder, ready to predict; a ``CorpusError`` naming the folder when it cannot be.

    A folder written by ``conflict-spans export --onnx`` (it holds model.onnx) runs in ONNX Runtime on the CPU, through the
    same windows and decoding; ``int8`` picks its model.int8.onnx, ``threads`` sets ONNX Runtime's intra-op threads."""
    check_batch_size(batch_size)
    check_device(device)
    model_dir = Path(model_dir)
    exported = runs_on_onnx(model_dir, int8=int8)
    if exported:
        # an export: ONNX Runtime and the tokenizers library, without torch or transformers (model/ort.py)
        from conflict_spans.model.ort import load_onnx_classifier, load_tokenizer

        model, device = load_onnx_classifier(model_dir, int8=int8, device=device, threads=threads, option=option), "cpu"
    else:
        check_model_folder(model_dir, option=option)
    settings = read_json_object(model_dir, PREDICT_CONFIG, option) if (model_dir / PREDICT_CONFIG).exists() else {}
    if exported:
        try:
            tokenizer = load_tokenizer(model_dir, model.input_names)
        except Exception as exc:  # the tokenizers library raises a plain Exception on a bad tokenizer.json
            raise CorpusError(catalogue.model_folder_unreadable(model_dir, option, "the tokenizer", f"{type(exc).__name__}: {exc}")) from None
    else:
        from safetensors import SafetensorError
        from transformers import AutoTokenizer

        from conflict_spans.model.network import load_token_classifier

        try:
            model = load_token_classifier(model_dir)
            tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        except CorpusError:
            raise
        except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
            raise CorpusError(catalogue.model_folder_unreadable(model_dir, option, "the model", f"{type(exc).__name__}: {exc}")) from None
    if not getattr(tokenizer, "is_fast", False):
        raise CorpusError(catalogue.tokenizer_not_fast(str(model_dir)))
    if device:
        model.to(device)
    try:
        max_length = int(settings.get("max_length", model_max_length(tokenizer, model.config)))
        stride = int(settings.get("stride", max_length // 16))  # 128/8: eval/benchmarks/windows.md
    except (TypeError, ValueError) as exc:
        raise CorpusError(catalogue.model_folder_unreadable(model_dir, option, PREDICT_CONFIG, str(exc))) from None
    if settings.get("decoding", "viterbi") not in ("viterbi", "greedy"):
        raise CorpusError(catalogue.model_folder_unreadable(model_dir, option, PREDICT_CONFIG, f"decoding {settings['decoding']!r} is neither viterbi nor greedy"))
    version = settings.get("model_version") or model_dir.name
    return Predictor(model, tokenizer, max_length=max_length, stride=stride, decoding=settings.get("decoding", "viterbi"),
                     batch_size=batch_size, model_version=version, device=device)
