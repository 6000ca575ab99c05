"""The committed corpus is what ``conflict-spans build`` makes of corpus/src, and every
split covers every conflict. Builds go to temporary folders; corpus/ is only read."""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict

import pytest

from conflict_spans.corpus.build import load_splits
from conflict_spans.corpus.conflicts import load_conflicts
from conflict_spans.corpus.splits import group_of, load_assignment
from conflict_spans.schema import LABEL_NAMES, LABELS_WITH_STATUS, RELATION_NAMES, SPLITS

from conftest import REPO_ROOT

CORPUS = REPO_ROOT / "corpus"
CONFLICTS = list(load_conflicts(CORPUS / "conflicts.json"))


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory, run_cli):
    """``conflict-spans build`` of corpus/src into a temporary folder, from a copy of the committed assignment."""
    out = tmp_path_factory.mktemp("fresh-build")
    shutil.copy(CORPUS / "splits.json", out / "splits.json")
    result = run_cli("build", "--src", CORPUS / "src", "--out", out / "data", "--splits", out / "splits.json")
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def committed():
    return load_splits(CORPUS / "data")


@pytest.mark.parametrize("split", SPLITS)
def test_committed_split_file_equals_a_fresh_build(fresh_build, split):
    built = (fresh_build / "data" / f"{split}.jsonl").read_text(encoding="utf-8")
    assert built == (CORPUS / "data" / f"{split}.jsonl").read_text(encoding="utf-8"), \
        f"corpus/data/{split}.jsonl drifted from corpus/src: run `conflict-spans build`"


def test_a_fresh_build_assigns_no_new_story_group(fresh_build):
    assert (fresh_build / "splits.json").read_text(encoding="utf-8") == (CORPUS / "splits.json").read_text(encoding="utf-8"), \
        "corpus/splits.json lacks groups that corpus/src has: run `conflict-spans build` and commit splits.json"


def test_the_committed_documents_are_the_sources(committed):
    sources = {p.stem for p in (CORPUS / "src").rglob("*.txt")}
    ids = [d.id for docs in committed.values() for d in docs]
    assert len(ids) == len(set(ids)) and set(ids) == sources


def test_every_split_covers_every_conflict(committed):
    for split in SPLITS:
        covered = {d.meta["conflict"] for d in committed[split]}
        assert covered == set(CONFLICTS), f"{split} lacks {sorted(set(CONFLICTS) - covered)}"


def test_each_document_sits_in_its_groups_assigned_split(committed):
    assignment = load_assignment(CORPUS / "splits.json")
    splits_of_group = defaultdict(set)
    for split, docs in committed.items():
        for doc in docs:
            assert assignment[group_of(doc)] == split, doc.id
            splits_of_group[group_of(doc)].add(split)
    assert all(len(s) == 1 for s in splits_of_group.values())


def test_every_label_and_status_occurs_in_every_split(committed):
    for split, docs in committed.items():
        counts = Counter(s.label for d in docs for s in d.spans)
        assert all(counts[label] > 0 for label in LABEL_NAMES), (split, counts)
        statuses = Counter(s.status for d in docs for s in d.spans if s.label in LABELS_WITH_STATUS)
        assert statuses["killed"] > 0 and statuses["injured"] > 0 and statuses[None] == 0, (split, statuses)


@pytest.mark.parametrize("split", SPLITS)
def test_jsonl_records_have_the_documented_shape(split):
    for line in (CORPUS / "data" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert list(record) == ["id", "text", "spans", "relations", "meta"]
        for rel in record["relations"]:
            assert set(rel) == {"from", "to", "type"}
            assert record["spans"][rel["from"]]["label"] == "CASUALTY" and rel["type"] in RELATION_NAMES
        for span in record["spans"]:
            assert set(span) - {"status"} == {"start", "end", "label", "text"}
            assert record["text"][span["start"]:span["end"]] == span["text"]
            assert ("status" in span) == (span["label"] in LABELS_WITH_STATUS)
        starts = [(s["start"], s["end"]) for s in record["spans"]]
        assert starts == sorted(starts)
        assert {"conflict", "country", "genre", "provenance"} <= set(record["meta"])
        assert record["meta"]["provenance"]["source_of_facts"] is False


def test_stats_counts_match_the_committed_files(run_cli, committed, tmp_path):
    result = run_cli("stats", cwd=tmp_path)  # the default is the bundled corpus, from any folder
    assert result.returncode == 0, result.stderr
    rows: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("| "):
            rows.setdefault(line.split(" | ")[0].strip("| "), []).append(line)
    for split, docs in committed.items():
        counts = Counter(s.label for d in docs for s in d.spans)
        spans_row, links_row = ([c.strip() for c in row.strip("|").split("|")] for row in rows[split][:2])
        assert spans_row[0] == split and int(spans_row[1]) == len(docs)
        assert [int(c) for c in spans_row[3:3 + len(LABEL_NAMES)]] == [counts[label] for label in LABEL_NAMES]
        links = Counter(r.type for d in docs for r in d.relations)
        assert int(links_row[1]) == sum(1 for d in docs if d.relations)
        assert [int(c) for c in links_row[2:2 + len(RELATION_NAMES)]] == [links[t] for t in RELATION_NAMES]
    for conflict in CONFLICTS:
        assert conflict in rows


def test_every_conflict_in_the_list_has_documents_and_every_document_a_listed_conflict(committed):
    used = Counter(d.meta["conflict"] for docs in committed.values() for d in docs)
    assert set(used) == set(CONFLICTS)


def test_the_corpus_meets_its_size_and_variety_targets(committed):
    """The targets of corpus part 2 (corpus/README.md): size, labels, conflicts, genres, lengths and forms."""
    from conflict_spans.corpus.forms import FORMS
    from conflict_spans.corpus.stats import shape_counts

    docs = [d for split_docs in committed.values() for d in split_docs]
    labels = Counter(s.label for d in docs for s in d.spans)
    assert len(docs) >= 600 and sum(labels.values()) >= 24000
    assert all(labels[label] >= 2000 for label in LABEL_NAMES), labels
    conflicts = load_conflicts(CORPUS / "conflicts.json")
    per_conflict = Counter(d.meta["conflict"] for d in docs)
    assert len(per_conflict) >= 40 and max(per_conflict.values()) <= 0.06 * len(docs), per_conflict.most_common(3)
    assert sum(1 for c in per_conflict if conflicts[c].first_year >= 1990 and conflicts[c].last_year <= 2019) >= 10
    shapes = shape_counts(docs)
    assert shapes["no CASUALTY span"] >= 0.20 * len(docs) and shapes["over 700 words"] >= 0.15 * len(docs), shapes
    for form in ("F1 long official names", "F2 unit designations", "F3 diacritics or original script",
                 "F4 plain demonyms and group nouns", "F5 pronoun or distant speakers", "F6 datelines, bylines, credits, captions"):
        assert form in FORMS and shapes[form] >= 60, (form, shapes[form])
    genres = Counter(d.meta["genre"] for d in docs)
    assert all(genres[g] > 0 for g in ("press-release", "testimony", "tribunal-report", "monitoring-report", "field-report", "roundup"))
