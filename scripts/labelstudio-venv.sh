#!/usr/bin/env bash
# Create .venv-ls (the Label Studio server's own virtualenv) idempotently.
#
# Label Studio pins many packages (Django, ...) that must not leak into the
# project's .venv, so the server lives in a virtualenv of its own. Running the
# script again is cheap: it checks the installed version and exits.
#
# Usage: scripts/labelstudio-venv.sh [VENV_DIR]   (default: <repo>/.venv-ls)
set -euo pipefail

LS_VERSION="1.23.2"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv_dir="${1:-${LABEL_STUDIO_VENV:-$repo_root/.venv-ls}}"
python_bin="${PYTHON:-python3}"

installed_version() {
    "$venv_dir/bin/python" - <<'PY' 2>/dev/null || true
from importlib.metadata import version
print(version("label-studio"))
PY
}

if [[ -x "$venv_dir/bin/label-studio" && "$(installed_version)" == "$LS_VERSION" ]]; then
    echo "label-studio $LS_VERSION already installed in $venv_dir"
    exit 0
fi

if [[ ! -x "$venv_dir/bin/python" ]]; then
    echo "creating $venv_dir with $python_bin"
    "$python_bin" -m venv "$venv_dir"
fi
"$venv_dir/bin/python" -m pip install --upgrade --quiet pip
echo "installing label-studio==$LS_VERSION into $venv_dir (takes a few minutes)"
"$venv_dir/bin/python" -m pip install --quiet "label-studio==$LS_VERSION"

got="$(installed_version)"
if [[ "$got" != "$LS_VERSION" ]]; then
    echo "error: expected label-studio $LS_VERSION in $venv_dir, found '${got:-nothing}'" >&2
    exit 1
fi
echo "label-studio $got installed in $venv_dir"
