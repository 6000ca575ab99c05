"""Model folders on disk: what a train.py or export folder must hold, read without torch or transformers.

``network.py`` (torch) and the ONNX Runtime path (``ort.py``, which imports neither
torch nor transformers) both check folders with these.
"""

from __future__ import annotations

import json
from pathlib import Path

from conflict_spans import problems as catalogue
from conflict_spans.problems import CorpusError

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model")


def read_json_object(folder: Path, name: str, option: str) -> dict:
    """``folder/name`` as a JSON object, or a ``CorpusError`` naming the folder and the file."""
    try:
        data = json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(catalogue.model_folder_unreadable(folder, option, name, str(exc))) from None
    if not isinstance(data, dict):
        raise CorpusError(catalogue.model_folder_unreadable(folder, option, name, f"a JSON {type(data).__name__}, not an object"))
    return data


def check_model_folder(folder: str | Path, *, option: str = "--model", weights: bool = True) -> None:
    """Raise before loading when ``folder`` is not a model folder: missing, a file, or without a readable
    config.json, weights (unless ``weights`` is false: an ONNX export carries none) or tokenizer files.
    Every problem is named at once."""
    folder = Path(folder)
    if not folder.exists():
        raise CorpusError(catalogue.model_folder_missing(folder, option))
    if not folder.is_dir():
        raise CorpusError(catalogue.model_folder_not_folder(folder, option))
    problems = []
    if not (folder / "config.json").is_file():
        problems.append(catalogue.model_folder_incomplete(folder, option, "config.json", "config.json"))
    else:
        try:
            read_json_object(folder, "config.json", option)
        except CorpusError as exc:
            problems += exc.problems
    if weights and not any((folder / name).is_file() for name in WEIGHT_FILES):
        problems.append(catalogue.model_folder_incomplete(folder, option, "weights", ", ".join(WEIGHT_FILES)))
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        problems.append(catalogue.model_folder_incomplete(folder, option, "tokenizer", ", ".join(TOKENIZER_FILES)))
    if problems:
        raise CorpusError(problems)
