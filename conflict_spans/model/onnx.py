"""A trained model exported to ONNX, and run by ONNX Runtime behind the same windows and decoding.

``export_onnx`` turns a train.py output folder into an *exported model folder*:
``model.onnx`` (fp32; dynamic batch and sequence axes; inputs ``input_ids``,
``attention_mask``, ``token_type_ids`` when the tokenizer uses them and
``casing_ids`` when the model has casing features; output ``logits``),
optionally ``model.int8.onnx`` (weights quantized to int8 by ONNX Runtime's
dynamic quantization), the tokenizer and configuration files copied unchanged,
and ``export.json`` saying how it was made. ``load_predictor`` (``predict.py``)
reads such a folder through ``ort.py``, which imports neither torch nor
transformers: it hands :class:`~conflict_spans.model.ort.OnnxTokenClassifier`
to ``Predictor`` in place of the torch network, so that windows, batching and
decoding are the very code the torch model goes through, and only the forward
pass differs.

onnx, onnxscript (the exporter) and onnxruntime are imported only inside the
functions that need them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from conflict_spans import problems as catalogue
from conflict_spans.model.folders import TOKENIZER_FILES, check_model_folder
from conflict_spans.model.network import load_token_classifier, uses_casing
from conflict_spans.model.ort import INT8_FILE, ONNX_FILE, onnx_session
from conflict_spans.problems import CorpusError

EXPORT_INFO = "export.json"
OPSET = 18
# copied unchanged into the exported folder when the model folder has them
COPIED_FILES = ("config.json", "predict_config.json", "train_config.json", "metrics.json", "MODEL_CARD.md",
                "special_tokens_map.json", "added_tokens.json", *TOKENIZER_FILES)
PARTIAL = ".export-partial"  # built here, inside the output folder, and moved into place only when complete
# the largest |logit| difference between torch and ONNX Runtime on the probe batch that export accepts
EXPORT_TOLERANCE = 1e-3


# ---- export ----------------------------------------------------------------------------------------

def check_export_output(model_dir: Path, out_dir: Path, option: str = "-o/--output") -> None:
    """Raise before any work when ``out_dir`` cannot take the export: it is the model folder or inside it, a file,
    or a folder that already holds something."""
    from conflict_spans.corpus.io import check_output_folder

    check_output_folder(out_dir, option=option)
    source, target = model_dir.resolve(), out_dir.resolve()
    if target == source or source in target.parents:
        raise CorpusError(catalogue.export_output_in_model(out_dir, model_dir, option))
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise CorpusError(catalogue.export_output_not_empty(out_dir, option))


def input_names(model: nn.Module, tokenizer) -> list[str]:
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in getattr(tokenizer, "model_input_names", ()):
        names.append("token_type_ids")
    if uses_casing(model):
        names.append("casing_ids")
    return names


class _LogitsOf(nn.Module):
    """The network returning the logits alone (what the exporter traces)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids=None, casing_ids=None) -> torch.Tensor:
        given = {"token_type_ids": token_type_ids, "casing_ids": casing_ids}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **{k: v for k, v in given.items() if v is not None}).logits


def probe_batch(names: list[str], vocab_size: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Three windows of 23 tokens, the second padded after 15: traced by the exporter and compared with ONNX Runtime.

    Sizes other than 0 and 1 keep the exporter from treating a dynamic axis as a constant.
    """
    from conflict_spans.model.casing import N_CASING_IDS

    generator = torch.Generator().manual_seed(seed)
    shape = (3, 23)
    tensors = {"input_ids": torch.randint(1, vocab_size, shape, generator=generator),
               "attention_mask": torch.ones(shape, dtype=torch.long),
               "token_type_ids": torch.zeros(shape, dtype=torch.long),
               "casing_ids": torch.randint(0, N_CASING_IDS, shape, generator=generator)}
    tensors["attention_mask"][1, 15:] = 0
    return tuple(tensors[name] for name in names)


def _run_session(path: Path, names: list[str], tensors: tuple[torch.Tensor, ...]) -> np.ndarray:
    session = onnx_session(path, threads=None)
    return session.run(["logits"], {name: t.numpy() for name, t in zip(names, tensors)})[0]


@contextlib.contextmanager
def _exporter_quiet():
    """The exporter's progress lines (stdout), its warnings and its log notes kept out of the command's output; errors still raise."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def export_onnx(model_dir: str | Path, out_dir: str | Path, *, int8: bool = False, option: str = "--model",
                out_option: str = "-o/--output") -> dict:
    """Write the exported model folder ``out_dir`` from the train.py folder ``model_dir``; return what ``export.json`` says.

    Everything is written to ``out_dir/.export-partial`` first and moved into
    ``out_dir`` only when complete, so a failed export leaves no partial folder.
    The exported graph is checked against the torch model on a probe batch.
    """
    import onnx  # noqa: F401  (torch.onnx.export needs it; imported here so that a missing install fails before the work)
    import onnxscript  # noqa: F401
    from transformers import AutoTokenizer

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    check_model_folder(model_dir, option=option)
    check_export_output(model_dir, out_dir, out_option)
    model = load_token_classifier(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    names = input_names(model, tokenizer)
    probe = probe_batch(names, int(model.config.vocab_size))
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / PARTIAL
    try:
        work.mkdir()
        batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
        with torch.no_grad():
            inputs = dict(zip(names, probe))
            network = _LogitsOf(model).eval()
            expected = network(**inputs).numpy()
            with _exporter_quiet():
                torch.onnx.export(network, (), str(work / ONNX_FILE), kwargs=inputs, input_names=names, output_names=["logits"],
                                  dynamic_shapes={name: {0: batch, 1: sequence} for name in names}, opset_version=OPSET,
                                  dynamo=True, external_data=False, verbose=False)
        difference = float(np.abs(_run_session(work / ONNX_FILE, names, probe) - expected).max())
        if not difference <= EXPORT_TOLERANCE:
            raise CorpusError(catalogue.export_mismatch(model_dir, difference, EXPORT_TOLERANCE))
        info = {"source": str(model_dir), "files": {ONNX_FILE: "fp32"}, "inputs": names, "output": "logits", "opset": OPSET,
                "max_abs_logit_difference_fp32": difference, "torch": torch.__version__}
        if int8:
            info["int8_fused"] = quantize(work / ONNX_FILE, work / INT8_FILE, model.config)
            info["files"][INT8_FILE] = "int8 weights, per channel (onnxruntime.quantization.quantize_dynamic, QInt8) of the fused graph"
            info["max_abs_logit_difference_int8"] = float(np.abs(_run_session(work / INT8_FILE, names, probe) - expected).max())
        for name in COPIED_FILES:
            if (model_dir / name).is_file():
                shutil.copy2(model_dir / name, work / name)
        config = json.loads((work / "config.json").read_text(encoding="utf-8"))
        stale = [key for key in ("auto_map", "custom_pipelines") if config.pop(key, None) is not None]
        if stale:
            # the transformers remote code (model/hub) runs the torch weights, which an export does not carry
            (work / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (work / EXPORT_INFO).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        for item in sorted(work.iterdir()):
            item.replace(out_dir / item.name)
        work.rmdir()
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    return info


def quantize(source: Path, target: Path, config) -> dict[str, int]:
    """``target``: ``source`` with ONNX Runtime's transformer fusions where the graph matches them (for the dynamo-exported
    MiniLM: skip layer norm and bias GELU, not attention), then int8 weights per output channel with activations quantized
    on the fly (``quantize_dynamic``). Returns the fused operators counted.

    Why so, as measured on validation with the default model at 128/64 while this was written (torch 86.70 strict micro
    F1): per-channel weights 86.45 unfused and 86.51 fused; one scale per tensor 85.99 unfused and 86.06 fused; fusing
    first was also the faster int8 graph.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    fused = target.with_name(target.stem + ".fused.onnx")
    model_type = config.model_type if config.model_type in ("bert", "roberta", "distilbert", "deberta", "electra") else "bert"
    root_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic logs advice through the root logger
    try:
        optimized = optimize_model(str(source), model_type=model_type, num_heads=int(getattr(config, "num_attention_heads", 0) or 0),
                                   hidden_size=int(getattr(config, "hidden_size", 0) or 0))
        counts = {k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}
        optimized.save_model_to_file(str(fused))
        quantize_dynamic(str(fused), str(target), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        fused.unlink(missing_ok=True)
        logging.getLogger().setLevel(root_level)
    return counts
