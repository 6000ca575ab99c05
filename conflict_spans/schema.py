"""The label schema, defined once.

Everything else derives from this module: the IOB2 tag list, ``id2label`` /
``label2id`` in model configs, the ``ClassLabel`` names of the HF dataset, the
Label Studio labeling config and the rows of every report.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class Label:
    name: str
    code: str  # short code used in the authoring markup
    description: str
    color: str  # used by the Label Studio config


LABELS: tuple[Label, ...] = (
    Label("ACTOR", "ACT", "A party that fights, attacks, governs, backs, mediates or negotiates", "#1f77b4"),
    Label("CASUALTY", "CAS", "A stated number of people killed, dead, wounded or injured", "#d62728"),
    Label("LOCATION", "LOC", "A named place referred to as a place", "#2ca02c"),
    Label("ATTRIBUTION", "ATT", "The source of a reported statement, figure or position", "#9467bd"),
)

LABEL_NAMES: tuple[str, ...] = tuple(label.name for label in LABELS)

# Attributes carried by some labels: CASUALTY has a required ``status``.
STATUS_ATTRIBUTE = "status"
STATUS_VALUES: tuple[str, ...] = ("killed", "injured")
LABELS_WITH_STATUS: frozenset[str] = frozenset({"CASUALTY"})

CODE_TO_LABEL: dict[str, str] = {label.code: label.name for label in LABELS}
LABEL_TO_CODE: dict[str, str] = {label.name: label.code for label in LABELS}

OUTSIDE = "O"


def iob2_tags() -> list[str]:
    """The IOB2 tag list in a fixed order: ``O``, then ``B-``/``I-`` per label."""
    tags = [OUTSIDE]
    for name in LABEL_NAMES:
        tags += [f"B-{name}", f"I-{name}"]
    return tags


TAGS: tuple[str, ...] = tuple(iob2_tags())
ID2LABEL: dict[int, str] = dict(enumerate(TAGS))
LABEL2ID: dict[str, int] = {tag: i for i, tag in ID2LABEL.items()}

# Metadata vocabularies for corpus documents.
GENRES: tuple[str, ...] = (
    "wire", "monitor", "un-briefing", "ngo-briefing", "casualty-update", "diplomatic",
    "press-conference", "live-blog", "brief", "statement", "analysis",
    # corpus part 2
    "press-release", "testimony", "tribunal-report", "monitoring-report", "field-report",
    "roundup",
)
SPLITS: tuple[str, ...] = ("train", "validation", "test")


def is_known_label(name: str) -> bool:
    return name in LABEL_NAMES
