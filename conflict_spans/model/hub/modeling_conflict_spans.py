"""The casing-feature tagger for ``AutoModelForTokenClassification(..., trust_remote_code=True)``.

Remote code: ``python -m conflict_spans.model.hub DIR`` copies this file, with
``casing.py`` beside it, into a model folder; transformers runs it from there
(it imports only torch, transformers and the copied ``casing.py``, never
``conflict_spans``). It is the ``CasingTokenClassifier`` of
``conflict_spans/model/network.py`` with the same parameter names, so the
folder's ``model.safetensors`` loads unchanged; keep the two in step
(tests/test_hf_pipeline.py compares their spans).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoModel, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import TokenClassifierOutput

from .casing import N_CASING_IDS


class CasingTokenClassifier(PreTrainedModel):
    config_class = PretrainedConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = False
    _no_split_modules: list[str] = []

    def __init__(self, config: PretrainedConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        try:
            self.encoder = AutoModel.from_config(config, add_pooling_layer=False)
        except TypeError:
            self.encoder = AutoModel.from_config(config)
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
