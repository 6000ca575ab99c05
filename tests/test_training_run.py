"""train.py end to end on a tiny random BERT: reproducibility, --resume, torchrun, saving, a head with other labels, GPU.

Tests marked slow run train.py in a subprocess (20-45 s each on a busy 2-core CPU); they run in the default suite.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conflict_spans.corpus.io import read_documents
from conflict_spans.model.train import last_complete_checkpoint, parse_arguments, train
from conflict_spans.problems import CorpusError
from conflict_spans.schema import ID2LABEL, LABEL2ID

from support import make_tiny_encoder, write_tiny_corpus

ROOT = Path(__file__).resolve().parents[1]
TRAIN_PY = ROOT / "training" / "train.py"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")

# Small windows and one window per step make several steps per epoch from three short documents.
RUN_ARGS = ["--num-train-epochs", "3", "--max-length", "12", "--stride", "2", "--predict-stride", "4",
            "--per-device-train-batch-size", "1", "--learning-rate", "0.005", "--seed", "3",
            "--logging-strategy", "steps", "--logging-steps", "1", "--disable-tqdm", "true"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("train-run")
    encoder = make_tiny_encoder(root / "encoder")
    data = write_tiny_corpus(root / "data")
    # validate on the training documents, so that a few epochs reach a non-zero F1 worth comparing
    (data / "validation.jsonl").write_bytes((data / "train.jsonl").read_bytes())
    return {"root": root, "encoder": encoder, "data": data}


def train_command(ws: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [sys.executable, str(TRAIN_PY), "--model-name-or-path", str(ws["encoder"]), "--data-dir", str(ws["data"]),
            "--output-dir", str(out), *RUN_ARGS, *extra]


def run_train(ws: dict[str, Path], out: Path, *extra: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(train_command(ws, out, *extra), capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def metrics_of(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def history(metrics: dict, key: str) -> list[tuple[int, float]]:
    return [(h["step"], h[key]) for h in metrics["log_history"] if key in h]


@pytest.fixture(scope="module")
def reference_run(workspace) -> Path:
    out = workspace["root"] / "reference"
    run_train(workspace, out)
    return out


# ---- reproducibility -----------------------------------------------------------------

@pytest.mark.slow
def test_same_seed_gives_identical_metrics(workspace, reference_run) -> None:
    again = workspace["root"] / "again"
    run_train(workspace, again)
    first, second = metrics_of(reference_run), metrics_of(again)
    assert first["validation_micro_f1"] > 0  # the comparison is about a model that learned something
    assert second["validation"] == first["validation"]
    assert history(second, "eval_f1") == history(first, "eval_f1")
    assert history(second, "eval_loss") == history(first, "eval_loss")
    assert history(second, "loss") == history(first, "loss")
    predictions = [(reference_run / "validation_predictions.jsonl").read_text(), (again / "validation_predictions.jsonl").read_text()]
    assert predictions[0] == predictions[1]


# ---- --resume -------------------------------------------------------------------------

def logged_epochs(log: Path) -> list[float]:
    return [float(x) for x in re.findall(r"'epoch': '?([0-9.]+)", log.read_text(encoding="utf-8", errors="replace"))]


@pytest.mark.slow
def test_resume_after_a_kill_mid_epoch_matches_an_uninterrupted_run(workspace, reference_run) -> None:
    out = workspace["root"] / "interrupted"
    log = workspace["root"] / "interrupted.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(train_command(workspace, out), stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.time() + 240
        # wait for a complete first checkpoint and at least one step of the second epoch
        while not (last_complete_checkpoint(out) and any(1 < e < 2 for e in logged_epochs(log))):
            assert proc.poll() is None, "the run ended before it could be interrupted:\n" + log.read_text()[-3000:]
            assert time.time() < deadline, "no checkpoint in time"
            time.sleep(0.02)
        proc.kill()
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -9
    assert not (out / "metrics.json").exists()
    steps_per_epoch = metrics_of(reference_run)["train_windows"]
    assert last_complete_checkpoint(out) == str(out / f"checkpoint-{steps_per_epoch}"), "killed after the second epoch ended"
    assert max(logged_epochs(log)) < 2

    resumed = run_train(workspace, out, "--resume")
    assert f"continuing from {out / f'checkpoint-{steps_per_epoch}'}" in resumed.stderr
    expected, got = metrics_of(reference_run), metrics_of(out)
    for label, scores in expected["validation"].items():
        assert got["validation"][label] == pytest.approx(scores, abs=1e-6), label
    assert [s for s, _ in history(got, "loss")] == [s for s, _ in history(expected, "loss")]
    assert [v for _, v in history(got, "loss")] == pytest.approx([v for _, v in history(expected, "loss")], rel=1e-4)
    assert [v for _, v in history(got, "eval_loss")] == pytest.approx([v for _, v in history(expected, "eval_loss")], rel=1e-4)


def test_resume_without_a_checkpoint_starts_from_the_beginning(tmp_path: Path) -> None:
    assert last_complete_checkpoint(tmp_path / "missing") is None
    assert last_complete_checkpoint(tmp_path) is None


def test_resume_skips_a_checkpoint_cut_off_while_saving(tmp_path: Path) -> None:
    for step, complete in ((5, True), (10, True), (15, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "config.json").write_text("{}")
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-best").mkdir()
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")


# ---- torchrun --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_processes_on_cpu(workspace) -> None:
    out = workspace["root"] / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(free_port()), str(TRAIN_PY), "--model-name-or-path", str(workspace["encoder"]),
           "--data-dir", str(workspace["data"]), "--output-dir", str(out), "--num-train-epochs", "2", "--max-length", "16",
           "--stride", "4", "--per-device-train-batch-size", "2", "--learning-rate", "0.005", "--disable-tqdm", "true"]
    # CPU processes even where there is a GPU: two processes cannot share one GPU with NCCL
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()
    metrics = metrics_of(out)
    # one data-parallel run: each step takes a batch from each of the two processes
    steps = max(h["step"] for h in metrics["log_history"])
    per_epoch = -(-metrics["train_windows"] // (2 * 2))
    assert steps == 2 * per_epoch, "the two processes trained separately instead of together"
    assert "gloo" in json.loads((out / "train_config.json").read_text())["training"]["ddp_backend"]


# ---- saving ------------------------------------------------------------------------------

def assert_model_dir(out: Path) -> dict:
    names = {p.name for p in out.iterdir() if p.is_file()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "predict_config.json", "train_config.json", "metrics.json"} <= names
    assert not [n for n in names if n.endswith(PICKLE_SUFFIXES)], names
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["id2label"] == {str(i): tag for i, tag in ID2LABEL.items()}
    assert config["label2id"] == LABEL2ID
    return config


@pytest.mark.slow
def test_saved_casing_model_loads_with_load_predictor_and_predicts_as_trained(workspace, reference_run) -> None:
    from conflict_spans.model.network import CasingTokenClassifier
    from conflict_spans.model.predict import load_predictor

    config = assert_model_dir(reference_run)
    assert config["casing_features"] is True and config["architectures"] == ["CasingTokenClassifier"]
    predictor = load_predictor(reference_run)
    assert isinstance(predictor.model, CasingTokenClassifier)
    settings = json.loads((reference_run / "predict_config.json").read_text())
    assert (predictor.max_length, predictor.stride) == (settings["max_length"], settings["stride"]) == (12, 4)
    saved = read_documents(reference_run / "validation_predictions.jsonl")
    again = predictor.predict_documents(read_documents(workspace["data"] / "validation.jsonl"))
    assert any(d.spans for d in saved)
    for a, b in zip(saved, again):
        assert [(s.start, s.end, s.label, s.status) for s in a.spans] == [(s.start, s.end, s.label, s.status) for s in b.spans]
        assert [s.score for s in b.spans] == pytest.approx([s.score for s in a.spans], abs=1e-5)


def test_plain_model_loads_with_auto_model_for_token_classification(workspace) -> None:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    out = workspace["root"] / "plain"
    train(*parse_arguments(["--model-name-or-path", str(workspace["encoder"]), "--data-dir", str(workspace["data"]),
                            "--output-dir", str(out), "--casing-features", "false", "--num-train-epochs", "1", "--max-length", "32",
                            "--eval-strategy", "no", "--save-strategy", "no", "--load-best-model-at-end", "false", "--disable-tqdm", "true"]))
    config = assert_model_dir(out)
    assert "casing_features" not in config and config["architectures"] == ["BertForTokenClassification"]
    model = AutoModelForTokenClassification.from_pretrained(str(out))
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    logits = model(**tokenizer("Gunmen killed 12 in Goma.", return_tensors="pt")).logits
    assert logits.shape[-1] == len(ID2LABEL)
    assert model.config.id2label == ID2LABEL


# ---- a checkpoint whose head has other labels --------------------------------------------

@pytest.fixture(scope="module")
def foreign_heads(workspace) -> dict[str, Path]:
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    tokenizer = AutoTokenizer.from_pretrained(str(workspace["encoder"]))
    heads = {"three-labels": {0: "O", 1: "B-PER", 2: "I-PER"},
             "our-tags-reordered": dict(enumerate(sorted(ID2LABEL.values())))}
    out = {}
    for name, id2label in heads.items():
        folder = workspace["root"] / f"head-{name}"
        config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=128, num_labels=len(id2label), id2label=id2label,
                            label2id={v: k for k, v in id2label.items()})
        BertForTokenClassification(config).save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        out[name] = folder
    return out


def foreign_label_pattern(name: str) -> str:
    return "B-PER" if name == "three-labels" else re.escape(repr(sorted(ID2LABEL.values())))


@pytest.mark.parametrize("name", ["three-labels", "our-tags-reordered"])
@pytest.mark.parametrize("casing", ["true", "false"])
def test_training_from_a_head_with_other_labels_fails_loudly(workspace, foreign_heads, name, casing) -> None:
    args = parse_arguments(["--model-name-or-path", str(foreign_heads[name]), "--data-dir", str(workspace["data"]),
                            "--output-dir", str(workspace["root"] / f"never-{name}-{casing}"), "--casing-features", casing])
    with pytest.raises(CorpusError, match=foreign_label_pattern(name)) as exc:
        train(*args)
    assert str(foreign_heads[name]) in str(exc.value) and "label-map" in str(exc.value)
    assert not (workspace["root"] / f"never-{name}-{casing}" / "model.safetensors").exists()


def test_train_py_reports_the_foreign_head_and_exits_1(workspace, foreign_heads, capsys) -> None:
    spec = importlib.util.spec_from_file_location("train_script", TRAIN_PY)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    code = script.main(["--model-name-or-path", str(foreign_heads["three-labels"]), "--data-dir", str(workspace["data"]),
                        "--output-dir", str(workspace["root"] / "never-script")])
    assert code == 1
    err = capsys.readouterr().err
    assert "['O', 'B-PER', 'I-PER']" in err and "B-ACTOR" in err


@pytest.mark.parametrize("name", ["three-labels", "our-tags-reordered"])
def test_predicting_with_a_head_with_other_labels_fails_loudly(foreign_heads, name) -> None:
    from conflict_spans.model.predict import load_predictor

    with pytest.raises(CorpusError, match=foreign_label_pattern(name)):
        load_predictor(foreign_heads[name])


@pytest.mark.slow
def test_our_own_checkpoint_is_accepted_to_continue_from(reference_run) -> None:
    from conflict_spans.model.network import build_token_classifier, load_token_classifier

    saved = load_token_classifier(reference_run)
    continued = build_token_classifier(str(reference_run), casing_features=True)
    assert torch.equal(continued.classifier.weight, saved.classifier.weight)
    assert torch.equal(continued.casing.weight, saved.casing.weight)


# ---- GPU ---------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_a_gpu_uses_mixed_precision(workspace) -> None:
    out = workspace["root"] / "gpu"
    model_args, data_args, train_args = parse_arguments(["--model-name-or-path", str(workspace["encoder"]), "--data-dir", str(workspace["data"]),
                                                         "--output-dir", str(out), "--num-train-epochs", "2", "--max-length", "32",
                                                         "--save-strategy", "no", "--load-best-model-at-end", "false", "--disable-tqdm", "true"])
    expected = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    assert train_args.mixed_precision == expected and train_args.device.type == "cuda"
    metrics = train(model_args, data_args, train_args)
    assert (out / "model.safetensors").is_file() and "micro" in metrics["validation"]


# ---- training/benchmark.py -------------------------------------------------------------------

def test_benchmark_reports_speed_memory_and_per_label_f1(workspace) -> None:
    from conflict_spans.schema import LABEL_NAMES

    spec = importlib.util.spec_from_file_location("benchmark_script", ROOT / "training" / "benchmark.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    out = workspace["root"] / "benchmark"
    code = benchmark.main(["--out", str(out), "--quick", "--", "--model-name-or-path", str(workspace["encoder"]),
                           "--data-dir", str(workspace["data"]), "--max-length", "32", "--num-train-epochs", "2",
                           "--save-strategy", "no", "--load-best-model-at-end", "false"])
    assert code == 0
    result = json.loads((out / "benchmark.json").read_text(encoding="utf-8"))
    timing = result["timing"]
    assert timing["wall_seconds"] >= timing["train_loop_seconds"] > timing["validation_seconds"] > 0
    assert timing["train_examples_per_second"] > 0 and timing["train_tokens_per_second"] > timing["train_examples_per_second"]
    assert timing["peak_rss_mb"] > 50
    assert result["data"]["train_documents"] == 3 and result["data"]["epochs"] == 2
    assert set(result["validation"]) == {*LABEL_NAMES, "micro", "macro"}
    table = (out / "benchmark.md").read_text(encoding="utf-8")
    for row in (*LABEL_NAMES, "micro", "macro"):
        assert f"| {row} |" in table
    assert (out / "model" / "model.safetensors").is_file()
