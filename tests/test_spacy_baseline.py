"""spaCy baselines: label map, conversion to DocBin (misaligned spans reported), pretrained layers, cache, training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy  # noqa: E402  (a hard dependency)

from conflict_spans.corpus.formats import docs_to_docbin
from conflict_spans.document import Document, Span
from conflict_spans.evaluation import spacy_baseline
from conflict_spans.evaluation.spacy_baseline import SPACY_CONFIG, cache_key, finetuned_predictor
from conflict_spans.evaluation.spacy_pipeline import (SPACY_LABEL_MAP, SPACY_PIPELINE, SpacyPredictor, load_label_map, load_spacy_pipeline,
                                                      strip_leading)
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABEL_NAMES

from support import spans_from_marks


@pytest.fixture(scope="module")
def base_nlp():
    return load_spacy_pipeline(SPACY_PIPELINE, enable=["ner"])


def doc(doc_id: str, text: str, *marks: tuple) -> Document:
    return Document(doc_id, text, spans_from_marks(text, marks))


TRAIN = [
    doc("t1", "Rebels shelled Kadugli, killing 12 civilians, the army said.",
        ("Rebels", "ACTOR"), ("Kadugli", "LOCATION"), ("12 civilians", "CASUALTY", "killed"), ("army", "ATTRIBUTION")),
    doc("t2", "Militia fighters attacked Goma; 5 people died, officials said.",
        ("Militia fighters", "ACTOR"), ("Goma", "LOCATION"), ("5 people", "CASUALTY", "killed"), ("officials", "ATTRIBUTION")),
]


def test_label_map_names_every_pipeline_label(base_nlp):
    label_map = load_label_map(SPACY_LABEL_MAP)
    label_map.check_covers(base_nlp.get_pipe("ner").labels)
    assert set(label_map.not_predictable) == {"CASUALTY", "ATTRIBUTION"}
    assert {v for v in label_map.mapping.values() if v} <= set(LABEL_NAMES)


def test_label_map_errors(tmp_path):
    bad = tmp_path / "map.json"
    bad.write_text(json.dumps({"map": {"ORG": "ORGANISATION"}}))
    with pytest.raises(CorpusError, match="ORG -> ORGANISATION"):
        load_label_map(bad)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"map": {"ORG": "ACTOR"}}))
    with pytest.raises(CorpusError, match="DATE"):
        load_label_map(partial).check_covers(["ORG", "DATE"])


@pytest.mark.parametrize("text,expected", [
    ("the United Nations", "United Nations"),
    ("The  army", "army"),
    ("their the rebels", "rebels"),
    ("theocracy", "theocracy"),
    ("the", "the"),
])
def test_strip_leading(text, expected):
    start = strip_leading(text, 0, len(text), frozenset({"the", "their"}))
    assert text[start:] == expected


def test_spacy_predictor_maps_and_refuses_unknown_labels():
    nlp = spacy.blank("en")
    text = "The Houthis struck Hodeidah on Monday."
    sdoc = nlp(text)
    sdoc.ents = [sdoc.char_span(0, 11, label="ORG"), sdoc.char_span(19, 27, label="GPE"), sdoc.char_span(31, 37, label="DATE")]
    predictor = SpacyPredictor(nlp, {"ORG": "ACTOR", "GPE": "LOCATION", "DATE": None}, strip_leading_words=frozenset({"the"}))
    assert predictor.spans_of(sdoc, "d") == [Span(4, 11, "ACTOR"), Span(19, 27, "LOCATION")]
    with pytest.raises(CorpusError, match="DATE"):
        SpacyPredictor(nlp, {"ORG": "ACTOR", "GPE": "LOCATION"}).spans_of(sdoc, "d")


def test_docbin_reports_misaligned_spans_and_marks_them_missing():
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    text = "Houthis struck Hodeidah."
    gold = Document("d1", text, [Span(0, 4, "ACTOR"), Span(15, 23, "LOCATION")])  # "Hout" is not a token
    docbin, problems = docs_to_docbin(nlp.make_doc, [gold])
    assert len(problems) == 1
    (p,) = problems
    assert p.record == "d1" and p.severity == "warning" and "'Hout'" in p.message and "Houthis" in p.message
    (sdoc,) = DocBin().from_bytes(docbin.to_bytes()).get_docs(nlp.vocab)
    assert [(e.text, e.label_) for e in sdoc.ents] == [("Hodeidah", "LOCATION")]
    assert sdoc[0].ent_iob_ == ""  # missing, not O
    assert sdoc[1].ent_iob_ == "O"


def test_config_ner_matches_the_base_pipeline(base_nlp):
    """The pretrained layers can only be copied into the same architecture."""
    ours = spacy.util.load_config(SPACY_CONFIG)["components"]["ner"]["model"]
    theirs = base_nlp.config["components"]["ner"]["model"]
    assert ours == theirs


def test_pretrained_layers_are_copied(base_nlp, tmp_path):
    """spaCy's own initialisation of the committed config: our labels only, tok2vec and lower from en_core_web_sm."""
    import numpy as np
    from spacy.training.initialize import init_nlp

    from conflict_spans.evaluation import spacy_callbacks  # noqa: F401  (registers the callback)

    make_doc = load_spacy_pipeline(SPACY_PIPELINE, enable=[]).make_doc
    docbin, problems = docs_to_docbin(make_doc, TRAIN)
    assert not problems
    docbin.to_disk(tmp_path / "train.spacy")
    config = spacy.util.load_config(SPACY_CONFIG, overrides={"paths.train": str(tmp_path / "train.spacy"), "paths.dev": str(tmp_path / "train.spacy")})
    nlp = init_nlp(config)
    assert set(nlp.get_pipe("ner").labels) == set(LABEL_NAMES)
    for ref in ("tok2vec", "lower"):
        ours = nlp.get_pipe("ner").model.get_ref(ref)
        theirs = base_nlp.get_pipe("ner").model.get_ref(ref)
        pairs = list(zip(ours.walk(), theirs.walk()))
        assert pairs and all(a.name == b.name for a, b in pairs)
        for a, b in pairs:
            for name in a.param_names:
                assert np.array_equal(a.get_param(name), b.get_param(name)), (ref, a.name, name)
    upper = nlp.get_pipe("ner").model.get_ref("upper")
    assert upper.get_dim("nO") == nlp.get_pipe("ner").moves.n_moves < base_nlp.get_pipe("ner").model.get_ref("upper").get_dim("nO")  # new, our labels only


def test_cache_key(tmp_path):
    config = tmp_path / "config.cfg"
    config.write_text(SPACY_CONFIG.read_text())
    key = cache_key(TRAIN, TRAIN[:1], config)
    assert key == cache_key(TRAIN, TRAIN[:1], config)
    assert key.startswith("train-") and "_config-" in key
    assert key != cache_key(TRAIN[:1], TRAIN[:1], config)
    assert key.split("_config-")[0] != cache_key(TRAIN[:1], TRAIN[:1], config).split("_config-")[0]
    config.write_text(SPACY_CONFIG.read_text().replace("dropout = 0.2", "dropout = 0.3"))
    changed = cache_key(TRAIN, TRAIN[:1], config)
    assert changed.split("_config-")[0] == key.split("_config-")[0] and changed != key


def test_cached_pipeline_is_reused(tmp_path, monkeypatch):
    folder = tmp_path / "spacy-finetuned" / cache_key(TRAIN, TRAIN, SPACY_CONFIG)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in LABEL_NAMES:
        ner.add_label(label)
    nlp.initialize()
    folder.mkdir(parents=True)
    nlp.to_disk(folder / "model-best")
    (folder / "training.json").write_text(json.dumps({"train_seconds": 1.0}))

    def no_training(*args, **kwargs):
        raise AssertionError("trained although a cached pipeline exists")

    monkeypatch.setattr(spacy_baseline, "train", no_training)
    predictor, info = finetuned_predictor(TRAIN, TRAIN, config_path=SPACY_CONFIG, cache_dir=tmp_path, log=lambda m: None)
    assert info["cached"] is True and info["folder"] == str(folder)
    assert len(predictor.predict_documents(TRAIN)) == 2


def test_cached_pipeline_with_other_labels_is_refused(tmp_path):
    folder = tmp_path / "spacy-finetuned" / cache_key(TRAIN, TRAIN, SPACY_CONFIG)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner").add_label("ORG")
    nlp.initialize()
    folder.mkdir(parents=True)
    nlp.to_disk(folder / "model-best")
    (folder / "training.json").write_text("{}")
    with pytest.raises(CorpusError, match="labels are not the schema's"):
        finetuned_predictor(TRAIN, TRAIN, config_path=SPACY_CONFIG, cache_dir=tmp_path, log=lambda m: None)


@pytest.mark.slow
def test_train_for_real_then_reuse(tmp_path):
    """A few steps of `spacy train` with the committed config (only the step budget shortened)."""
    config = tmp_path / "config.cfg"
    config.write_text(SPACY_CONFIG.read_text().replace("max_steps = 5000", "max_steps = 20").replace("eval_frequency = 100", "eval_frequency = 10"))
    messages: list[str] = []
    predictor, info = finetuned_predictor(TRAIN * 3, TRAIN, config_path=config, cache_dir=tmp_path, log=messages.append)
    assert info["cached"] is False and info["train_seconds"] > 0 and info["misaligned_spans"] == []
    folder = Path(info["folder"])
    assert (folder / "model-best" / "meta.json").exists() and (folder / "train.log").exists()
    assert set(predictor.nlp.get_pipe("ner").labels) == set(LABEL_NAMES)
    out = predictor.predict_documents([Document(d.id, d.text, []) for d in TRAIN])
    assert [d.id for d in out] == ["t1", "t2"]
    _, again = finetuned_predictor(TRAIN * 3, TRAIN, config_path=config, cache_dir=tmp_path, log=messages.append)
    assert again["cached"] is True
    assert [p for p in tmp_path.joinpath("spacy-finetuned").iterdir()] == [folder]  # no temporary folders left
