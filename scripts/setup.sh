#!/usr/bin/env bash
# Create .venv and install conflict-spans with its pinned dependencies; idempotent.
#
# torch is installed first and alone, so that pip takes the CPU wheel
# (torch==2.13.0) instead of resolving a multi-GB CUDA build for a dependent.
# A stamp of pyproject.toml's hash makes a second run a no-op.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
venv=".venv"
python_bin="${PYTHON:-python3}"
stamp="$venv/.conflict-spans-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/conflict-spans" ]]; then
    exit 0
fi
if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating $venv"
    "$python_bin" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
torch_pin="$(grep -o '"torch==[^"]*"' pyproject.toml | tr -d '"')"
echo "installing $torch_pin (CPU wheel) first"
"$venv/bin/python" -m pip install --quiet "$torch_pin"
echo "installing conflict-spans and its pinned dependencies"
"$venv/bin/python" -m pip install --quiet -e ".[dev]"
echo "$want" > "$stamp"
