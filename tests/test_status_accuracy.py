"""CASUALTY status accuracy: counted on spans predicted at gold offsets, resampled like F1, reported per system."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conflict_spans.corpus.io import write_jsonl
from conflict_spans.document import Document
from conflict_spans.evaluation import run as run_module
from conflict_spans.evaluation.bootstrap import bootstrap_status_accuracy, resample_weights, status_counts
from conflict_spans.evaluation.model_card import model_card_markdown
from conflict_spans.evaluation.readme import render
from conflict_spans.evaluation.run import Options, evaluate

from conftest import REPO_ROOT
from support import spans_from_marks

TEXTS = {
    "a": "Gunmen killed 12 villagers and wounded 30 in Zamfara.",
    "b": "An air strike killed 5 people in Goma; 8 were hurt.",
    "c": "Shelling wounded 3 soldiers near Bakhmut.",
}
GOLD_MARKS = {
    "a": [("12 villagers", "CASUALTY", "killed"), ("30", "CASUALTY", "injured"), ("Zamfara", "LOCATION", None)],
    "b": [("5 people", "CASUALTY", "killed"), ("8", "CASUALTY", "injured")],
    "c": [("3 soldiers", "CASUALTY", "injured"), ("Bakhmut", "LOCATION", None)],
}
# a: both CASUALTY spans found, the second with the wrong status; b: one found (right status), one missed;
# c: the CASUALTY span found with another label, and a CASUALTY predicted at other offsets: nothing matched.
PRED_MARKS = {
    "a": [("12 villagers", "CASUALTY", "killed"), ("30", "CASUALTY", "killed"), ("Zamfara", "LOCATION", None)],
    "b": [("5 people", "CASUALTY", "killed")],
    "c": [("3", "CASUALTY", "injured"), ("soldiers", "ACTOR", None)],
}
IDS = sorted(TEXTS)


def gold_docs(prefix: str = "") -> list[Document]:
    return [Document(prefix + i, TEXTS[i], spans_from_marks(TEXTS[i], GOLD_MARKS[i]), {"conflict": "nigeria"}) for i in IDS]


def pred_spans(marks: dict = PRED_MARKS) -> list[list]:
    return [spans_from_marks(TEXTS[i], marks[i]) for i in IDS]


def without_status(docs: list[list]) -> list[list]:
    return [[replace(s, status=None) for s in spans] for spans in docs]


# ---- counting ------------------------------------------------------------------------------

def test_matched_spans_and_same_status_are_counted_per_document():
    counts = status_counts([d.spans for d in gold_docs()], pred_spans())
    assert counts.tolist() == [[2, 1], [1, 1], [0, 0]]


def test_accuracy_is_same_status_over_matched_spans():
    result = bootstrap_status_accuracy([d.spans for d in gold_docs()], pred_spans(), n_resamples=200)
    assert result["predicted"] is True
    assert (result["matched"], result["same_status"]) == (3, 2)
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["labels"] == ["CASUALTY"] and result["unit"] == "document" and result["n_documents"] == 3


def test_a_span_predicted_twice_with_two_statuses_is_wrong_and_a_missing_status_is_wrong():
    gold = [spans_from_marks(TEXTS["b"], GOLD_MARKS["b"])]
    twice = [spans_from_marks(TEXTS["b"], [("5 people", "CASUALTY", "killed")]) + spans_from_marks(TEXTS["b"], [("5 people", "CASUALTY", "injured")])]
    assert status_counts(gold, twice).tolist() == [[1, 0]]
    mixed = [spans_from_marks(TEXTS["b"], [("5 people", "CASUALTY", None), ("8", "CASUALTY", "injured")])]
    result = bootstrap_status_accuracy(gold, mixed, n_resamples=50)
    assert (result["matched"], result["same_status"], result["accuracy"]) == (2, 1, 0.5)


# ---- the interval ----------------------------------------------------------------------------

def test_the_interval_contains_the_point_and_uses_bootstrap_f1s_resamples():
    gold, pred = [d.spans for d in gold_docs()], pred_spans()
    result = bootstrap_status_accuracy(gold, pred, n_resamples=300, seed=5)
    interval = result["interval"]
    assert interval["low"] <= result["accuracy"] == interval["point"] <= interval["high"]
    # a resample's accuracy is 1/2 (only a drawn), 1 (only b) or in between: never outside [1/2, 1]
    assert 0.5 <= interval["low"] < interval["high"] <= 1.0
    # the same documents drawn as in bootstrap_f1 (resample_weights, same seed): recompute each resample by hand
    weights = resample_weights(3, 300, 5)
    accuracies = []
    for w_a, w_b, _ in weights:
        matched, same = 2 * w_a + 1 * w_b, 1 * w_a + 1 * w_b
        if matched:
            accuracies.append(same / matched)
    assert result["resamples_without_match"] == 300 - len(accuracies) > 0
    assert interval["low"] == pytest.approx(np.quantile(accuracies, 0.025))
    assert interval["high"] == pytest.approx(np.quantile(accuracies, 0.975))
    assert bootstrap_status_accuracy(gold, pred, n_resamples=300, seed=5) == result


def test_every_status_right_gives_a_point_interval_at_one():
    gold = [d.spans for d in gold_docs()]
    result = bootstrap_status_accuracy(gold, gold, n_resamples=100)
    assert (result["matched"], result["same_status"]) == (5, 5)
    assert result["interval"] == {"point": 1.0, "low": 1.0, "high": 1.0}


def test_statuses_predicted_but_no_span_matched_has_no_accuracy():
    gold = [spans_from_marks(TEXTS["c"], GOLD_MARKS["c"])]
    pred = [spans_from_marks(TEXTS["c"], PRED_MARKS["c"])]
    result = bootstrap_status_accuracy(gold, pred, n_resamples=50)
    assert result["predicted"] is True and (result["matched"], result["accuracy"], result["interval"]) == (0, None, None)


# ---- a system without status -----------------------------------------------------------------

def test_a_system_whose_spans_carry_no_status_is_not_predicted_rather_than_zero():
    result = bootstrap_status_accuracy([d.spans for d in gold_docs()], without_status(pred_spans()), n_resamples=50)
    assert result["predicted"] is False and "accuracy" not in result and "matched" not in result


def test_spacy_predictor_spans_carry_no_status():
    """What the spaCy baselines return: SpacyPredictor maps entity labels only, CASUALTY included."""
    import spacy

    from conflict_spans.evaluation.spacy_pipeline import SpacyPredictor

    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "CARDINAL", "pattern": "12 villagers"}, {"label": "CARDINAL", "pattern": "30"}])
    docs = SpacyPredictor(nlp, {"CARDINAL": "CASUALTY"}).predict_documents([Document("a", TEXTS["a"], [])])
    assert [(s.label, s.status) for s in docs[0].spans] == [("CASUALTY", None), ("CASUALTY", None)]
    assert bootstrap_status_accuracy([spans_from_marks(TEXTS["a"], GOLD_MARKS["a"])], [docs[0].spans])["predicted"] is False


# ---- report.json, report.md, the model card, the README block ------------------------------------

class Fixed:
    def __init__(self, spans: list[list]):
        self.spans = dict(zip(IDS, spans))

    def predict_documents(self, docs):
        return [Document(d.id, d.text, self.spans[d.id], d.meta) for d in docs]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for split in ("train", "validation", "test"):
        write_jsonl(data / f"{split}.jsonl", gold_docs("" if split == "test" else f"{split}-"))  # ids unique across splits
    return data


def test_report_and_model_card_carry_status_per_system(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "load_model_predictor", lambda path: Fixed(pred_spans()))
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    out = tmp_path / "results"
    evaluation = evaluate(Options(model=model_dir, out=out, baselines=(), data=corpus, n_resamples=100),
                          systems={"no-status": Fixed(without_status(pred_spans()))}, log=lambda m: None)

    systems = json.loads((out / "report.json").read_text())["systems"]
    model = systems["model"]["status"]
    assert (model["matched"], model["same_status"], model["n_resamples"], model["seed"]) == (3, 2, 100, 13)
    assert model["accuracy"] == pytest.approx(2 / 3)
    assert systems["no-status"]["status"]["predicted"] is False

    md = (out / "report.md").read_text()
    assert "## CASUALTY status (killed / injured)" in md
    low, high = (100 * model["interval"][k] for k in ("low", "high"))
    assert f"| model | 3 | 2 | 66.7 [{low:.1f}, {high:.1f}] |" in md
    assert "| no-status | — | — | not predicted |" in md

    card = (model_dir / "MODEL_CARD.md").read_text()
    assert card == model_card_markdown(model_dir, evaluation)
    assert f"2 of the 3 CASUALTY spans predicted at gold offsets carry the gold status; accuracy 66.7 [{low:.1f}, {high:.1f}]" in card
    assert "| no-status | — | — | not predicted |" in card
    assert "this evaluation scores spans and labels only" not in card


def test_the_readme_block_shows_status_only_for_systems_that_predict_it():
    report = json.loads((REPO_ROOT / "eval" / "results" / "report.json").read_text(encoding="utf-8"))
    without = copy.deepcopy(report)
    not_predicted = copy.deepcopy(report)
    for name in report["systems"]:
        without["systems"][name].pop("status", None)
        not_predicted["systems"][name]["status"] = {"predicted": False, "note": "x"}
    assert render(without) == render(not_predicted)  # an older report.json still renders
    assert "CASUALTY status" not in render(without)
    st = report["systems"]["model"]["status"]
    assert f"model {st['same_status']} of {st['matched']} right" in render(report)
