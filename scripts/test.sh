#!/usr/bin/env bash
# Run the test suite: sets up .venv, the Label Studio server's own .venv-ls,
# Chromium, a migrated Label Studio template and PostgreSQL 15's binaries (all
# idempotent), then pytest.
# Arguments are passed to pytest (e.g. scripts/test.sh -m "not labelstudio").
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
scripts/setup.sh
.ci/labelstudio.sh
.ci/postgres.sh
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
