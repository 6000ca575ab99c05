"""The label schema is defined once (conflict_spans.schema); everything else derives from it.

The Label Studio config drift test lives in test_labelstudio_config.py; the
committed corpus drift test in test_corpus_bundle.py.
"""

from __future__ import annotations

import re

import pytest

from conflict_spans import schema
from conflict_spans.schema import (CODE_TO_LABEL, ID2LABEL, LABEL2ID, LABEL_NAMES, LABEL_TO_CODE, LABELS, LABELS_WITH_STATUS, OUTSIDE, STATUS_VALUES,
                                   TAGS)

from conftest import REPO_ROOT


def test_four_flat_labels_with_unique_names_codes_and_colors():
    assert LABEL_NAMES == ("ACTOR", "CASUALTY", "LOCATION", "ATTRIBUTION")
    for field in ("name", "code", "color"):
        values = [getattr(label, field) for label in LABELS]
        assert len(set(values)) == len(values), f"duplicate {field}"
    assert all(re.fullmatch(r"#[0-9a-f]{6}", label.color) for label in LABELS)


def test_iob2_tag_list_is_outside_then_begin_inside_per_label_in_schema_order():
    expected = ["O"] + [f"{prefix}-{name}" for name in LABEL_NAMES for prefix in ("B", "I")]
    assert list(TAGS) == schema.iob2_tags() == expected
    assert TAGS[0] == OUTSIDE


def test_id2label_and_label2id_are_inverse_and_follow_the_tag_list():
    assert ID2LABEL == dict(enumerate(TAGS))
    assert LABEL2ID == {tag: i for i, tag in enumerate(TAGS)}
    assert all(LABEL2ID[ID2LABEL[i]] == i for i in ID2LABEL)


def test_codes_and_names_map_both_ways():
    assert {v: k for k, v in CODE_TO_LABEL.items()} == LABEL_TO_CODE
    assert set(CODE_TO_LABEL.values()) == set(LABEL_NAMES)


def test_status_attribute_lives_on_casualty_only():
    assert LABELS_WITH_STATUS == frozenset({"CASUALTY"})
    assert STATUS_VALUES == ("killed", "injured")


@pytest.mark.parametrize("name, known", [("ACTOR", True), ("LOCATION", True), ("actor", False), ("PERSON", False), ("B-ACTOR", False), ("", False)])
def test_is_known_label(name, known):
    assert schema.is_known_label(name) is known


def test_hf_class_label_names_are_the_tag_list():
    from conflict_spans.corpus.formats import features

    assert features()["ner_tags"].feature.names == list(TAGS)


def test_decoder_transition_matrix_has_one_row_per_tag():
    from conflict_spans.model.decoding import ALLOWED, START_ALLOWED

    assert ALLOWED.shape == (len(TAGS), len(TAGS)) and START_ALLOWED.shape == (len(TAGS),)
    for j, tag in enumerate(TAGS):
        assert START_ALLOWED[j] == (not tag.startswith("I-"))


def test_stats_report_rows_follow_the_schema():
    from conflict_spans.corpus.stats import stats_table

    header = stats_table({"train": []}).splitlines()[2]
    assert header == "| split | docs | words | " + " | ".join(LABEL_NAMES) + " | spans |"


def test_a_fresh_tagger_carries_the_schema_label_maps(tmp_path):
    """transformers' run_ner writes the label maps into the model config; so does build_token_classifier."""
    from conflict_spans.model.network import build_token_classifier

    from support import make_tiny_encoder

    encoder = make_tiny_encoder(tmp_path / "encoder")
    model = build_token_classifier(str(encoder), casing_features=False)
    assert {int(k): v for k, v in model.config.id2label.items()} == ID2LABEL
    assert model.config.label2id == LABEL2ID
    assert model.config.num_labels == len(TAGS)


# ---- committed documents that name the labels ---------------------------------------

def test_the_spec_has_one_section_per_schema_label():
    spec = REPO_ROOT / "annotation" / "SPEC.md"  # the project's copy of the binding spec
    headings = re.findall(r"^## ([A-Z]+)$", spec.read_text(encoding="utf-8"), flags=re.M)
    assert sorted(headings) == sorted(LABEL_NAMES)


def test_guidelines_table_lists_every_label_with_its_code():
    text = (REPO_ROOT / "annotation" / "GUIDELINES.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([A-Z]+) \(`([A-Z]+)", text, flags=re.M)
    assert sorted(rows) == sorted(LABEL_TO_CODE.items())


def test_authoring_guide_lists_every_code_and_status():
    text = (REPO_ROOT / "annotation" / "AUTHORING.md").read_text(encoding="utf-8")
    for label in LABELS:
        if label.name in LABELS_WITH_STATUS:
            for status in STATUS_VALUES:
                assert f"`{label.code}:{status}`" in text
        else:
            assert f"`{label.code}` ({label.name})" in text
