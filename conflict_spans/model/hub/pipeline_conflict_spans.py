"""The conflict-spans tagger as a transformers pipeline, without the conflict-spans package.

Remote code: ``python -m conflict_spans.model.hub DIR`` (and training) copies
this file into a model folder, with ``casing.py`` and ``casualty_status.py``
from the package and ``span_rules.py`` (the abbreviation list and line breaks
of ``conflict_spans/document.py``, written out), and registers it in
``config.json`` (``custom_pipelines``)::

    from transformers import pipeline
    tagger = pipeline("token-classification", model=DIR, trust_remote_code=True)
    tagger("Gunmen killed 12 civilians in Goma, the army said.")
    # [{"entity_group": "ACTOR", "score": 0.98, "word": "Gunmen", "start": 0, "end": 6}, ...]

Each text gives the spans of ``conflict-spans predict``: the text is cut into
overlapping windows (``max_length``, ``stride`` and ``decoding`` from
``predict_config.json``), each word is read in its most central window, the
IOB2 tags are decoded with Viterbi, the spans are made to obey the corpus's
edge rules and CASUALTY spans get a ``status`` (killed | injured). This
mirrors ``windows.py``, ``align.py``, ``decoding.py`` and ``predict.py`` of
``conflict_spans/model``; tests/test_hf_pipeline.py checks that both give the
same spans on the test split. ``batch_size`` is the number of windows per
forward pass (default 16).
"""

from __future__ import annotations

import json
import os
import unicodedata

import numpy as np
import torch
from transformers import Pipeline

from .casing import casing_ids
from .casualty_status import guess_status
from .span_rules import ABBREVIATIONS, INITIALISM, LAST_WORD, LINE_BREAKS

PREDICT_CONFIG = "predict_config.json"


# ---- spans obey the corpus's edge rules (predict.conform_spans, document.check_spans) -----------------

def _word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"


def _abbreviation_end(surface: str) -> bool:
    last = LAST_WORD.search(surface)
    return bool(INITIALISM.search(surface)) or (bool(last) and last.group(1) in ABBREVIATIONS)


def _valid_extent(text: str, s: int, e: int) -> bool:
    surface = text[s:e]
    first, last = surface[0], surface[-1]
    return not (first.isspace() or last.isspace()
                or not _word_char(first) or unicodedata.category(first)[0] == "M"
                or (last == "." and not _abbreviation_end(surface)) or (not _word_char(last) and last != ".")
                or any(ch in LINE_BREAKS for ch in surface.strip())
                or (s > 0 and _word_char(text[s - 1]) and _word_char(first))
                or (e < len(text) and _word_char(text[e]) and (_word_char(last) or unicodedata.category(text[e])[0] == "M")))


def _fit(text: str, s: int, e: int) -> tuple[int, int] | None:
    while s < e and not (_word_char(text[s]) and unicodedata.category(text[s])[0] != "M"):
        s += 1
    while s < e and not (_word_char(text[e - 1]) or (text[e - 1] == "." and _abbreviation_end(text[s:e]))):
        e -= 1
    if s >= e:
        return None
    while s > 0 and _word_char(text[s - 1]) and _word_char(text[s]):
        s -= 1
    while e < len(text) and _word_char(text[e]) and (_word_char(text[e - 1]) or unicodedata.category(text[e])[0] == "M"):
        e += 1
    return s, e


def _conform(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Cut at line breaks, trim and widen to whole words: the first piece that passes the extent rules."""
    cuts = [i for i in range(start, end) if text[i] in LINE_BREAKS]
    for s, e in zip([start] + [i + 1 for i in cuts], cuts + [end]):
        fitted = _fit(text, s, e) if s < e else None
        if fitted is not None and _valid_extent(text, *fitted):
            return fitted
    return None


def conform_spans(text: str, spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    fitted = []
    for start, end, label, score in sorted(spans, key=lambda x: x[:3]):
        extent = _conform(text, start, end)
        if extent is not None:
            fitted.append((*extent, label, score))
    out: list[tuple[int, int, str, float]] = []
    for span in sorted(fitted, key=lambda x: x[:3]):
        if out and span[0] < out[-1][1]:  # widened into the previous span: merge (same label) or keep the stronger
            previous = out[-1]
            if previous[2] == span[2]:
                out[-1] = (previous[0], max(previous[1], span[1]), previous[2], max(previous[3], span[3]))
            elif span[3] > previous[3]:
                out[-1] = span
            continue
        out.append(span)
    return out


# ---- tags -> spans (decoding.viterbi, align.word_tags_to_spans) --------------------------------------

def viterbi(log_probs: np.ndarray, tags: list[str]) -> list[int]:
    """The best tag path that never opens with I-X after O or another label."""
    if log_probs.shape[0] == 0:
        return []
    allowed = np.array([[not cur.startswith("I-") or prev in ("B-" + cur[2:], cur) for cur in tags] for prev in tags])
    neg = -1e9
    trans = np.where(allowed, 0.0, neg)
    score = np.where(np.array([not t.startswith("I-") for t in tags]), log_probs[0], neg)
    back = np.zeros((log_probs.shape[0], len(tags)), dtype=np.int64)
    for t in range(1, log_probs.shape[0]):
        cand = score[:, None] + trans
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + log_probs[t]
    path = [int(score.argmax())]
    for t in range(log_probs.shape[0] - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def _snap_end(text: str, end: int) -> int:
    while end < len(text) and unicodedata.category(text[end]).startswith("M"):
        end += 1
    return end


def tags_to_spans(text: str, tags: list[str], words: list[tuple[int, int, int]], probs: list[float]) -> list[tuple[int, int, str, float]]:
    spans, current = [], None  # current: (first word, last word, label)
    for i, tag in enumerate(tags + ["O"]):
        label = None if tag == "O" else tag.split("-", 1)[1]
        if current is not None and (label is None or tag.startswith("B-") or current[2] != label):
            first, last, name = current
            spans.append((words[first][1], _snap_end(text, words[last][2]), name, sum(probs[first:last + 1]) / (last - first + 1)))
            current = None
        if label is not None:
            current = (i, i, label) if current is None else (current[0], i, label)
    return spans


# ---- the pipeline ----------------------------------------------------------------------------------------

class ConflictSpansPipeline(Pipeline):
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._forward_params.setdefault("window_batch_size", self._batch_size or 16)
        self._batch_size = None  # one text at a time; its windows are batched in _forward
        self.settings = self._predict_settings()

    def _predict_settings(self) -> dict:
        """predict_config.json of the model folder (local, or the Hub's cache), else the defaults of ``load_predictor``."""
        settings, where = {}, getattr(self.model.config, "_name_or_path", "") or ""
        try:
            if os.path.isdir(where):
                path = os.path.join(where, PREDICT_CONFIG)
                path = path if os.path.isfile(path) else None
            else:
                from transformers.utils import cached_file
                path = cached_file(where, PREDICT_CONFIG, _raise_exceptions_for_missing_entries=False)
        except OSError:
            path = None
        if path:
            with open(path, encoding="utf-8") as f:
                settings = json.load(f)
        limits = [512]
        if getattr(self.tokenizer, "model_max_length", None) and self.tokenizer.model_max_length < 1_000_000:
            limits.append(int(self.tokenizer.model_max_length))
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if positions:
            limits.append(int(positions) - 2 if self.model.config.model_type in ("roberta", "xlm-roberta", "camembert") else int(positions))
        max_length = int(settings.get("max_length", min(limits)))
        return {"max_length": max_length, "stride": int(settings.get("stride", max_length // 16)), "decoding": settings.get("decoding", "viterbi")}

    def __call__(self, inputs, *args, batch_size=None, **kwargs):
        if batch_size is not None:
            kwargs["window_batch_size"] = batch_size
        return super().__call__(inputs, *args, **kwargs)

    def _sanitize_parameters(self, max_length=None, stride=None, decoding=None, window_batch_size=None, aggregation_strategy=None):
        # aggregation_strategy is taken for the stock pipeline's callers and ignored: the output is always whole spans
        preprocess = {k: v for k, v in (("max_length", max_length), ("stride", stride)) if v is not None}
        forward = {} if window_batch_size is None else {"window_batch_size": int(window_batch_size)}
        postprocess = {} if decoding is None else {"decoding": decoding}
        return preprocess, forward, postprocess

    def _special_tokens(self) -> tuple[list[int], list[int]]:
        probe = self.tokenizer("a", return_special_tokens_mask=True)
        content = [i for i, m in enumerate(probe["special_tokens_mask"]) if not m]
        ids = list(probe["input_ids"])
        return ids[: content[0]], ids[content[-1] + 1:]

    def preprocess(self, text: str, max_length: int | None = None, stride: int | None = None):
        max_length = max_length or self.settings["max_length"]
        stride = self.settings["stride"] if stride is None else stride
        full = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        ids, offsets, word_ids = list(full["input_ids"]), [tuple(o) for o in full["offset_mapping"]], list(full.word_ids())
        pieces: dict[int, list[int]] = {}
        for pos, wid in enumerate(word_ids):
            if wid is not None and offsets[pos][1] > offsets[pos][0]:
                pieces.setdefault(wid, []).append(pos)
        words = sorted(((wid, offsets[p[0]][0], max(offsets[q][1] for q in p)) for wid, p in pieces.items()), key=lambda w: (w[1], w[2]))
        prefix, suffix = self._special_tokens()
        content = max(1, max_length - len(prefix) - len(suffix))
        bounds, start = [], 0
        while True:  # windows.window_bounds with full_last
            end = min(start + content, len(ids))
            if end == len(ids) and bounds:
                start = max(len(ids) - content, 0)
            bounds.append((start, end))
            if end == len(ids):
                break
            start += max(1, content - stride)
        windows = [(prefix + ids[s:e] + suffix, [(0, 0)] * len(prefix) + offsets[s:e] + [(0, 0)] * len(suffix),
                    [None] * len(prefix) + word_ids[s:e] + [None] * len(suffix)) for s, e in bounds]
        width = max(len(w[0]) for w in windows)

        def pad(rows, value):
            return torch.tensor([list(r) + [value] * (width - len(r)) for r in rows], dtype=torch.long)

        inputs = {"input_ids": pad([w[0] for w in windows], self.tokenizer.pad_token_id or 0),
                  "attention_mask": pad([[1] * len(w[0]) for w in windows], 0)}
        if "token_type_ids" in getattr(self.tokenizer, "model_input_names", ()):
            inputs["token_type_ids"] = pad([[0] * len(w[0]) for w in windows], 0)
        if getattr(self.model.config, "casing_features", False):
            inputs["casing_ids"] = pad([casing_ids(text, w[1], w[2]) for w in windows], 0)
        starts = {wid: s for wid, s, _ in words}
        positions: dict[int, tuple[float, int, int]] = {}  # word -> most central (centrality, -window, position)
        for wi, (w_ids, w_offsets, w_words) in enumerate(windows):
            for pos, ((s, e), wid) in enumerate(zip(w_offsets, w_words)):
                if wid is not None and e > s and s == starts.get(wid):
                    positions[wid] = max(positions.get(wid, (-1, 0, 0)), (min(pos, len(w_ids) - 1 - pos), -wi, pos))
        return {"inputs": inputs, "text": text, "words": words, "positions": positions, "lengths": [len(w[0]) for w in windows]}

    def _forward(self, model_inputs, window_batch_size: int = 16):
        inputs, n = model_inputs["inputs"], model_inputs["inputs"]["input_ids"].shape[0]
        log_probs = []
        for i in range(0, n, window_batch_size):
            logits = self.model(**{k: v[i:i + window_batch_size] for k, v in inputs.items()}).logits.float()
            log_probs.append(torch.log_softmax(logits, dim=-1).cpu())
        return {**{k: v for k, v in model_inputs.items() if k != "inputs"}, "log_probs": torch.cat(log_probs)}

    def postprocess(self, model_outputs, decoding: str | None = None):
        decoding = decoding or self.settings["decoding"]
        text, words, positions = model_outputs["text"], model_outputs["words"], model_outputs["positions"]
        window_lp = [lp[:n] for lp, n in zip(model_outputs["log_probs"].numpy(), model_outputs["lengths"])]
        tags = [self.model.config.id2label[i] for i in range(len(self.model.config.id2label))]
        rows = []
        for wid, _, _ in words:
            if wid in positions:
                _, minus_wi, pos = positions[wid]
                rows.append(window_lp[-minus_wi][pos])
            else:
                row = np.full(len(tags), -1e4)
                row[tags.index("O")] = 0.0
                rows.append(row)
        lp = np.stack(rows) if rows else np.zeros((0, len(tags)))
        path = viterbi(lp, tags) if decoding == "viterbi" else [int(i) for i in lp.argmax(axis=-1)]
        probs = [float(np.exp(lp[k, t])) for k, t in enumerate(path)]
        out = []
        for start, end, label, score in conform_spans(text, tags_to_spans(text, [tags[t] for t in path], words, probs)):
            entity = {"entity_group": label, "score": float(score), "word": text[start:end], "start": start, "end": end}
            if label == "CASUALTY":
                entity["status"] = guess_status(text, start, end)
            out.append(entity)
        return out
