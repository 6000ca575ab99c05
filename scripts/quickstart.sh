#!/usr/bin/env bash
# Quickstart: check the bundled corpus, train the default model, evaluate it on
# the held-out test split next to the baselines. Idempotent; outputs go to
# runs/default (the model) and eval/results (the report).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
scripts/setup.sh
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/conflict-spans validate corpus/src
.venv/bin/conflict-spans stats corpus
.venv/bin/python training/train.py --output-dir runs/default "$@"
.venv/bin/python eval/evaluate.py --model runs/default --out eval/results
echo "model: runs/default   report: eval/results/report.md"
