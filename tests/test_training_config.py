"""train.py's arguments: dataclasses with help text, readable from YAML/JSON config files as well as flags."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conflict_spans.model.train import DataArguments, ModelArguments, TrainArguments, parse_arguments

ROOT = Path(__file__).resolve().parents[1]
TRAIN_PY = ROOT / "training" / "train.py"
DEFAULT_YAML = ROOT / "training" / "configs" / "default.yaml"


def own_fields(cls) -> list[dataclasses.Field]:
    """Fields declared by the class itself (for TrainArguments: the defaults we override)."""
    names = cls.__dict__.get("__annotations__", {})
    return [f for f in dataclasses.fields(cls) if f.name in names]


def as_dicts(parsed) -> dict:
    model_args, data_args, train_args = parsed
    return {"model": dataclasses.asdict(model_args), "data": dataclasses.asdict(data_args), "training": train_args.to_dict()}


@pytest.fixture(scope="module")
def help_text() -> str:
    proc = subprocess.run([sys.executable, str(TRAIN_PY), "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# ---- --help -------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--casing-features", "--casing_features", "--no-casing-features", "--max-length", "--max_length",
                                  "--predict-stride", "--predict_stride", "--stride", "--output-dir", "--output_dir",
                                  "--resume", "--config", "--learning-rate", "--num-train-epochs", "--seed", "--data-dir"])
def test_help_mentions_flag(help_text: str, flag: str) -> None:
    assert f"{flag} " in help_text or f"{flag}," in help_text or f"{flag}\n" in help_text


def test_help_documents_every_argument(help_text: str) -> None:
    init_fields = [f for cls in (ModelArguments, DataArguments, TrainArguments) for f in dataclasses.fields(cls) if f.init]
    missing = [f.name for f in init_fields if f"--{f.name}" not in help_text or f"--{f.name.replace('_', '-')}" not in help_text]
    assert not missing, f"not in --help: {missing}"


@pytest.mark.parametrize("cls", [ModelArguments, DataArguments, TrainArguments])
def test_every_argument_of_ours_has_help_text(cls) -> None:
    undocumented = [f.name for f in own_fields(cls) if len(f.metadata.get("help", "")) < 10]
    assert not undocumented


def test_help_shows_our_help_text(help_text: str) -> None:
    flat = " ".join(help_text.split())
    for f in own_fields(ModelArguments) + own_fields(DataArguments):
        first_words = " ".join(f.metadata["help"].split()[:5])
        assert first_words in flat, f.name


# ---- config files -----------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_default_config_parses_to_the_dataclass_defaults(tmp_path: Path, fmt: str) -> None:
    config = DEFAULT_YAML
    if fmt == "json":  # the same configuration as JSON
        config = tmp_path / "default.json"
        config.write_text(json.dumps(yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))), encoding="utf-8")
    out = str(tmp_path / "run")
    without = as_dicts(parse_arguments(["--output-dir", out]))
    with_file = as_dicts(parse_arguments(["--config", str(config), "--output-dir", out]))
    assert with_file == without


def test_default_yaml_spells_out_every_default_of_ours() -> None:
    written = yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))
    ours = {f.name for cls in (ModelArguments, DataArguments, TrainArguments) for f in own_fields(cls)}
    # output_dir is per run; data_dir defaults to the bundled corpus wherever the package is installed
    assert set(written) == ours - {"output_dir", "data_dir"}


CONFIG_VALUES = {"learning_rate": 0.001, "num_train_epochs": 2, "max_length": 64, "predict_stride": 8, "casing_features": False,
                 "max_train_docs": 5, "seed": 7, "decoding": "greedy", "report_to": ["none"]}


def write_config(folder: Path, fmt: str, values: dict) -> Path:
    path = folder / f"config.{fmt}"
    path.write_text(yaml.safe_dump(values) if fmt == "yaml" else json.dumps(values), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_config_file_sets_arguments(tmp_path: Path, fmt: str) -> None:
    config = write_config(tmp_path, fmt, CONFIG_VALUES)
    model_args, data_args, train_args = parse_arguments(["--config", str(config), "--output-dir", str(tmp_path / "run")])
    assert (model_args.casing_features, model_args.decoding) == (False, "greedy")
    assert (data_args.max_length, data_args.predict_stride, data_args.max_train_docs) == (64, 8, 5)
    assert (train_args.learning_rate, train_args.num_train_epochs, train_args.seed) == (0.001, 2, 7)
    assert train_args.report_to == []


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("config_flag", ["--config", "--config="])
def test_flags_override_the_config_file(tmp_path: Path, fmt: str, config_flag: str) -> None:
    config = write_config(tmp_path, fmt, {**CONFIG_VALUES, "output_dir": str(tmp_path / "from-file")})
    head = [f"--config={config}"] if config_flag.endswith("=") else ["--config", str(config)]
    # flags before and after --config both win over the file
    model_args, data_args, train_args = parse_arguments(["--seed", "3", *head, "--learning-rate", "0.5", "--casing-features", "true",
                                                         "--max_length", "32", "--output-dir", str(tmp_path / "from-flag")])
    assert train_args.seed == 3 and train_args.learning_rate == 0.5
    assert model_args.casing_features is True and data_args.max_length == 32
    assert train_args.output_dir == str(tmp_path / "from-flag")
    assert data_args.predict_stride == 8  # not given as a flag: the file's value


def test_null_in_config_file_means_none(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("max_train_docs: null\nmax-eval-docs: 3\nsave_total_limit: null\n", encoding="utf-8")
    _, data_args, train_args = parse_arguments(["--config", str(config), "--output-dir", str(tmp_path)])
    assert data_args.max_train_docs is None and data_args.max_eval_docs == 3 and train_args.save_total_limit is None


@pytest.mark.parametrize("argv", [["--output-dir", "X"], ["--output_dir", "X"], ["--output-dir=X"], ["--output_dir=X"]])
def test_output_dir_spellings(tmp_path: Path, argv: list[str]) -> None:
    out = str(tmp_path / "run")
    _, _, train_args = parse_arguments([a.replace("X", out) for a in argv])
    assert train_args.output_dir == out


def test_boolean_flag_forms(tmp_path: Path) -> None:
    out = ["--output-dir", str(tmp_path)]
    assert parse_arguments(out)[0].casing_features is True
    assert parse_arguments(["--no-casing-features", *out])[0].casing_features is False
    assert parse_arguments(["--casing_features", "false", *out])[0].casing_features is False
    assert parse_arguments(["--resume", *out])[2].resume is True


@pytest.mark.parametrize("argv, message", [
    ([], "--output-dir is required"),
    (["--output-dir", "X", "--no-such-argument", "1"], "unrecognised arguments"),
    (["--output-dir", "X", "--config"], "--config needs a file name"),
])
def test_bad_command_lines_exit_with_a_message(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_arguments(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("content", ["no_such_argument: 1\n", "no_such_argument: null\n"])
def test_unknown_key_in_config_file_is_an_error(tmp_path: Path, content: str, capsys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit):
        parse_arguments(["--config", str(config), "--output-dir", str(tmp_path)])
    assert "no_such_argument" in capsys.readouterr().err


def test_config_file_must_be_a_mapping(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="one mapping"):
        parse_arguments(["--config", str(config), "--output-dir", str(tmp_path)])


@pytest.mark.parametrize("config", sorted((ROOT / "training" / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_committed_configs_name_only_known_arguments(config: Path) -> None:
    known = {f.name for cls in (ModelArguments, DataArguments, TrainArguments) for f in dataclasses.fields(cls)}
    assert set(yaml.safe_load(config.read_text(encoding="utf-8"))) <= known


# ---- mixed precision on a GPU ---------------------------------------------------------------

@pytest.mark.parametrize("bf16, fp16, on_gpu, bf16_supported, expected", [
    (None, None, True, True, (True, False)),    # a GPU with bf16 (A100, H100): bf16
    (None, None, True, False, (False, True)),   # an older GPU: fp16
    (None, None, False, True, (False, False)),  # CPU: float32
    (False, None, True, True, (False, False)),  # --bf16 false on a GPU: float32
    (None, True, True, True, (False, True)),    # --fp16 on a bf16 GPU: fp16
    (True, None, False, False, (True, False)),  # asked for: passed on (and checked by transformers)
])
def test_mixed_precision_choice(monkeypatch, bf16, fp16, on_gpu, bf16_supported, expected) -> None:
    import torch

    from conflict_spans.model.train import choose_mixed_precision

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16_supported)
    assert choose_mixed_precision(bf16, fp16, on_gpu=on_gpu) == expected


def test_mixed_precision_is_chosen_before_transformers_fixes_it(monkeypatch, tmp_path: Path) -> None:
    """TrainingArguments.__post_init__ turns bf16/fp16 into mixed_precision; a choice made after parsing is ignored."""
    import torch

    from conflict_spans.model import train as training

    if torch.cuda.is_available():
        pytest.skip("on a GPU, test_training_run checks the real choice")
    _, _, on_cpu = parse_arguments(["--output-dir", str(tmp_path)])
    assert (on_cpu.bf16, on_cpu.fp16, on_cpu.mixed_precision) == (False, False, "no")
    calls = []

    def as_on_a_bf16_gpu(bf16, fp16, *, on_gpu):
        calls.append((bf16, fp16, on_gpu))
        return True, False

    monkeypatch.setattr(training, "choose_mixed_precision", as_on_a_bf16_gpu)
    # use_cpu lets transformers accept bf16 without a GPU here
    _, _, args = parse_arguments(["--output-dir", str(tmp_path), "--use-cpu", "true"])
    assert calls == [(None, None, False)]
    assert (args.bf16, args.mixed_precision) == (True, "bf16")


def test_tiny_config_parses(tmp_path: Path) -> None:
    _, data_args, train_args = parse_arguments(["--config", str(ROOT / "training" / "configs" / "tiny.yaml"), "--output-dir", str(tmp_path)])
    assert (data_args.max_train_docs, data_args.max_length, train_args.num_train_epochs) == (8, 64, 1)
    assert train_args.save_strategy == "no" and train_args.load_best_model_at_end is False
