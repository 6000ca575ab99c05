"""The Label Studio labeling config, generated from the schema module.

``labeling_config_xml()`` writes it; ``config_names()`` reads the tag names back
from any config (the one a project really uses), so that results are shaped
from the config rather than from names hard-coded elsewhere.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from conflict_spans import problems as catalogue
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABELS, LABELS_WITH_STATUS, RELATIONS, STATUS_ATTRIBUTE, STATUS_VALUES

TEXT_TAG_NAME = "text"
TEXT_DATA_KEY = "text"  # task.data key holding the document text
DOC_ID_DATA_KEY = "doc_id"  # task.data key holding the corpus document id
META_DATA_KEY = "meta"  # task.data key holding the document's metadata
LABELS_TAG_NAME = "label"


def labeling_config_xml() -> str:
    """The labeling config for the schema: four labels, word granularity, per-region status, typed relations."""
    view = ET.Element("View")
    view.append(ET.Comment(" Generated from conflict_spans/schema.py by `conflict-spans ls config`; do not edit by hand. "))
    labels = ET.SubElement(view, "Labels", {"name": LABELS_TAG_NAME, "toName": TEXT_TAG_NAME})
    for label in LABELS:
        ET.SubElement(labels, "Label", {"value": label.name, "background": label.color, "hint": label.description})
    ET.SubElement(view, "Text", {"name": TEXT_TAG_NAME, "value": f"${TEXT_DATA_KEY}", "granularity": "word"})
    for label_name in (lb.name for lb in LABELS if lb.name in LABELS_WITH_STATUS):
        # Shown only while a region of this label is selected; stored as a ``choices``
        # result carrying the region's id.
        box = ET.SubElement(view, "View", {"visibleWhen": "region-selected", "whenTagName": LABELS_TAG_NAME, "whenLabelValue": label_name})
        ET.SubElement(box, "Header", {"value": f"{label_name} {STATUS_ATTRIBUTE}"})
        choices = ET.SubElement(box, "Choices", {"name": STATUS_ATTRIBUTE, "toName": TEXT_TAG_NAME, "perRegion": "true", "choice": "single-radio"})
        for value in STATUS_VALUES:
            ET.SubElement(choices, "Choice", {"value": value})
    # links between regions (annotation/LINKS.md): drawn from the CASUALTY region to the other span
    relations = ET.SubElement(view, "Relations")
    for kind in RELATIONS:
        ET.SubElement(relations, "Relation", {"value": kind.name, "hint": f"{kind.head} -> {kind.tail}: {kind.description}"})
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode") + "\n"


@dataclass(frozen=True)
class ConfigNames:
    """Tag names and values of a labeling config, as results must use them."""

    labels_from: str  # <Labels name>
    to_name: str  # <Text name>
    text_key: str  # task.data key of <Text value="$key">
    label_values: tuple[str, ...]
    status_from: str | None  # per-region <Choices name> for the status attribute
    status_values: tuple[str, ...]
    relation_values: tuple[str, ...] = ()  # <Relations><Relation value> (empty: the config has no relations)


def config_names(xml: str) -> ConfigNames:
    """Read the names results need from a labeling config; raise when a required tag is missing."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise CorpusError(catalogue.config_invalid(str(exc))) from None
    texts = [el for el in root.iter("Text")]
    if not texts:
        raise CorpusError(catalogue.config_tag_missing("<Text> tag"))
    labels = [el for el in root.iter("Labels")]
    if not labels:
        raise CorpusError(catalogue.config_tag_missing("<Labels> tag"))
    text = texts[0]
    labels_tag = next((el for el in labels if el.get("toName") == text.get("name")), None)
    if labels_tag is None:
        raise CorpusError(catalogue.config_tag_missing(f"<Labels toName={text.get('name')!r}>"))
    status = next((el for el in root.iter("Choices") if el.get("name") == STATUS_ATTRIBUTE and el.get("perRegion") == "true"), None)
    return ConfigNames(
        labels_from=labels_tag.get("name", ""),
        to_name=text.get("name", ""),
        text_key=text.get("value", "").lstrip("$"),
        label_values=tuple(el.get("value", "") for el in labels_tag.iter("Label")),
        status_from=None if status is None else status.get("name"),
        status_values=() if status is None else tuple(el.get("value", "") for el in status.iter("Choice")),
        relation_values=tuple(el.get("value", "") for tag in root.iter("Relations") for el in tag.iter("Relation")),
    )


def schema_names() -> ConfigNames:
    return config_names(labeling_config_xml())


def write_config(path: Path) -> Path:
    from conflict_spans.corpus.io import atomic_write_text

    atomic_write_text(path, labeling_config_xml())
    return path
