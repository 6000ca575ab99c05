"""spaCy registry functions used by ``conflict_spans/resources/spacy_config.cfg``.

Standalone (spaCy imports only) so that ``spacy train --code`` can load this
file by path. It fine-tunes a *fresh* ``ner`` component whose label-independent
layers start from a pretrained pipeline's ``ner``: the token encoder
(``tok2vec``, which in en_core_web_sm is internal to ``ner``) and the hidden
state layer (``lower``). The output layer (``upper``) is new, with our labels
only, so the pipeline's OntoNotes labels are replaced rather than kept beside
ours.
"""

from __future__ import annotations

from typing import Callable

import spacy
from spacy.language import Language

PRETRAINED_LAYERS = ("tok2vec", "lower")


@spacy.registry.callbacks("conflict_spans.copy_pretrained_layers.v1")
def create_copy_pretrained_layers(base: str, component: str = "ner") -> Callable[[Language], Language]:
    """After initialisation, copy ``tok2vec`` and ``lower`` weights of ``component`` from pipeline ``base``."""

    def copy_pretrained_layers(nlp: Language) -> Language:
        source = spacy.load(base, enable=[component])
        source_model = source.get_pipe(component).model
        target_model = nlp.get_pipe(component).model
        for ref in PRETRAINED_LAYERS:
            target_model.get_ref(ref).from_bytes(source_model.get_ref(ref).to_bytes())
        return nlp

    return copy_pretrained_layers
