"""Document-level splits (conflict_spans.corpus.splits): deterministic, stable as documents
are added, whole story groups, every split covering each conflict with at least
four groups, and shares near 80/10/10."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conflict_spans.corpus.splits import TARGETS, assign_splits, dump_assignment, group_of, load_assignment, split_documents
from conflict_spans.document import Document
from conflict_spans.problems import CorpusError
from conflict_spans.schema import SPLITS

from conftest import REPO_ROOT

CONFLICT_NAMES = ("sudan", "ukraine", "haiti", "yemen")


def make_docs(plan: list[tuple[str, int, int]]) -> list[Document]:
    """``plan``: (conflict, story number, documents in the story) -> documents with ``meta.group``."""
    docs = []
    for conflict, story, size in plan:
        for k in range(size):
            docs.append(Document(f"{conflict}-{story:03d}-{k}", f"story {story} part {k}", [], {"conflict": conflict, "group": f"{conflict}-{story:03d}"}))
    return docs


@st.composite
def corpora(draw) -> list[list[Document]]:
    """A corpus as it grows: a list of batches, each adding new story groups (some with several documents)."""
    plan = []
    for conflict in draw(st.lists(st.sampled_from(CONFLICT_NAMES), min_size=1, max_size=4, unique=True)):
        for story in range(draw(st.integers(1, 40))):
            plan.append((conflict, story, draw(st.sampled_from([1, 1, 1, 2, 3]))))
    random.Random(draw(st.integers(0, 2**32 - 1))).shuffle(plan)
    cuts = sorted(draw(st.lists(st.integers(0, len(plan)), max_size=4)))
    bounds = [0, *cuts, len(plan)]
    return [make_docs(plan[a:b]) for a, b in zip(bounds, bounds[1:])]


def grow(batches: list[list[Document]]) -> tuple[list[Document], list[dict[str, str]]]:
    """Assign batch after batch, as successive ``conflict-spans build`` runs do."""
    docs, history, assignment = [], [], {}
    for batch in batches:
        docs = docs + batch
        assignment = assign_splits(docs, assignment)
        history.append(assignment)
    return docs, history


@settings(max_examples=300, deadline=None)
@given(batches=corpora())
def test_adding_documents_never_moves_an_old_group(batches):
    _, history = grow(batches)
    for before, after in zip(history, history[1:]):
        assert {g: after[g] for g in before} == before


@settings(max_examples=200, deadline=None)
@given(batches=corpora(), seed=st.integers(0, 2**32 - 1))
def test_assignment_is_deterministic_and_independent_of_document_order(batches, seed):
    docs = [d for batch in batches for d in batch]
    shuffled = list(docs)
    random.Random(seed).shuffle(shuffled)
    assert assign_splits(docs) == assign_splits(docs) == assign_splits(shuffled)


@settings(max_examples=300, deadline=None)
@given(batches=corpora())
def test_groups_never_straddle_splits(batches):
    docs, history = grow(batches)
    by_split = split_documents(docs, history[-1])
    split_of_group = defaultdict(set)
    for split, members in by_split.items():
        for doc in members:
            split_of_group[group_of(doc)].add(split)
    assert all(len(splits) == 1 for splits in split_of_group.values())
    assert sorted(d.id for members in by_split.values() for d in members) == sorted(d.id for d in docs)


@settings(max_examples=300, deadline=None)
@given(batches=corpora())
def test_every_split_covers_each_conflict_with_at_least_four_groups(batches):
    docs, history = grow(batches)
    assignment = history[-1]
    groups_of = defaultdict(set)
    for doc in docs:
        groups_of[doc.meta["conflict"]].add(group_of(doc))
    for conflict, groups in groups_of.items():
        if len(groups) >= 4:
            assert {assignment[g] for g in groups} == set(SPLITS), conflict


@settings(max_examples=200, deadline=None)
@given(batches=corpora())
def test_shares_stay_near_80_10_10_within_each_conflict(batches):
    docs, history = grow(batches)
    assignment = history[-1]
    sizes: dict[str, Counter] = defaultdict(Counter)
    for doc in docs:
        sizes[doc.meta["conflict"]][assignment[group_of(doc)]] += 1
    for conflict, counts in sizes.items():
        n = sum(counts.values())
        if n < 30:
            continue
        for split in SPLITS:
            # within one story group (at most 3 documents) of the target
            assert abs(counts[split] - TARGETS[split] * n) <= 3, (conflict, dict(counts))


def test_first_groups_fill_train_then_validation_then_test():
    docs = make_docs([("sudan", k, 1) for k in range(4)])
    assignment = assign_splits(docs)
    assert sorted(Counter(assignment.values()).items()) == [("test", 1), ("train", 2), ("validation", 1)]


def test_a_conflict_with_three_groups_is_not_forced_into_every_split():
    docs = make_docs([("haiti", k, 1) for k in range(3)])
    assert "test" not in assign_splits(docs).values()


def test_existing_assignment_is_kept_even_when_it_is_lopsided():
    docs = make_docs([("sudan", k, 1) for k in range(6)])
    existing = {f"sudan-{k:03d}": "test" for k in range(5)}
    assignment = assign_splits(docs, existing)
    assert {g: assignment[g] for g in existing} == existing
    assert assignment["sudan-005"] in SPLITS


def test_group_defaults_to_the_document_id():
    assert group_of(Document("yemen-004", "", [], {})) == "yemen-004"
    assert group_of(Document("yemen-005", "", [], {"group": "yemen-004"})) == "yemen-004"


# ---- the assignment file -------------------------------------------------------------

def test_assignment_file_round_trips(tmp_path):
    path = tmp_path / "splits.json"
    assignment = {"b-001": "test", "a-001": "train", "a-002": "validation"}
    path.write_text(dump_assignment(assignment), encoding="utf-8")
    assert load_assignment(path) == assignment
    assert list(json.loads(path.read_text(encoding="utf-8"))["groups"]) == sorted(assignment)


def test_a_missing_assignment_file_is_an_empty_assignment(tmp_path):
    assert load_assignment(tmp_path / "splits.json") == {}


@pytest.mark.parametrize("content, fragment", [
    ('{"groups": {"a-001": "train",}', "not valid JSON"),
    ('["a-001"]', "no 'groups' object"),
    ('{"groups": {"a-001": "dev"}}', "unknown split"),
])
def test_a_broken_assignment_file_is_a_clear_error(tmp_path, content, fragment):
    path = tmp_path / "splits.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=fragment) as err:
        load_assignment(path)
    assert err.value.problems[0].path == str(path) and err.value.problems[0].fix


# ---- the committed assignment ----------------------------------------------------------

@pytest.fixture(scope="module")
def bundled():
    from conflict_spans.corpus.build import load_sources

    docs = load_sources(REPO_ROOT / "corpus" / "src")
    return docs, load_assignment(REPO_ROOT / "corpus" / "splits.json")


def test_committed_assignment_covers_exactly_the_corpus_groups(bundled):
    docs, assignment = bundled
    assert set(assignment) == {group_of(d) for d in docs}, "corpus/splits.json is stale: run `conflict-spans build`"


def test_committed_assignment_is_what_the_algorithm_keeps(bundled):
    docs, assignment = bundled
    assert assign_splits(docs, assignment) == assignment


def test_bundled_corpus_shares(bundled):
    docs, assignment = bundled
    counts = Counter(assignment[group_of(d)] for d in docs)
    shares = {split: counts[split] / len(docs) for split in SPLITS}
    # 25 conflicts of 6-14 documents each must all reach validation and test,
    # which pulls train below 80%
    assert 0.65 <= shares["train"] <= 0.85
    assert 0.08 <= shares["validation"] <= 0.2 and 0.08 <= shares["test"] <= 0.2
