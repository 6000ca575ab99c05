"""train.py --teacher: knowledge distillation into a smaller student, and the teacher a user can get wrong."""
from __future__ import annotations

import json

import pytest
import torch

from conflict_spans.problems import CorpusError

from support import make_tiny_encoder, make_tiny_model, write_tiny_corpus


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """A tiny trained model of ours with two encoder layers."""
    work = tmp_path_factory.mktemp("teacher")
    encoder = make_tiny_encoder(work / "encoder", layers=2)
    from conflict_spans.model.train import parse_arguments, train

    data = write_tiny_corpus(work / "data")
    out = work / "model"
    train(*parse_arguments(["--model-name-or-path", str(encoder), "--data-dir", str(data), "--output-dir", str(out),
                            "--num-train-epochs", "5", "--max-length", "64", "--per-device-train-batch-size", "4",
                            "--learning-rate", "0.01", "--disable-tqdm", "true", "--save-strategy", "no",
                            "--load-best-model-at-end", "false"]))
    return out


def student_args(teacher, data, output, *extra) -> list[str]:
    return ["--model-name-or-path", str(teacher), "--num-layers", "1", "--teacher", str(teacher), "--data-dir", str(data),
            "--output-dir", str(output), "--num-train-epochs", "2", "--max-length", "64", "--per-device-train-batch-size", "4",
            "--learning-rate", "0.01", "--disable-tqdm", "true", "--save-strategy", "no", "--load-best-model-at-end", "false", *extra]


def test_a_student_is_distilled_from_the_teacher_and_starts_from_its_layers(teacher, tmp_path) -> None:
    from conflict_spans.model.network import load_token_classifier
    from conflict_spans.model.train import parse_arguments, train

    data = write_tiny_corpus(tmp_path / "data")
    out = tmp_path / "student"
    metrics = train(*parse_arguments(student_args(teacher, data, out)))
    student = load_token_classifier(out)
    assert student.config.num_hidden_layers == 1
    assert json.loads((out / "train_config.json").read_text())["model"]["teacher"] == str(teacher)
    assert 0.0 <= metrics["validation_micro_f1"] <= 1.0
    # the casing embedding the teacher learned was the student's start (its first layer too; training then moved them)
    big = load_token_classifier(teacher)
    assert student.casing.weight.shape == big.casing.weight.shape


def distill_loss(teacher_model, student_model, alpha: float, temperature: float):
    from conflict_spans.model.train import _trainer_class

    trainer = _trainer_class().__new__(_trainer_class())  # compute_loss alone: no Trainer set-up needed
    trainer.teacher, trainer.distill_alpha, trainer.distill_temperature = teacher_model, alpha, temperature
    torch.manual_seed(0)
    inputs = {"input_ids": torch.randint(1000, 2000, (2, 12)), "attention_mask": torch.ones(2, 12, dtype=torch.long),
              "casing_ids": torch.randint(0, 3, (2, 12)), "labels": torch.randint(0, 9, (2, 12))}
    inputs["labels"][0, 0] = -100
    return trainer.compute_loss(student_model, inputs), student_model(**inputs).loss


def test_the_loss_mixes_gold_cross_entropy_and_the_teachers_distribution(teacher) -> None:
    from conflict_spans.model.network import load_token_classifier

    big = load_token_classifier(teacher).eval()
    same = load_token_classifier(teacher).eval()
    loss, gold = distill_loss(big, same, alpha=1.0, temperature=2.0)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)  # a student that is the teacher has nothing to learn from it
    loss, gold = distill_loss(big, same, alpha=0.0, temperature=2.0)
    assert loss.item() == pytest.approx(gold.item())  # alpha 0: the gold labels only
    other = load_token_classifier(teacher).eval()
    with torch.no_grad():
        other.classifier.weight.add_(torch.randn_like(other.classifier.weight))
    loss, gold = distill_loss(big, other, alpha=0.5, temperature=2.0)
    kd, _ = distill_loss(big, other, alpha=1.0, temperature=2.0)
    assert kd.item() > 0
    assert loss.item() == pytest.approx(0.5 * gold.item() + 0.5 * kd.item(), rel=1e-5)


def assert_refused(teacher, bad_teacher, tmp_path, *named: str) -> None:
    """train() with ``--teacher bad_teacher`` stops with a message naming ``named``, and writes no run folder."""
    from conflict_spans.model.train import parse_arguments, train

    data = write_tiny_corpus(tmp_path / "data")
    out = tmp_path / "student"
    args = student_args(teacher, data, out)
    args[args.index("--teacher") + 1] = str(bad_teacher)
    with pytest.raises(CorpusError) as info:
        train(*parse_arguments(args))
    for word in named:
        assert word in str(info.value), (word, str(info.value))
    assert not out.exists()


def test_a_missing_teacher_is_refused_before_anything_is_written(teacher, tmp_path) -> None:
    assert_refused(teacher, tmp_path / "no-such-model", tmp_path, "--teacher", "no-such-model")


def test_a_teacher_with_another_vocabulary_is_refused(teacher, tmp_path) -> None:
    from transformers import BertTokenizerFast

    other = tmp_path / "other-vocab"
    other.mkdir()
    for name in ("config.json", "model.safetensors"):
        (other / name).write_bytes((teacher / name).read_bytes())
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "killed", "in"]) + "\n")
    BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt")).save_pretrained(str(other))
    assert_refused(teacher, other, tmp_path, "vocabulary", str(other))


def test_a_teacher_without_the_students_casing_features_is_refused(teacher, tmp_path) -> None:
    plain = make_tiny_model(tmp_path / "plain", casing_features=False, epochs=1)
    assert_refused(teacher, plain, tmp_path, "casing", "--casing-features")
