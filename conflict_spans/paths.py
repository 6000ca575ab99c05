"""Default locations, the same from a checkout and from an installed wheel.

From a checkout (a ``pyproject.toml`` and ``corpus/`` beside the package), the
bundled corpus is the checkout's ``corpus/`` folder, which ``build`` writes.
From a wheel it is the copy shipped as package data
(``conflict_spans/resources/corpus``), read-only, with the same layout. Paths a
user gives always win; nothing here is written to unless a user asks.
"""

from __future__ import annotations

from pathlib import Path

from conflict_spans.resources import resource_path


def _checkout() -> Path | None:
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "corpus").is_dir() else None


CHECKOUT: Path | None = _checkout()  # the repository this package runs from, if any
CORPUS_DIR = CHECKOUT / "corpus" if CHECKOUT else resource_path("corpus")
SOURCE_DIR = CORPUS_DIR / "src"  # authoring sources: a checkout only
DATA_DIR = CORPUS_DIR / "data"
SPLITS_FILE = CORPUS_DIR / "splits.json"
CONFLICTS_FILE = CORPUS_DIR / "conflicts.json"
PROVENANCE_REVIEW = CORPUS_DIR / "provenance_review.tsv"
COUNTS_GOLD = CORPUS_DIR / "counts_gold.tsv"  # hand-written figures of CASUALTY spans (records evaluation)
# where tools keep their state by default (Label Studio's virtualenv and data): the checkout, else the current folder
WORK_DIR = CHECKOUT or Path.cwd()


def split_file(split: str, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"{split}.jsonl"
