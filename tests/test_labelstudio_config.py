"""The labeling config is generated from the schema; the committed copy must not drift."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conflict_spans.annotation.labelstudio.config import config_names, labeling_config_xml
from conflict_spans.cli import main
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABELS, STATUS_ATTRIBUTE, STATUS_VALUES

from conftest import REPO_ROOT

COMMITTED_CONFIG = REPO_ROOT / "annotation" / "labeling_config.xml"


def test_committed_config_matches_the_schema():
    assert COMMITTED_CONFIG.read_text(encoding="utf-8") == labeling_config_xml(), \
        "annotation/labeling_config.xml drifted from conflict_spans/schema.py: run `conflict-spans ls config --output annotation/labeling_config.xml`"


def test_config_has_the_schema_labels_colors_and_word_granularity():
    root = ET.fromstring(labeling_config_xml())
    labels = [(el.get("value"), el.get("background")) for el in root.iter("Label")]
    assert labels == [(lb.name, lb.color) for lb in LABELS]
    (text,) = root.iter("Text")
    assert text.get("granularity") == "word"


def test_status_is_a_per_region_choice_visible_only_for_casualty():
    root = ET.fromstring(labeling_config_xml())
    (choices,) = root.iter("Choices")
    assert choices.get("name") == STATUS_ATTRIBUTE and choices.get("perRegion") == "true"
    assert [c.get("value") for c in choices.iter("Choice")] == list(STATUS_VALUES)
    box = next(v for v in root.iter("View") if choices in list(v))
    assert (box.get("visibleWhen"), box.get("whenTagName"), box.get("whenLabelValue")) == ("region-selected", "label", "CASUALTY")


def test_names_are_read_from_any_config():
    xml = """<View><Labels name="ents" toName="doc"><Label value="ACTOR"/></Labels>
    <Text name="doc" value="$body"/><Choices name="status" toName="doc" perRegion="true"><Choice value="killed"/></Choices></View>"""
    names = config_names(xml)
    assert (names.labels_from, names.to_name, names.text_key, names.status_from) == ("ents", "doc", "body", "status")
    assert names.label_values == ("ACTOR",) and names.status_values == ("killed",)


@pytest.mark.parametrize("xml, fragment", [
    ("<View><Text name='t' value='$text'/></View>", "<Labels> tag"),
    ("<View><Labels name='l' toName='t'/></View>", "<Text> tag"),
    ("<View><Labels name='l' toName='other'/><Text name='t' value='$text'/></View>", "<Labels toName='t'>"),
    ("<View><Labels", "cannot be read"),
])
def test_broken_configs_are_clear_errors(xml, fragment):
    with pytest.raises(CorpusError) as err:
        config_names(xml)
    assert fragment in str(err.value) and "conflict-spans ls config" in str(err.value)


def test_config_command_writes_and_checks(tmp_path, capsys):
    out = tmp_path / "config.xml"
    assert main(["ls", "config", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == labeling_config_xml()
    assert main(["ls", "config", "--check", "--output", str(out)]) == 0
    out.write_text(labeling_config_xml().replace("#d62728", "#000000"), encoding="utf-8")
    assert main(["ls", "config", "--check", "--output", str(out)]) == 1
    assert "differs from the config generated" in capsys.readouterr().err
