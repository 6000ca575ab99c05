"""Load a trained model and turn texts into character spans in the corpus convention."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from conflict_spans.align import word_tags_to_spans
from conflict_spans.document import Document, Span
from conflict_spans.model.casualty_status import guess_status
from conflict_spans.model.decoding import greedy, viterbi
from conflict_spans.model.network import load_token_classifier, uses_casing
from conflict_spans.model.windows import EncodedDocument, encode_document, first_piece_positions, model_max_length
from conflict_spans.schema import ID2LABEL, OUTSIDE, TAGS

PREDICT_CONFIG = "predict_config.json"


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
        self.device = device or next(model.parameters()).device.type

    # ---- core ------------------------------------------------------------------
    @torch.no_grad()
    def window_log_probs(self, encoded: Sequence[EncodedDocument]) -> list[list[np.ndarray]]:
        """Log-probabilities ``[tokens, tags]`` for every window of every document."""
        flat = [(d, w) for d, enc in enumerate(encoded) for w in range(len(enc.windows))]
        out: list[list[np.ndarray]] = [[None] * len(enc.windows) for enc in encoded]  # type: ignore[list-item]
        casing = uses_casing(self.model)
        pad_id = self.tokenizer.pad_token_id or 0
        for i in range(0, len(flat), self.batch_size):
            chunk = flat[i:i + self.batch_size]
            windows = [encoded[d].windows[w] for d, w in chunk]
            width = max(len(w.input_ids) for w in windows)

            def pad(rows, value):
                return torch.tensor([r + [value] * (width - len(r)) for r in rows], device=self.device)

            batch = {"input_ids": pad([w.input_ids for w in windows], pad_id),
                     "attention_mask": pad([w.attention_mask for w in windows], 0)}
            if windows[0].token_type_ids is not None:
                batch["token_type_ids"] = pad([w.token_type_ids for w in windows], 0)
            if casing:
                batch["casing_ids"] = pad([w.casing_ids for w in windows], 0)
            logits = self.model(**batch).logits.float()
            log_probs = torch.log_softmax(logits, dim=-1).cpu().numpy()
            for (d, w), lp, window in zip(chunk, log_probs, windows):
                out[d][w] = lp[: len(window.input_ids)]
        return out

    def decode(self, encoded: EncodedDocument, window_lp: list[np.ndarray]) -> list[Span]:
        positions = first_piece_positions(encoded)
        rows = []
        for word in encoded.words:
            occurrences = positions.get(word.index)
            if not occurrences:
                row = np.full(len(TAGS), -1e4)
                row[TAGS.index(OUTSIDE)] = 0.0
            else:
                wi, pos, _ = max(occurrences, key=lambda o: (o[2], -o[0]))
                row = window_lp[wi][pos]
            rows.append(row)
        lp = np.stack(rows) if rows else np.zeros((0, len(TAGS)))
        path = viterbi(lp) if self.decoding == "viterbi" else greedy(lp)
        tags = [ID2LABEL[i] for i in path]
        probs = [float(np.exp(lp[k, t])) for k, t in enumerate(path)]
        spans = word_tags_to_spans(encoded.doc.text, tags, encoded.words, probs)
        text = encoded.doc.text
        return [replace(s, status=guess_status(text, s.start, s.end)) if s.label == "CASUALTY" else s for s in spans]

    # ---- public API --------------------------------------------------------------
    def predict_documents(self, docs: Iterable[Document]) -> list[Document]:
        docs = list(docs)
        encoded = [encode_document(self.tokenizer, d, max_length=self.max_length, stride=self.stride, with_labels=False) for d in docs]
        lps = self.window_log_probs(encoded)
        return [Document(enc.doc.id, enc.doc.text, self.decode(enc, lp), dict(enc.doc.meta)) for enc, lp in zip(encoded, lps)]

    def predict_spans(self, text: str) -> list[Span]:
        return self.predict_documents([Document("text", text, [])])[0].spans


def load_predictor(model_dir: str | Path, *, device: str | None = None, batch_size: int = 16) -> Predictor:
    from transformers import AutoTokenizer

    model_dir = Path(model_dir)
    model = load_token_classifier(model_dir)
    if device:
        model.to(device)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{model_dir}: the tokenizer is not a fast tokenizer; offsets need one (save a tokenizer.json with the model)")
    settings = {}
    cfg = model_dir / PREDICT_CONFIG
    if cfg.exists():
        settings = json.loads(cfg.read_text(encoding="utf-8"))
    max_length = int(settings.get("max_length", model_max_length(tokenizer, model.config)))
    stride = int(settings.get("stride", max_length // 4))
    version = settings.get("model_version") or model_dir.name
    return Predictor(model, tokenizer, max_length=max_length, stride=stride, decoding=settings.get("decoding", "viterbi"),
                     batch_size=batch_size, model_version=version, device=device)
