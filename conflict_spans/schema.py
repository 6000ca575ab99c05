"""The label schema, defined once.

Everything else derives from this module: the IOB2 tag list, ``id2label`` /
``label2id`` in model configs, the ``ClassLabel`` names of the HF dataset, the
Label Studio labeling config and the rows of every report.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = "2"  # 2: relations between spans


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



@dataclass(frozen=True)
class RelationType:
    """A link between two spans: ``head`` label -> ``tail`` label.

    ``single`` means a head span has at most one outgoing link of this type.
    ``ordered`` means the tail comes before the head in the text.
    """
    name: str
    head: str
    tail: str
    description: str
    single: bool = False
    ordered: bool = False


RELATIONS: tuple[RelationType, ...] = (
    RelationType("source", "CASUALTY", "ATTRIBUTION", "Who gives the figure: the source the text attributes it to"),
    RelationType("location", "CASUALTY", "LOCATION", "Where the people were killed or injured, as the text places it"),
    RelationType("perpetrator", "CASUALTY", "ACTOR", "Who killed or injured them, when the text says so"),
    RelationType("part_of", "CASUALTY", "CASUALTY", "A sub-count inside a total (\"including 92 civilians\")", single=True),
    RelationType("restates", "CASUALTY", "CASUALTY", "A later mention of the same figure, linked to its first mention", single=True, ordered=True),
)
RELATION_NAMES: tuple[str, ...] = tuple(r.name for r in RELATIONS)
RELATION_BY_NAME: dict[str, RelationType] = {r.name: r for r in RELATIONS}
# Relations that put the same people in one group: their tails are earlier mentions.
GROUPING_RELATION = "restates"

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
