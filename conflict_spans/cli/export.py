"""``conflict-spans export --onnx``: a trained model as an ONNX model folder that ``predict --model`` runs in ONNX Runtime."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_export(args: argparse.Namespace) -> int:
    from conflict_spans.model.onnx import export_onnx

    info = export_onnx(Path(args.model), Path(args.output), int8=args.int8)
    files = ", ".join(info["files"])
    print(f"{files} -> {args.output} (inputs {', '.join(info['inputs'])}; largest logit difference from torch "
          f"{info['max_abs_logit_difference_fp32']:.2g} fp32" + (f", {info['max_abs_logit_difference_int8']:.2g} int8" if args.int8 else "") + ")")
    print(f"predict with: conflict-spans predict --model {args.output} INPUT -o OUTPUT")
    return 0


def register(sub) -> None:
    p = sub.add_parser("export", help="export a trained model to ONNX (fp32, and int8 with --int8) for prediction in ONNX Runtime")
    p.add_argument("--onnx", action="store_true", required=True, help="export to ONNX (the one format so far; required)")
    p.add_argument("--model", required=True, help="model directory written by training/train.py")
    p.add_argument("-o", "--output", required=True, help="a new or empty folder, not inside --model: model.onnx, the tokenizer and configs, export.json; "
                   "predict --model OUTPUT runs it")
    p.add_argument("--int8", action="store_true", help="also write model.int8.onnx (int8 weights, ONNX Runtime dynamic quantization)")
    p.set_defaults(func=cmd_export)
