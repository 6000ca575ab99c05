#!/usr/bin/env bash
# Prepare what the Label Studio tests need (markers labelstudio, browser); idempotent.
#
#   1. .venv-ls with label-studio 1.23.2        (scripts/labelstudio-venv.sh)
#   2. Chromium from Debian at /usr/bin/chromium (apt-get; never `playwright install`)
#   3. the playwright Python package in .venv
#   4. the migrated template data dir .ls-data/template (first start migrates
#      the database, about a minute; test sessions copy it and start in seconds)
#
# Usage: .ci/labelstudio.sh        (from anywhere; PROJECT_PYTHON overrides .venv/bin/python)
set -euo pipefail

PLAYWRIGHT_VERSION="1.65.2"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python_bin="${PROJECT_PYTHON:-$repo_root/.venv/bin/python}"
cd "$repo_root"

"$repo_root/scripts/labelstudio-venv.sh"

if [[ ! -x /usr/bin/chromium ]]; then
    echo "installing Debian chromium"
    if [[ "$(id -u)" -eq 0 ]]; then
        apt-get update -qq && apt-get install -y -qq chromium
    elif command -v sudo >/dev/null; then
        sudo apt-get update -qq && sudo apt-get install -y -qq chromium
    else
        echo "error: /usr/bin/chromium is missing and this user cannot apt-get install chromium" >&2
        exit 1
    fi
fi

if ! "$python_bin" -c "import playwright, importlib.metadata as m; assert m.version('playwright') == '$PLAYWRIGHT_VERSION'" 2>/dev/null; then
    echo "installing playwright==$PLAYWRIGHT_VERSION into $(dirname "$(dirname "$python_bin")")"
    "$python_bin" -m pip install --quiet "playwright==$PLAYWRIGHT_VERSION"
fi

"$python_bin" -m conflict_spans.cli ls server template
echo "Label Studio test prerequisites ready"
