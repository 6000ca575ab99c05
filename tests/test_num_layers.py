"""train.py --num-layers: the encoder keeps its first N pretrained layers; a number outside 1..N is a clear error."""
from __future__ import annotations

import pytest
import torch

from conflict_spans.model.network import build_token_classifier
from conflict_spans.problems import CorpusError

from support import make_tiny_encoder


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return make_tiny_encoder(tmp_path_factory.mktemp("enc") / "encoder", layers=3)


@pytest.mark.parametrize("casing_features", [True, False])
def test_num_layers_keeps_the_first_pretrained_layers(encoder, casing_features) -> None:
    full = build_token_classifier(str(encoder), casing_features=casing_features)
    cut = build_token_classifier(str(encoder), casing_features=casing_features, num_layers=2)
    assert cut.config.num_hidden_layers == 2
    full_layers = full.base_model.encoder.layer
    cut_layers = cut.base_model.encoder.layer
    assert len(full_layers) == 3 and len(cut_layers) == 2
    for i in range(2):  # the kept layers are the pretrained ones, not fresh weights
        for (name, a), (_, b) in zip(full_layers[i].named_parameters(), cut_layers[i].named_parameters()):
            assert torch.equal(a, b), (i, name)


@pytest.mark.parametrize("n", [0, 4])
def test_num_layers_outside_the_encoder_is_refused(encoder, n) -> None:
    with pytest.raises(CorpusError) as info:
        build_token_classifier(str(encoder), casing_features=True, num_layers=n)
    text = str(info.value)
    assert f"--num-layers {n}" in text and "1..3" in text and str(encoder) in text


def test_num_layers_above_the_encoder_stops_training_before_it_writes(encoder, tmp_path) -> None:
    """train() refuses a --num-layers the encoder does not have, naming the number and the encoder, and writes no run folder."""
    from conflict_spans.model.train import parse_arguments, train

    from support import write_tiny_corpus

    data = write_tiny_corpus(tmp_path / "data")
    output = tmp_path / "run"
    with pytest.raises(CorpusError) as info:
        train(*parse_arguments(["--model-name-or-path", str(encoder), "--data-dir", str(data), "--output-dir", str(output),
                                "--num-layers", "7", "--max-length", "32"]))
    assert "--num-layers 7" in str(info.value) and "1..3" in str(info.value)
    assert not output.exists()
