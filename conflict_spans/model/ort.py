"""Running an exported model folder (``conflict-spans export --onnx``) with ONNX Runtime, without torch or transformers.

Prediction through an export needs only onnxruntime, numpy and the ``tokenizers``
library: :class:`OnnxTokenClassifier` takes and returns numpy arrays, and
:class:`FolderTokenizer` runs the folder's ``tokenizer.json`` with the part of
transformers' fast-tokenizer API that ``windows.py`` uses. So a process that
tags an archive through an export does not import torch or transformers, which
takes seconds per process (``scripts/benchmark_predict.py`` counts whole
processes). A folder without ``tokenizer.json`` falls back to transformers'
``AutoTokenizer``. ``tests/test_onnx.py`` checks that the spans are those of
the transformers tokenizer and that the path imports neither library.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from conflict_spans import problems as catalogue
from conflict_spans.model.folders import check_model_folder, read_json_object
from conflict_spans.problems import CorpusError

ONNX_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"


def runs_on_onnx(folder: str | Path, *, int8: bool = False) -> bool:
    """Whether prediction with ``folder`` goes through ONNX Runtime (this module) rather than torch: the folder is an
    export (it holds model.onnx), or int8 is asked for, which only an export has."""
    return int8 or (Path(folder) / ONNX_FILE).is_file()


def default_threads() -> int:
    """torch's thread count when torch is loaded (``torch.set_num_threads`` then governs both engines alike), else 0:
    ONNX Runtime's own default, one thread per physical core."""
    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else 0


def onnx_session(path: Path, *, threads: int | None):
    """An ONNX Runtime CPU session using ``threads`` intra-op threads (default: :func:`default_threads`)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxTokenClassifier:
    """An exported network run by ONNX Runtime, called as ``Predictor`` calls the torch one: ``model(**batch).logits``,
    with numpy arrays in and out (``runs_on_numpy``)."""

    runs_on_numpy = True

    def __init__(self, session, config):
        self.session = session
        self.config = config
        self.input_names = [i.name for i in session.get_inputs()]
        self.casing_features = "casing_ids" in self.input_names

    def eval(self) -> "OnnxTokenClassifier":
        return self

    def to(self, device) -> "OnnxTokenClassifier":
        return self

    def __call__(self, input_ids, attention_mask, token_type_ids=None, casing_ids=None) -> SimpleNamespace:
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids, "casing_ids": casing_ids}
        if token_type_ids is None:
            given["token_type_ids"] = np.zeros(np.shape(input_ids), dtype=np.int64)
        missing = [name for name in self.input_names if given.get(name) is None]
        if missing:
            raise ValueError(f"the exported model needs {', '.join(missing)}")
        feeds = {name: np.asarray(given[name]).astype(np.int64, copy=False) for name in self.input_names}
        return SimpleNamespace(logits=self.session.run(["logits"], feeds)[0])


class _Encoding(dict):
    """What transformers' fast tokenizer returns for one text: ``["input_ids"]``, ``["offset_mapping"]``, ... and ``word_ids()``."""

    def __init__(self, encoding, special_tokens_mask: bool):
        super().__init__(input_ids=encoding.ids, offset_mapping=encoding.offsets, attention_mask=encoding.attention_mask)
        if special_tokens_mask:
            self["special_tokens_mask"] = encoding.special_tokens_mask
        self._word_ids = encoding.word_ids

    def word_ids(self) -> list[int | None]:
        return list(self._word_ids)


class FolderTokenizer:
    """A folder's ``tokenizer.json`` run by the ``tokenizers`` library (the engine inside transformers' fast tokenizers),
    with the attributes and the call that ``windows.py`` and ``Predictor`` use."""

    is_fast = True

    def __init__(self, folder: Path, input_names: list[str]):
        from tokenizers import Tokenizer

        self.backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.backend.no_truncation()
        self.backend.no_padding()
        settings = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8")) if (folder / "tokenizer_config.json").is_file() else {}
        pad = settings.get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        self.pad_token_id = self.backend.token_to_id(pad) if isinstance(pad, str) else None
        self.model_max_length = int(settings.get("model_max_length") or 1_000_000_000)
        # the inputs the exported graph takes: the tokenizer's token types travel only where the model reads them
        self.model_input_names = [name for name in ("input_ids", "token_type_ids", "attention_mask") if name in input_names]

    def __call__(self, text: str, *, add_special_tokens: bool = True, return_offsets_mapping: bool = False,
                 return_special_tokens_mask: bool = False, verbose: bool = False) -> _Encoding:
        return _Encoding(self.backend.encode(text, add_special_tokens=add_special_tokens), return_special_tokens_mask)


def load_tokenizer(folder: Path, input_names: list[str]):
    """The folder's tokenizer: :class:`FolderTokenizer` over ``tokenizer.json``, else transformers' ``AutoTokenizer``."""
    if (folder / "tokenizer.json").is_file():
        return FolderTokenizer(folder, input_names)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


def load_onnx_classifier(model_dir: str | Path, *, int8: bool = False, device: str | None = None, threads: int | None = None,
                         option: str = "--model") -> OnnxTokenClassifier:
    """The network of an exported model folder (``model.onnx``, or ``model.int8.onnx`` with ``int8``) in an ONNX Runtime session."""
    model_dir = Path(model_dir)
    if device not in (None, "cpu"):
        raise CorpusError(catalogue.onnx_device(model_dir, device, option))
    check_exported_folder(model_dir, option)
    name = INT8_FILE if int8 else ONNX_FILE
    if not (model_dir / name).is_file():
        raise CorpusError(catalogue.onnx_file_missing(model_dir, name, option))
    config = read_json_object(model_dir, "config.json", option)
    try:
        session = onnx_session(model_dir / name, threads=threads)
    except (OSError, ValueError, RuntimeError) as exc:
        raise CorpusError(catalogue.model_folder_unreadable(model_dir, option, name, f"{type(exc).__name__}: {exc}")) from None
    return OnnxTokenClassifier(session, SimpleNamespace(**{"model_type": None, "max_position_embeddings": None, **config}))


def check_exported_folder(folder: Path, option: str) -> None:
    """Raise unless ``folder`` has what prediction needs beside the ONNX file: a readable config.json and the tokenizer."""
    check_model_folder(folder, option=option, weights=False)
