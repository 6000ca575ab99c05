"""The evaluation command end to end, with a stand-in for our model (and the real pretrained spaCy baseline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conflict_spans.corpus.io import write_jsonl
from conflict_spans.document import Document, Span
from conflict_spans.evaluation import run as run_module
from conflict_spans.evaluation.bootstrap import bootstrap_f1, paired_difference
from conflict_spans.evaluation.predictors import check_predictions, predict_checked
from conflict_spans.evaluation.run import Options, evaluate
from conflict_spans.evaluation.scoring import strict_scores
from conflict_spans.problems import CorpusError
from conflict_spans.schema import LABEL_NAMES

from support import spans_from_marks

SENTENCES = [
    ("Rebels shelled Kadugli, killing 12 civilians, the army said.",
     [("Rebels", "ACTOR"), ("Kadugli", "LOCATION"), ("12 civilians", "CASUALTY", "killed"), ("army", "ATTRIBUTION")]),
    ("Houthi drones struck a tanker off Hodeidah, officials said.",
     [("Houthi drones", "ACTOR"), ("Hodeidah", "LOCATION"), ("officials", "ATTRIBUTION")]),
    ("Militia fighters attacked Goma; 5 people died, the ministry said.",
     [("Militia fighters", "ACTOR"), ("Goma", "LOCATION"), ("5 people", "CASUALTY", "killed"), ("ministry", "ATTRIBUTION")]),
    ("Ukraine's air force said 20 drones were shot down over Kyiv.",
     [("Ukraine's air force", "ATTRIBUTION"), ("Kyiv", "LOCATION")]),
]


def make_doc(doc_id: str, index: int) -> Document:
    text, marks = SENTENCES[index % len(SENTENCES)]
    return Document(doc_id, text, spans_from_marks(text, marks), {"conflict": "sudan"})


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for split, n in (("train", 4), ("validation", 2), ("test", 6)):
        write_jsonl(data / f"{split}.jsonl", [make_doc(f"{split}-{i}", i) for i in range(n)])
    return data


class StandIn:
    """Gold spans with two deliberate errors per document: the last span dropped, the first ATTRIBUTION called ACTOR."""

    def __init__(self, gold: dict[str, Document]):
        self.gold = gold

    def predict_documents(self, docs):
        out = []
        for d in docs:
            assert not d.spans  # systems never see the gold spans
            spans = sorted(self.gold[d.id].spans)[:-1]
            for i, s in enumerate(spans):
                if s.label == "ATTRIBUTION":
                    spans[i] = Span(s.start, s.end, "ACTOR")
                    break
            out.append(Document(d.id, d.text, spans, d.meta))
        return out


def gold_of(data: Path) -> dict[str, Document]:
    from conflict_spans.corpus.io import read_documents

    return {d.id: d for d in read_documents(data / "test.jsonl")}


def write_model_dir(path: Path) -> Path:
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"architectures": ["CasingTokenClassifier"], "model_type": "bert", "_name_or_path": "all-MiniLM-L6-v2",
                                                  "id2label": {str(i): t for i, t in enumerate(["O"])}, "casing_features": True, "casing_dim": 32}))
    (path / "train_config.json").write_text(json.dumps({"model": {"model_name_or_path": "all-MiniLM-L6-v2"}, "data": {"max_length": 256},
                                                        "training": {"learning_rate": 0.0002, "num_train_epochs": 12, "seed": 42, "hub_token": "x"}}))
    return path


def test_report_with_model_and_pretrained_baseline(corpus, tmp_path, monkeypatch):
    model_dir = write_model_dir(tmp_path / "model")
    monkeypatch.setattr(run_module, "load_model_predictor", lambda path: StandIn(gold_of(corpus)))
    out = tmp_path / "results"
    evaluation = evaluate(Options(model=model_dir, out=out, baselines=("spacy-pretrained",), data=corpus, n_resamples=200),
                          log=lambda m: None)

    report = json.loads((out / "report.json").read_text())
    assert list(report["systems"]) == ["model", "spacy-pretrained"]
    model = report["systems"]["model"]
    # 6 test documents, 20 gold spans; the stand-in drops 6 and relabels 1: 13 of 14 predictions correct
    assert model["strict"]["micro"]["support"] == 20 and model["strict"]["micro"]["tp"] == 13
    assert model["strict"]["micro"]["f1"] == pytest.approx(2 * 13 / (14 + 20))
    assert model["errors"] == {"missed": 6, "spurious": 0, "wrong-label": 1, "boundary": 0, "wrong-label-boundary": 0}
    assert set(model["nervaluate"]) == {"strict", "exact", "partial", "ent_type"}
    assert model["nervaluate"]["exact"]["overall"]["correct"] == 14
    assert model["nervaluate"]["strict"]["overall"]["incorrect"] == 1
    assert model["bootstrap"]["micro_f1"]["low"] <= model["strict"]["micro"]["f1"] <= model["bootstrap"]["micro_f1"]["high"]
    assert list(model["strict"]["per_label"]) == list(LABEL_NAMES)
    assert "model vs spacy-pretrained" in report["comparisons"]
    pretrained = report["systems"]["spacy-pretrained"]
    assert pretrained["strict"]["per_label"]["CASUALTY"]["predicted"] == 0
    assert set(pretrained["info"]["not_predictable"]) == {"CASUALTY", "ATTRIBUTION"}

    for name in ("model", "spacy-pretrained"):
        folder = out / name
        for f in ("per_label.md", "per_label.json", "confusion.png", "errors.jsonl", "errors.md", "errors_labelstudio.json"):
            assert (folder / f).stat().st_size > 0, f
    errors = [json.loads(l) for l in (out / "model" / "errors.jsonl").read_text().splitlines()]
    assert len(errors) == 7 and {e["doc_id"] for e in errors} == set(gold_of(corpus))
    assert [e for e in errors if e["kind"] == "wrong-label"][0]["gold"]["text"] == "Ukraine's air force"
    tasks = json.loads((out / "model" / "errors_labelstudio.json").read_text())
    assert len(tasks) == 6 and tasks[0]["predictions"][0]["model_version"] == "model"

    md = (out / "report.md").read_text()
    assert "| model |" in md and "| spacy-pretrained |" in md and "cannot predict CASUALTY" in md
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "## Training configuration" in card and "training.learning_rate" in card and "hub_token" not in card
    assert "## Known limits" in card and "## Data" in card and "| test | 6 |" in card
    assert evaluation.systems["model"].strict.micro.tp == 13


def test_cli_baselines_only(corpus, tmp_path, capsys):
    from conflict_spans.cli import main

    out = tmp_path / "results"
    assert main(["evaluate", "--data", str(corpus), "--out", str(out), "--baselines", "spacy-pretrained", "--no-re3d", "--resamples", "50"]) == 0
    assert "spacy-pretrained: strict micro F1" in capsys.readouterr().out
    assert (out / "report.md").exists()


def test_script_reports_problems(corpus, tmp_path, capsys):
    import runpy
    import sys

    script = Path(__file__).resolve().parents[1] / "eval" / "evaluate.py"
    argv = [str(script), "--data", str(corpus), "--out", str(tmp_path / "r"), "--baselines", "none", "--no-re3d"]
    monkey_argv = sys.argv
    sys.argv = argv
    try:
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = monkey_argv
    assert exit_info.value.code == 1
    assert "nothing to evaluate" in capsys.readouterr().err


def test_re3d_in_the_same_run(corpus, tmp_path):
    root = tmp_path / "re3d" / "Source"
    root.mkdir(parents=True)
    text = "Coalition aircraft struck positions near Raqqa."
    (root / "documents.json").write_text(json.dumps({"_id": "A", "text": text}) + "\n")
    (root / "entities.json").write_text(json.dumps({"_id": "e", "documentId": "A", "begin": 41, "end": 46, "type": "Location", "value": "Raqqa", "confidence": 1}) + "\n")

    class Raqqa:
        def predict_documents(self, docs):
            return [Document(d.id, d.text, [Span(41, 46, "LOCATION")] if d.id == "A" else [], d.meta) for d in docs]

    out = tmp_path / "results"
    evaluate(Options(out=out, baselines=(), data=corpus, re3d=root.parent, n_resamples=20), systems={"raqqa": Raqqa()}, log=lambda m: None)
    report = json.loads((out / "report.json").read_text())
    assert report["re3d"]["systems"]["raqqa"]["exact"]["f1"] == 1.0
    assert "Out of domain: re3d" in (out / "report.md").read_text()
    assert "Raqqa" not in (out / "report.md").read_text() and "Raqqa" not in (out / "report.json").read_text()


def test_predictions_are_checked():
    docs = [make_doc("d1", 0)]

    class Bad:
        def __init__(self, spans, doc_id="d1"):
            self.spans, self.doc_id = spans, doc_id

        def predict_documents(self, given):
            return [Document(self.doc_id, given[0].text, self.spans)]

    with pytest.raises(CorpusError, match="PERSON"):
        predict_checked("bad", Bad([Span(0, 6, "PERSON")]), docs, LABEL_NAMES)
    with pytest.raises(CorpusError, match="outside the text"):
        predict_checked("bad", Bad([Span(0, 600, "ACTOR")]), docs, LABEL_NAMES)
    with pytest.raises(CorpusError, match="another document"):
        predict_checked("bad", Bad([], doc_id="d2"), docs, LABEL_NAMES)
    assert check_predictions("x", docs, [], LABEL_NAMES)[0].code == "predictions"
    overlapping = predict_checked("ok", Bad([Span(0, 6, "ACTOR"), Span(3, 14, "ACTOR")]), docs, LABEL_NAMES)
    assert len(overlapping.overlapping) == 1


def test_bootstrap_is_seeded_and_brackets_the_point():
    gold = [make_doc(f"d{i}", i).spans for i in range(8)]
    pred = [spans[:-1] for spans in gold]
    a = bootstrap_f1(gold, pred, LABEL_NAMES, n_resamples=300, seed=5)
    b = bootstrap_f1(gold, pred, LABEL_NAMES, n_resamples=300, seed=5)
    assert a == b
    point = strict_scores(gold, pred, LABEL_NAMES)
    assert a["micro_f1"]["point"] == pytest.approx(point.micro.f1)
    assert a["macro_f1"]["point"] == pytest.approx(point.macro()["f1"])
    assert a["micro_f1"]["low"] <= a["micro_f1"]["point"] <= a["micro_f1"]["high"]
    same = paired_difference(gold, pred, pred, LABEL_NAMES, n_resamples=100)
    assert same["point"] == same["low"] == same["high"] == 0.0 and same["share_a_not_better"] == 1.0
    better = paired_difference(gold, gold, pred, LABEL_NAMES, n_resamples=100)
    assert better["low"] > 0 and better["share_a_not_better"] == 0.0


def test_unknown_baseline_is_refused(corpus, tmp_path):
    with pytest.raises(CorpusError, match="unknown baseline"):
        evaluate(Options(out=tmp_path / "r", baselines=("flair",), data=corpus), log=lambda m: None)


@pytest.mark.slow
def test_with_a_tiny_trained_model(corpus, tmp_path):
    """The real loading path of our model: support.make_tiny_model -> load_predictor."""
    from support import make_tiny_model

    model_dir = tmp_path / "tiny"
    make_tiny_model(model_dir)
    out = tmp_path / "results"
    evaluation = evaluate(Options(model=model_dir, out=out, baselines=(), data=corpus, n_resamples=50), log=lambda m: None)
    assert "model" in evaluation.systems
    assert (model_dir / "MODEL_CARD.md").exists()
    assert json.loads((out / "report.json").read_text())["systems"]["model"]["strict"]["micro"]["support"] == 20


def test_a_subset_is_scored_beside_the_whole_split_and_rendered_into_a_readme(corpus, tmp_path):
    from conflict_spans.evaluation.readme import BEGIN, END, update_readme

    out = tmp_path / "results"
    ids = frozenset({"test-0", "test-1"})
    evaluate(Options(out=out, baselines=(), data=corpus, n_resamples=20, subsets={"part1": ids}),
             systems={"stand-in": StandIn(gold_of(corpus))}, log=lambda m: None)
    report = json.loads((out / "report.json").read_text())
    subset = report["subsets"]["part1"]
    assert subset["documents"] == 2
    gold = gold_of(corpus)
    expected = strict_scores([gold[i].spans for i in sorted(ids)],
                             [StandIn(gold).predict_documents([Document(i, gold[i].text, [], {})])[0].spans for i in sorted(ids)], LABEL_NAMES)
    assert subset["systems"]["stand-in"]["strict"]["micro"]["f1"] == pytest.approx(expected.micro.f1)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{BEGIN}\n{END}\n\nrest\n", encoding="utf-8")
    update_readme(readme, out)
    text = readme.read_text(encoding="utf-8")
    assert "| test, part1 (2 docs) | stand-in |" in text and text.endswith("\n\nrest\n")


def test_a_subset_with_no_document_of_the_split_is_refused(corpus, tmp_path):
    with pytest.raises(CorpusError) as info:
        evaluate(Options(out=tmp_path / "r", baselines=(), data=corpus, n_resamples=20, subsets={"none": frozenset({"nope"})}),
                 systems={"stand-in": StandIn(gold_of(corpus))}, log=lambda m: None)
    assert info.value.problems[0].code == "subset"
