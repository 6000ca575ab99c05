"""training/kfold.py: folds by story group, pass-through arguments, and one tiny end-to-end run."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from conflict_spans.corpus.io import read_documents
from conflict_spans.corpus.splits import group_of
from conflict_spans.document import Document
from conflict_spans.problems import CorpusError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kfold():
    spec = importlib.util.spec_from_file_location("kfold", ROOT / "training" / "kfold.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_docs(groups: dict[str, int], conflicts=("sudan", "yemen")) -> list[Document]:
    docs = []
    for n, (group, size) in enumerate(sorted(groups.items())):
        for k in range(size):
            docs.append(Document(f"{group}-{k}", "text", [], {"group": group, "conflict": conflicts[n % len(conflicts)]}))
    return docs


def test_folds_keep_stories_whole_and_sizes_even(kfold):
    docs = make_docs({f"g{i:02d}": 1 + i % 3 for i in range(30)})
    folds = kfold.assign_folds(docs, 5)
    assert set(folds) == {group_of(d) for d in docs} and set(folds.values()) == set(range(5))
    sizes = Counter(folds[group_of(d)] for d in docs)
    assert max(sizes.values()) - min(sizes.values()) <= 3
    assert kfold.assign_folds(list(reversed(docs)), 5) == folds  # deterministic, order-free


def test_every_conflict_is_spread_over_the_folds(kfold):
    docs = make_docs({f"g{i:02d}": 1 for i in range(20)})
    folds = kfold.assign_folds(docs, 2)
    for conflict in ("sudan", "yemen"):
        assert {folds[group_of(d)] for d in docs if d.meta["conflict"] == conflict} == {0, 1}


@pytest.mark.parametrize("groups, k", [({"a": 1}, 2), ({"a": 1, "b": 1}, 1)])
def test_too_few_groups_or_folds_is_an_error(kfold, groups, k):
    with pytest.raises(CorpusError, match="fold"):
        kfold.assign_folds(make_docs(groups), k)


def test_validation_groups_are_a_deterministic_proper_slice(kfold):
    groups = [f"g{i}" for i in range(20)]
    picked = kfold.validation_groups(groups, 0.1)
    assert len(picked) == 2 and picked == kfold.validation_groups(list(reversed(groups)), 0.1)
    assert len(kfold.validation_groups(groups[:2], 0.9)) == 1  # never all of them
    with pytest.raises(CorpusError):
        kfold.validation_groups(groups[:1], 0.1)


def test_pass_through_arguments(kfold, capsys):
    assert kfold.split_argv(["--folds", "3", "--", "--learning-rate", "1e-4"]) == (["--folds", "3"], ["--learning-rate", "1e-4"])
    assert kfold.main(["--output-dir", "x", "--", "--data-dir", "y"]) == 2
    assert "set by kfold.py" in capsys.readouterr().err


def test_max_docs_keeps_whole_story_groups(kfold):
    docs = kfold.load_source_documents(ROOT / "corpus" / "src", max_docs=5)
    assert 5 <= len(docs) <= 8
    all_docs = kfold.load_source_documents(ROOT / "corpus" / "src")
    for group in {group_of(d) for d in docs}:
        assert sum(group_of(d) == group for d in docs) == sum(group_of(d) == group for d in all_docs)


@pytest.mark.slow
def test_tiny_two_fold_run_predicts_every_document_once(kfold, tmp_path):
    from conflict_spans.corpus.audit import audit

    from support import make_tiny_encoder

    encoder = make_tiny_encoder(tmp_path / "encoder")
    out = tmp_path / "kfold"
    argv = ["--folds", "2", "--max-docs", "5", "--output-dir", str(out), "--",
            "--model-name-or-path", str(encoder), "--num-train-epochs", "1", "--max-length", "64",
            "--per-device-train-batch-size", "8", "--disable-tqdm", "true", "--save-strategy", "no", "--load-best-model-at-end", "false"]
    assert kfold.main(argv) == 0
    predictions = read_documents(out / "predictions.jsonl")
    gold = {d.id: d for d in kfold.load_source_documents(ROOT / "corpus" / "src", max_docs=5)}
    assert sorted(p.id for p in predictions) == sorted(gold)
    assert all(p.text == gold[p.id].text for p in predictions)
    assert {p.meta["fold"] for p in predictions} == {0, 1}
    summary = json.loads((out / "kfold.json").read_text(encoding="utf-8"))
    assert [f["fold"] for f in summary["per_fold"]] == [0, 1] and "micro" in summary["strict"]
    heldout = {i for f in summary["per_fold"] for i in f["heldout_ids"]}
    assert heldout == set(gold)
    # the predictions are what `conflict-spans audit --predictions` reads
    result = audit(list(gold.values()), predictions)
    assert result["documents_without_predictions"] == []
    # a second run reuses the saved folds
    assert kfold.main(argv) == 0
