"""Where the bundled corpus lives (the repository checkout this package runs from)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(os.environ.get("CONFLICT_SPANS_ROOT", Path(__file__).resolve().parents[1]))
CORPUS_DIR = REPO_ROOT / "corpus"
SOURCE_DIR = CORPUS_DIR / "src"
DATA_DIR = CORPUS_DIR / "data"
SPLITS_FILE = CORPUS_DIR / "splits.json"


def split_file(split: str, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"{split}.jsonl"
