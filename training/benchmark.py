#!/usr/bin/env python
"""Time the default training configuration and report its validation scores.

    python training/benchmark.py --out runs/benchmark                  # default configuration, bundled corpus
    python training/benchmark.py --out runs/bench-quick --quick        # a fraction: 32 train / 8 validation documents, 1 epoch
    python training/benchmark.py --out runs/bench-x -- --max-length 256 --casing-features false   # train.py flags after --

Trains with training/train.py's code path (``parse_arguments`` + ``train``, so the
same defaults, or ``--config FILE``) in this process, with the model written to
OUT/model, and writes OUT/benchmark.json and OUT/benchmark.md: wall time, training
windows (examples) and tokens per second, peak resident memory (and peak GPU
memory on CUDA), and validation strict P/R/F1 per label. The test split is never read.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

QUICK_ARGS = ["--max-train-docs", "32", "--max-eval-docs", "8", "--num-train-epochs", "1"]


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports kilobytes, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def count_training_tokens(model_args, data_args, metrics: dict[str, Any]) -> tuple[int, int]:
    """(windows, non-padding tokens) in one epoch, encoded exactly as train() encodes them."""
    from transformers import AutoConfig, AutoTokenizer

    from conflict_spans.corpus.io import read_documents
    from conflict_spans.model.train import encode_split, resolve_model_path
    from conflict_spans.model.windows import model_max_length
    from conflict_spans.paths import split_file

    path = resolve_model_path(model_args.model_name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    max_length = min(data_args.max_length, model_max_length(tokenizer, AutoConfig.from_pretrained(path)))
    stride = min(data_args.stride, max_length // 2)
    docs = read_documents(split_file("train", Path(data_args.data_dir)))[: data_args.max_train_docs]
    _, rows, _ = encode_split(tokenizer, docs, max_length, stride)
    if len(rows) != metrics["train_windows"]:
        raise RuntimeError(f"re-encoding gave {len(rows)} windows, training used {metrics['train_windows']}")
    return len(rows), sum(sum(r["attention_mask"]) for r in rows)


def environment(train_args) -> dict[str, Any]:
    import torch
    import transformers

    env = {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
           "platform": platform.platform(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
           "device": str(train_args.device), "mixed_precision": train_args.mixed_precision,
           "world_size": train_args.world_size}
    if torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name(0)
    return env


def run(out: Path, train_argv: list[str]) -> dict[str, Any]:
    import torch

    from conflict_spans.model.train import parse_arguments, train

    model_args, data_args, train_args = parse_arguments([*train_argv, "--output-dir", str(out / "model")])
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    metrics = train(model_args, data_args, train_args)
    wall = time.perf_counter() - started
    windows, tokens = count_training_tokens(model_args, data_args, metrics)
    final = next(h for h in reversed(metrics["log_history"]) if "train_runtime" in h)
    loop = final["train_runtime"]  # Trainer.train(): steps, per-epoch validation, checkpoints
    validation = sum(h.get("eval_seconds", 0.0) for h in metrics["log_history"])
    train_runtime = max(loop - validation, 1e-9)
    epochs = float(train_args.num_train_epochs)
    result = {
        "command": "python training/benchmark.py " + " ".join(sys.argv[1:]),
        "train_arguments": train_argv,
        "environment": environment(train_args),
        "data": {"train_documents": metrics["train_documents"], "validation_documents": metrics["validation_documents"],
                 "train_windows_per_epoch": windows, "train_tokens_per_epoch": tokens, "epochs": epochs,
                 "max_length": data_args.max_length, "stride": data_args.stride},
        "timing": {
            "wall_seconds": round(wall, 2),
            "train_loop_seconds": round(loop, 2),
            "validation_seconds": round(validation, 4),
            "train_examples_per_second": round(windows * epochs / train_runtime, 2),
            "train_tokens_per_second": round(tokens * epochs / train_runtime, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
        "validation": metrics["validation"],
        "model_dir": str(out / "model"),
    }
    if torch.cuda.is_available():
        result["timing"]["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return result


def to_markdown(result: dict[str, Any]) -> str:
    from conflict_spans.schema import LABEL_NAMES

    env, data, timing = result["environment"], result["data"], result["timing"]
    lines = [
        "# Training benchmark", "",
        f"`{result['command']}`", "",
        f"Device: {env.get('gpu', env['device'])} ({env['mixed_precision']} mixed precision; {env['cpu_count']} CPUs, "
        f"{env['torch_threads']} torch threads); torch {env['torch']}, transformers {env['transformers']}.", "",
        f"Data: {data['train_documents']} training documents = {data['train_windows_per_epoch']} windows, "
        f"{data['train_tokens_per_epoch']} tokens per epoch; epochs: {data['epochs']:g}; "
        f"{data['validation_documents']} validation documents.", "",
        "| measure | value |", "| --- | ---: |",
        f"| wall time (s) | {timing['wall_seconds']:.1f} |",
        f"| training loop (s) | {timing['train_loop_seconds']:.1f} |",
        f"| of which validation (s) | {timing['validation_seconds']:.1f} |",
        f"| training examples (windows) / s | {timing['train_examples_per_second']:.2f} |",
        f"| training tokens / s | {timing['train_tokens_per_second']:.0f} |",
        f"| peak resident memory (MB) | {timing['peak_rss_mb']:.0f} |",
    ]
    if "peak_gpu_memory_mb" in timing:
        lines.append(f"| peak GPU memory (MB) | {timing['peak_gpu_memory_mb']:.0f} |")
    lines += ["", "Validation, strict entity match (start, end and label):", "",
              "| label | precision | recall | F1 | support |", "| --- | ---: | ---: | ---: | ---: |"]
    for row in (*LABEL_NAMES, "micro", "macro"):
        s = result["validation"][row]
        lines.append(f"| {row} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |")
    lines += ["", "Examples are training windows, tokens exclude padding; both are per second of the training loop "
                  "less its per-epoch validation (checkpoint writing stays in). Wall time covers encoding, training, "
                  "validation, selection and saving."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    train_argv = []
    if "--" in argv:
        i = argv.index("--")
        argv, train_argv = argv[:i], argv[i + 1:]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for benchmark.json, benchmark.md and the trained model (OUT/model)")
    parser.add_argument("--quick", action="store_true", help=f"a fraction of the corpus: {' '.join(QUICK_ARGS)} (flags after -- still win)")
    parser.add_argument("--config", help="YAML/JSON file of train.py arguments (default: the dataclass defaults = training/configs/default.yaml)")
    args = parser.parse_args(argv)
    if any(a.split("=")[0] in ("--output-dir", "--output_dir") for a in train_argv):
        parser.error("the model goes to OUT/model: leave --output-dir out of the train.py flags")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    full_argv = [*(["--config", args.config] if args.config else []), *(QUICK_ARGS if args.quick else []), "--disable-tqdm", "true", *train_argv]
    from conflict_spans.problems import CorpusError

    try:
        result = run(out, full_argv)
    except CorpusError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    (out / "benchmark.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (out / "benchmark.md").write_text(to_markdown(result), encoding="utf-8")
    print(to_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
