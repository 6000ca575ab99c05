#!/usr/bin/env python
"""Fine-tune a token-classification model on the conflict-spans corpus.

    python training/train.py --output-dir runs/default
    python training/train.py --config training/configs/default.yaml --output-dir runs/x --learning-rate 1e-4
    torchrun --nproc_per_node 2 training/train.py --output-dir runs/ddp

Every argument is listed by ``--help``; defaults are the tuned default configuration.
"""

from __future__ import annotations

import json
import sys

from conflict_spans import problems as catalogue
from conflict_spans.model.train import parse_arguments, train
from conflict_spans.problems import CorpusError


def main(argv: list[str] | None = None) -> int:
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
