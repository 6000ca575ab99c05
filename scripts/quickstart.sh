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
# validation first (selection split of both trained systems), then test with the baselines, re3d and the
# part-1 test documents as a subset; the test run rewrites README.md's results block from both reports
.venv/bin/python eval/evaluate.py --model runs/default --split validation --baselines spacy-finetuned --no-re3d \
    --no-model-card --out eval/results/validation
.venv/bin/python eval/evaluate.py --model runs/default --out eval/results \
    --subset part1=corpus/part1_ids.txt --readme README.md
echo "model: runs/default   report: eval/results/report.md"
