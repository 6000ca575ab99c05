"""A saved model runs in transformers alone: ``pipeline(..., model=DIR, trust_remote_code=True)`` (conflict_spans/model/hub).

The pipeline runs in a subprocess where ``import conflict_spans`` fails, over
every text of the test split, and must give the spans (offsets, label, and
CASUALTY status) that ``conflict-spans predict`` gives. The tiny models read
24-token windows, so the documents take many windows each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conflict_spans.corpus.io import read_documents
from conflict_spans.model import hub
from conflict_spans.model.predict import load_predictor
from conflict_spans.model.windows import encode_document

from conftest import REPO_ROOT
from support import make_tiny_encoder, make_tiny_model

pytestmark = pytest.mark.slow

TEST_SPLIT = REPO_ROOT / "corpus" / "data" / "test.jsonl"
REMOTE_FILES = {"pipeline_conflict_spans.py", "casing.py", "casualty_status.py", "span_rules.py"}

# run with conflict_spans made impossible to import: only transformers and the model folder's own files
PIPELINE_SCRIPT = """
import json, sys
sys.modules["conflict_spans"] = None
try:
    import conflict_spans.model
except ImportError:
    pass
else:
    raise SystemExit("conflict_spans could be imported")
from transformers import pipeline
model, task, data = sys.argv[1:4]
texts = [json.loads(line)["text"] for line in open(data, encoding="utf-8") if line.strip()]
tagger = pipeline(task, model=model, trust_remote_code=True)
print(json.dumps({"pipeline": type(tagger).__name__, "model": type(tagger.model).__name__, "entities": tagger(texts)}))
"""


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf-pipeline")
    return {kind: make_tiny_model(root / kind, casing_features=kind == "casing", epochs=15, extra_args=["--eval-strategy", "no", "--max-length", "24"])
            for kind in ("casing", "plain")}


def run_pipeline(model: Path, task: str, tmp_path: Path) -> dict:
    script = tmp_path / "run_pipeline.py"
    script.write_text(PIPELINE_SCRIPT, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script), str(model), task, str(TEST_SPLIT)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600, env=env(HF_MODULES_CACHE=str(tmp_path / "hf_modules")))
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout)


def run_hub(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conflict_spans.model.hub", *map(str, args)], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, env=env())


@pytest.mark.parametrize("kind, task", [("casing", "token-classification"), ("plain", "conflict-spans")])
def test_the_pipeline_without_the_package_gives_the_spans_of_predict_on_the_test_split(models, kind, task, tmp_path):
    docs = read_documents(TEST_SPLIT)
    assert len(docs) == 53
    ran = run_pipeline(models[kind], task, tmp_path)
    assert ran["pipeline"] == "ConflictSpansPipeline"
    assert ran["model"] == ("CasingTokenClassifier" if kind == "casing" else "BertForTokenClassification")
    predictor = load_predictor(models[kind])
    windows = [len(encode_document(predictor.tokenizer, d, max_length=predictor.max_length, stride=predictor.stride, with_labels=False,
                                   full_last=True).windows) for d in docs]
    assert predictor.max_length == 24 and min(windows) > 1  # every document is read through several windows
    expected = predictor.predict_documents(docs)
    assert len(ran["entities"]) == len(docs)
    same = 0
    for doc, predicted, entities in zip(docs, expected, ran["entities"]):
        for e in entities:
            assert set(e) == {"entity_group", "score", "word", "start", "end"} | ({"status"} if e["entity_group"] == "CASUALTY" else set())
            assert e["word"] == doc.text[e["start"]:e["end"]] and 0 < e["score"] <= 1
        got = [(e["start"], e["end"], e["entity_group"], e.get("status")) for e in entities]
        same += got == [(s.start, s.end, s.label, s.status) for s in predicted.spans]
    assert sum(len(d.spans) for d in expected) > 0
    assert same == len(docs), f"{same} of {len(docs)} documents with the same spans"


def test_training_writes_the_remote_code_and_its_config_keys(models):
    casing = json.loads((models["casing"] / "config.json").read_text(encoding="utf-8"))
    assert casing["auto_map"] == {"AutoModelForTokenClassification": hub.MODEL_CLASS}
    assert set(casing["custom_pipelines"]) == {"token-classification", "conflict-spans"}
    assert all(p["impl"] == hub.PIPELINE_CLASS for p in casing["custom_pipelines"].values())
    assert REMOTE_FILES | {hub.MODELING_FILE} <= {p.name for p in models["casing"].iterdir()}
    plain = json.loads((models["plain"] / "config.json").read_text(encoding="utf-8"))
    assert "auto_map" not in plain and set(plain["custom_pipelines"]) == {"conflict-spans"}
    assert REMOTE_FILES <= {p.name for p in models["plain"].iterdir()} and not (models["plain"] / hub.MODELING_FILE).exists()
    # the copies are the package's own modules, byte for byte
    for name in ("casing.py", "casualty_status.py"):
        assert (models["casing"] / name).read_bytes() == (REPO_ROOT / "conflict_spans" / "model" / name).read_bytes()


def test_a_plain_model_loads_in_stock_transformers_without_remote_code(models):
    from transformers import AutoModelForTokenClassification, TokenClassificationPipeline, pipeline

    model = AutoModelForTokenClassification.from_pretrained(str(models["plain"]))
    assert type(model).__module__.startswith("transformers.") and type(model).__name__ == "BertForTokenClassification"
    tagger = pipeline("token-classification", model=str(models["plain"]), aggregation_strategy="first")
    assert type(tagger) is TokenClassificationPipeline
    text = "Gunmen killed at least 12 civilians in Goma on Sunday, the army said."
    assert all(text[e["start"]:e["end"]] for e in tagger(text))


def test_the_module_adds_the_remote_code_to_an_existing_folder(models, tmp_path):
    folder = tmp_path / "older-model"
    shutil.copytree(models["casing"], folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    del config["auto_map"], config["custom_pipelines"]
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    for name in REMOTE_FILES | {hub.MODELING_FILE}:
        (folder / name).unlink()
    result = run_hub(folder)
    assert result.returncode == 0, result.stderr
    assert "config.json" in result.stdout and str(folder) in result.stdout
    assert json.loads((folder / "config.json").read_text(encoding="utf-8")) == json.loads((models["casing"] / "config.json").read_text(encoding="utf-8"))
    for name in REMOTE_FILES | {hub.MODELING_FILE}:
        assert (folder / name).read_bytes() == (models["casing"] / name).read_bytes(), name
    assert run_hub(folder).returncode == 0  # a second run changes nothing
    assert json.loads((folder / "config.json").read_text(encoding="utf-8")) == json.loads((models["casing"] / "config.json").read_text(encoding="utf-8"))


def listing(root: Path) -> list[tuple[str, bytes]]:
    return sorted((str(p.relative_to(root)), p.read_bytes() if p.is_file() else b"") for p in root.rglob("*"))


def assert_refused(result: subprocess.CompletedProcess, folder: Path, *mentions: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert str(folder) in result.stderr and "Fix:" in result.stderr and "nothing was written" in result.stderr
    for mention in mentions:
        assert mention in result.stderr, (mention, result.stderr)


def test_a_missing_folder_is_refused(tmp_path):
    folder = tmp_path / "no-such-model"
    assert_refused(run_hub(folder), folder, "does not exist", "training/train.py")
    assert not folder.exists() and listing(tmp_path) == []


def test_a_file_instead_of_a_folder_is_refused(models, tmp_path):
    file = tmp_path / "model.safetensors"
    shutil.copy(models["plain"] / "model.safetensors", file)
    before = listing(tmp_path)
    assert_refused(run_hub(file), file, "is a file, not a folder")
    assert listing(tmp_path) == before


def test_a_folder_without_config_json_is_refused(models, tmp_path):
    folder = tmp_path / "no-config"
    shutil.copytree(models["plain"], folder)
    (folder / "config.json").unlink()
    for name in REMOTE_FILES:
        (folder / name).unlink()
    before = listing(tmp_path)
    assert_refused(run_hub(folder), folder, "has no config.json")
    assert listing(tmp_path) == before


def test_an_encoder_without_our_labels_is_refused(tmp_path):
    folder = make_tiny_encoder(tmp_path / "encoder")
    before = listing(tmp_path)
    assert_refused(run_hub(folder), folder, "[label-map]")
    assert listing(tmp_path) == before


def test_a_plain_model_gets_no_remote_model_class_nor_our_token_classification_pipeline():
    casing = hub.remote_code_config({"casing_features": True, "auto_map": {"AutoConfig": "x.Y"}})
    assert casing["auto_map"] == {"AutoConfig": "x.Y", "AutoModelForTokenClassification": hub.MODEL_CLASS}
    # a plain model trained on from a casing checkpoint inherits its keys: ours go, others stay
    plain = hub.remote_code_config({**casing, "casing_features": False})
    assert plain["auto_map"] == {"AutoConfig": "x.Y"} and set(plain["custom_pipelines"]) == {hub.TASK}
    assert "auto_map" not in hub.remote_code_config({**casing, "auto_map": {"AutoModelForTokenClassification": hub.MODEL_CLASS}, "casing_features": False})


def test_the_model_card_says_how_to_use_the_model_without_the_package(models, tmp_path):
    from conflict_spans.evaluation.model_card import usage_lines

    casing = "\n".join(usage_lines(models["casing"]))
    assert 'pipeline("token-classification", model=DIR, trust_remote_code=True)' in casing
    plain = "\n".join(usage_lines(models["plain"]))
    assert "AutoModelForTokenClassification.from_pretrained(DIR)" in plain and 'aggregation_strategy="first"' in plain
    assert "can differ" in plain and f'pipeline("{hub.TASK}", model=DIR, trust_remote_code=True)' in plain
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text(json.dumps({"casing_features": True}), encoding="utf-8")
    assert "python -m conflict_spans.model.hub DIR" in "\n".join(usage_lines(bare))
