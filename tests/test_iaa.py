"""Inter-annotator agreement: `conflict-spans audit FIRST --agreement SECOND` and the committed figures in corpus/iaa."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conflict_spans.corpus.audit import DISAGREEMENT_KINDS, agreement_markdown, agreement_report
from conflict_spans.corpus.io import read_documents
from conflict_spans.document import Document

from support import spans_from_marks

ROOT = Path(__file__).resolve().parents[1]
IAA = ROOT / "corpus" / "iaa"

TEXT = "Rebels killed 12 people in Goma, the army said."


def doc(*marks: tuple[str, str, str | None], doc_id: str = "d1") -> Document:
    """TEXT with spans given as (surface, label, status), in text order."""
    return Document(doc_id, TEXT, spans_from_marks(TEXT, list(marks)), {})


REBELS, ARMY = ("Rebels", "ACTOR", None), ("army", "ATTRIBUTION", None)

# (case, first, second, expected disagreement kinds)
CASES = [
    ("identical", [REBELS, ARMY], [REBELS, ARMY], []),
    ("only first", [REBELS, ("Goma", "LOCATION", None)], [REBELS], ["only-first"]),
    ("only second", [], [("Goma", "LOCATION", None)], ["only-second"]),
    ("label", [("army", "ACTOR", None)], [ARMY], ["label"]),
    ("boundary", [("12", "CASUALTY", "killed")], [("12 people", "CASUALTY", "killed")], ["boundary"]),
    ("label and boundary", [("the army", "ACTOR", None)], [ARMY], ["label-boundary"]),
    ("status", [("12 people", "CASUALTY", "killed")], [("12 people", "CASUALTY", "injured")], ["status"]),
]


@pytest.mark.parametrize("case, first, second, expected", CASES, ids=[c[0] for c in CASES])
def test_disagreement_kinds(case, first, second, expected):
    result = agreement_report([doc(*first)], [doc(*second)])
    assert [d["kind"] for d in result["disagreements"]["items"]] == expected
    assert sum(result["disagreements"]["counts"].values()) == len(expected)
    assert list(result["disagreements"]["counts"]) == list(DISAGREEMENT_KINDS)


def test_only_documents_both_sides_annotated_are_compared():
    result = agreement_report([doc(REBELS), doc(doc_id="d2")], [doc(REBELS)])
    assert result["documents"] == 1 and result["first_only_documents"] == 1
    assert result["micro"]["strict"]["f1"] == 1.0


def test_markdown_states_the_command_and_every_label():
    result = agreement_report([doc(("army", "ACTOR", None))], [doc(ARMY)])
    md = agreement_markdown(result, first="a", second="b")
    assert "conflict-spans audit a --agreement b" in md
    for row in ("| ACTOR |", "| CASUALTY |", "| LOCATION |", "| ATTRIBUTION |", "| micro |"):
        assert row in md


# ---- the committed figures ------------------------------------------------------------------

def test_the_part1_passes_share_their_texts():
    # corpus/src has since been rewritten under the provenance rules (corpus/PROVENANCE_REVIEW.md), so the
    # part-1 study is a record of its own: first and second pass of the same 26 texts
    first = {d.id: d for d in read_documents(IAA / "first")}
    second = {d.id: d for d in read_documents(IAA / "second")}
    assert set(first) == set(second) and len(second) == 26
    assert all(first[i].text == second[i].text for i in second)


@pytest.mark.parametrize("first, committed", [
    ("corpus/iaa/first", "agreement.json"),                       # part 1, before adjudication (not blind: an upper bound)
])
def test_committed_agreement_is_reproduced_by_the_command(run_cli, tmp_path, first, committed):
    out = tmp_path / "agreement.json"
    proc = run_cli("audit", first, "--agreement", "corpus/iaa/second", "--format", "json", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads((IAA / committed).read_text(encoding="utf-8")), \
        f"corpus/iaa/{committed} is out of date: rerun the command in corpus/iaa/ADJUDICATION.md"


# ---- the blind study of corpus part 2 (corpus/iaa/blind) -------------------------------------

BLIND = IAA / "blind"


def test_blind_sample_is_the_seeded_draw_and_both_passes_share_its_texts():
    sample = json.loads((BLIND / "sample.json").read_text(encoding="utf-8"))
    ids = {d["id"] for d in sample["documents"]}
    assert len(ids) == 60 and sample["by_split"]["test"] >= 20
    first = {d.id: d for d in read_documents(BLIND / "first")}
    second = {d.id: d for d in read_documents(BLIND / "second")}
    assert set(first) == set(second) == ids
    assert all(first[i].text == second[i].text for i in ids)


def test_blind_sample_is_redrawn_identically_from_the_frozen_first_pass():
    import importlib.util

    spec = importlib.util.spec_from_file_location("iaa_sample", ROOT / "scripts" / "iaa_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sample = json.loads((BLIND / "sample.json").read_text(encoding="utf-8"))
    first = read_documents(BLIND / "first")
    by_split = {s: [d for d in first if d.id in {x["id"] for x in sample["documents"] if x["split"] == s}] for s in sample["by_split"]}
    # the draw only depends on ids, conflicts and genres: drawing from the sample itself gives the sample back
    redrawn = module.draw(by_split, 60, 24)
    assert sorted(d.id for _, d in redrawn) == sorted(x["id"] for x in sample["documents"])


def test_blind_agreement_is_reproduced_by_the_command(run_cli, tmp_path):
    out = tmp_path / "agreement.json"
    proc = run_cli("audit", "corpus/iaa/blind/first", "--agreement", "corpus/iaa/blind/second", "--format", "json", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads((BLIND / "agreement.json").read_text(encoding="utf-8"))


# ---- the dataset card (corpus/README.md) reports these figures: it must not drift -----------------

CARD = ROOT / "corpus" / "README.md"


def card_text() -> str:
    return CARD.read_text(encoding="utf-8")


def test_card_front_matter():
    import yaml

    text = card_text()
    assert text.startswith("---\n")
    meta = yaml.safe_load(text.split("---\n", 2)[1])
    assert meta["license"] == "cc-by-4.0" and meta["language"] == ["en"]
    assert meta["task_categories"] == ["token-classification"] and meta["task_ids"] == ["named-entity-recognition"]
    assert meta["pretty_name"] and meta["size_categories"]
    assert [f["path"] for f in meta["configs"][0]["data_files"]] == ["data/train.jsonl", "data/validation.jsonl", "data/test.jsonl"]


def test_card_tag_table_is_the_schema():
    from conflict_spans.schema import TAGS

    rows = [line for line in card_text().splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert [(int(r.split("|")[1]), r.split("|")[2].strip()) for r in rows] == list(enumerate(TAGS))


def test_card_stats_are_the_built_corpus():
    import re

    from conflict_spans.corpus.build import load_splits
    from conflict_spans.corpus.stats import stats_table

    expected = re.sub(r"(?m)^## ", "### ", stats_table(load_splits()))
    assert expected in card_text(), "corpus/README.md: paste the output of `conflict-spans stats corpus` again (headings one level down)"


def test_card_agreement_figures_are_the_committed_ones():
    before = json.loads((IAA / "blind" / "agreement.json").read_text(encoding="utf-8"))
    text = card_text()
    for label, views in [*before["labels"].items(), ("micro", before["micro"])]:
        s, o = views["strict"], views["overlap"]
        cells = [f"{v:.3f}" for v in (s["precision"], s["recall"], s["f1"], o["precision"], o["recall"], o["f1"])]
        row = next(line for line in text.splitlines() if line.strip().startswith(f"| {label} |") and "0." in line)
        assert [c.strip().strip("*") for c in row.split("|")[2:8]] == cells, label
