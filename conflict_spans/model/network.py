"""Token classification with word-shape (casing) features joined to the encoder.

``CasingTokenClassifier`` wraps any HF encoder (``AutoModel``). Each token's
casing id (``casing.py``) enters twice: a learned embedding is added to the
encoder's input embeddings (initialised to zero, so training starts from the
pretrained model exactly, and every layer can use capitalisation), and a second
embedding is concatenated to the encoder's output states before the linear
tagger. It saves and loads like any transformers model
(``config.json`` + ``model.safetensors``); the config carries
``casing_features: true`` so that :func:`load_token_classifier` picks the class.
Without casing features the plain ``AutoModelForTokenClassification`` is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoModelForTokenClassification, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import TokenClassifierOutput

from conflict_spans.model.casing import N_CASING_IDS
from conflict_spans.problems import CorpusError, Problem
from conflict_spans.schema import ID2LABEL, LABEL2ID


class CasingTokenClassifier(PreTrainedModel):
    config_class = PretrainedConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = False
    _no_split_modules: list[str] = []

    def __init__(self, config: PretrainedConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.encoder = _encoder(config)
        dim = int(getattr(config, "casing_dim", 32))
        self.casing_input = nn.Embedding(N_CASING_IDS, config.hidden_size)
        self.casing = nn.Embedding(N_CASING_IDS, dim)
        dropout = getattr(config, "classifier_dropout", None) or getattr(config, "hidden_dropout_prob", 0.1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size + dim, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module is self.casing_input:
            nn.init.zeros_(module.weight)
        elif module is self.casing:
            nn.init.normal_(module.weight, std=0.02)
        elif module is self.classifier:
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, casing_ids=None, labels=None, **kwargs):
        kwargs.pop("num_items_in_batch", None)
        if casing_ids is None:
            casing_ids = torch.zeros_like(input_ids)
        embeds = self.encoder.get_input_embeddings()(input_ids) + self.casing_input(casing_ids)
        enc_kwargs = {"inputs_embeds": embeds, "attention_mask": attention_mask}
        if token_type_ids is not None:
            enc_kwargs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**enc_kwargs).last_hidden_state
        features = torch.cat([hidden, self.casing(casing_ids)], dim=-1)
        logits = self.classifier(self.dropout(features))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1), ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits)


def _encoder(config: PretrainedConfig, pretrained: str | None = None) -> PreTrainedModel:
    """The bare encoder, without a pooling layer where the architecture has one."""
    make = (lambda **kw: AutoModel.from_pretrained(pretrained, config=config, **kw)) if pretrained else (lambda **kw: AutoModel.from_config(config, **kw))
    try:
        return make(add_pooling_layer=False)
    except TypeError:
        return make()


def build_token_classifier(model_name_or_path: str, *, casing_features: bool, casing_dim: int = 32,
                           num_layers: int | None = None) -> PreTrainedModel:
    """A fresh tagger on a pretrained encoder, with our label maps in its config; ``num_layers`` keeps the
    encoder's first N transformer layers (their pretrained weights; the later layers are not loaded)."""
    source = AutoConfig.from_pretrained(model_name_or_path)
    if any(a.endswith("ForTokenClassification") or a == "CasingTokenClassifier" for a in (source.architectures or [])):
        check_label_maps(source, model_name_or_path)
    overrides: dict[str, Any] = {}
    if num_layers is not None:
        available = getattr(source, "num_hidden_layers", None)
        if available is None or not 1 <= num_layers <= available:
            raise CorpusError(Problem(
                "num-layers", f"--num-layers {num_layers} is outside the encoder's 1..{available} transformer layers",
                f"choose a number from 1 to {available}, or leave --num-layers out to keep them all", path=model_name_or_path, value=str(num_layers)))
        overrides["num_hidden_layers"] = num_layers
    config = AutoConfig.from_pretrained(model_name_or_path, num_labels=len(ID2LABEL), id2label=ID2LABEL, label2id=LABEL2ID, **overrides)
    if not casing_features:
        return AutoModelForTokenClassification.from_pretrained(model_name_or_path, config=config, ignore_mismatched_sizes=False)
    config.casing_features = True
    config.casing_dim = casing_dim
    config.architectures = ["CasingTokenClassifier"]
    model = CasingTokenClassifier(config)
    if getattr(source, "casing_features", False):
        # continue from one of our own checkpoints: keep its casing embedding and head
        return CasingTokenClassifier.from_pretrained(model_name_or_path, config=config)
    model.encoder = _encoder(config, model_name_or_path)
    return model


def check_label_maps(config: PretrainedConfig, where: str) -> None:
    """Fail loudly when a checkpoint's head was trained for other labels."""
    found = {int(k): v for k, v in (config.id2label or {}).items()}
    if found != ID2LABEL:
        raise CorpusError(Problem(
            "label-map",
            f"the checkpoint's classification head has labels {list(found.values())}, not this schema's {list(ID2LABEL.values())}",
            "train a model on this corpus with training/train.py, or start from an encoder without a token-classification head",
            path=where,
        ))


def load_token_classifier(model_dir: str | Path) -> PreTrainedModel:
    config = AutoConfig.from_pretrained(str(model_dir))
    check_label_maps(config, str(model_dir))
    if getattr(config, "casing_features", False):
        return CasingTokenClassifier.from_pretrained(str(model_dir), config=config)
    return AutoModelForTokenClassification.from_pretrained(str(model_dir), config=config)


def uses_casing(model: nn.Module) -> bool:
    return isinstance(getattr(model, "module", model), CasingTokenClassifier)
